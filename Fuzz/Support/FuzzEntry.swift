// The two ways a harness runs: libFuzzer's callback (in a -DFUZZING build) and a replay of files (otherwise).
import CFuzzDriver

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Glue shared by the harness executables.
package enum FuzzEntry {
    /// Runs one libFuzzer input; an input that breaks an invariant aborts, so libFuzzer saves it as a crash.
    /// - Parameters:
    ///   - data: libFuzzer's buffer (may be `nil` when `count` is 0).
    ///   - count: its length.
    ///   - harness: the harness function.
    /// - Returns: 0, as libFuzzer requires for inputs that did not crash.
    package static func fuzz(
        _ data: UnsafePointer<UInt8>?, _ count: Int, harness: (UnsafeRawBufferPointer) -> FuzzOutcome
    ) -> Int32 {
        let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : count)
        if case .invariantBroken(let problem) = harness(bytes) {
            printError("fuzz harness: invariant broken: \(problem)")
            abort()
        }
        return 0
    }

    /// The fuzzer's `main`: hands the command line (libFuzzer's options, corpus folders) to libFuzzer's driver.
    /// - Parameter testOneInput: the harness's `LLVMFuzzerTestOneInput`.
    package static func fuzzerMain(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        let status = CFuzzDriver_run(&argc, &argv, testOneInput)
        if status == -1 { printError("this harness was built without -sanitize=fuzzer: run scripts/fuzz.sh") }
        exit(status)
    }

    /// The replay tool's `main`: replays the files named on the command line and exits with `replay`'s status.
    package static func replayMain(harness: (UnsafeRawBufferPointer) -> FuzzOutcome) -> Never {
        exit(replay(arguments: Array(CommandLine.arguments.dropFirst()), harness: harness))
    }

    /// Replays files through the harness and prints one verdict per file.
    /// - Returns: the exit status: 1 when an invariant broke or a file could not be read, else 0.
    package static func replay(arguments: [String], harness: (UnsafeRawBufferPointer) -> FuzzOutcome) -> Int32 {
        guard !arguments.isEmpty else {
            printError("usage: harness FILE... (replays each file through the fuzz harness)")
            return 2
        }
        var status: Int32 = 0
        for path in arguments {
            guard let bytes = readFile(path) else {
                printError("\(path): cannot read")
                status = 1
                continue
            }
            let outcome = bytes.withUnsafeBytes { harness($0) }
            print("\(path): \(outcome)")
            if case .invariantBroken = outcome { status = 1 }
        }
        return status
    }

    /// The whole file, or `nil` when it cannot be read.
    package static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count > 0 { bytes.append(contentsOf: chunk[..<count]) }
            if count < chunk.count { return ferror(file) == 0 ? bytes : nil }
        }
    }

    /// Writes one line to standard error (the C `stderr` global is not concurrency-safe to name from Swift 6).
    private static func printError(_ line: String) {
        let text = Array((line + "\n").utf8)
        _ = text.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
