// `picpipe --version`: picpipe's version and every C library it runs with, so a user can check them against
// security advisories.
import ImageCore
import MetadataService
import PipelineCore

/// The text `--version` prints.
enum VersionReport {
    /// picpipe's own version.
    static let picpipe = "0.3.0"

    /// One line per library: name, version, file.
    static var text: String {
        let libraries = LinkedLibrary.imageLibraries() + [.libexif, .sqlite]
        let width = libraries.map(\.name.count).max() ?? 0
        let lines = libraries.map { library in
            let name = library.name.padding(toLength: width, withPad: " ", startingAt: 0)
            return "  \(name)  \(library.version)" + (library.file.map { "  \($0)" } ?? "")
        }
        return (["picpipe \(picpipe)", "libraries:"] + lines).joined(separator: "\n")
    }
}
