// Writing to standard output and standard error without buffering surprises.
import Foundation

/// A tiny writer over a file handle: progress lines and errors go to stderr, results to stdout.
struct FileHandleOutput: Sendable {
    let handle: FileHandle

    static let standardError = FileHandleOutput(handle: .standardError)
    static let standardOutput = FileHandleOutput(handle: .standardOutput)

    /// Writes text as UTF-8.
    func write(_ text: String) {
        handle.write(Data(text.utf8))
    }

    /// Whether this handle is a terminal.
    var isTerminal: Bool { isatty(handle.fileDescriptor) == 1 }
}
