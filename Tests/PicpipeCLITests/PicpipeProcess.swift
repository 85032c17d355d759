// Running the real `picpipe` binary from tests, the way a user does.
import Foundation
import Synchronization

/// The built `picpipe` executable and a way to run it.
enum PicpipeProcess {
    /// What a run printed and returned.
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The package root (this file is Tests/PicpipeCLITests/PicpipeProcess.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The corpus beside the checkout, when present.
    static let corpus = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus")
    static var hasCorpus: Bool {
        FileManager.default.fileExists(atPath: corpus.appendingPathComponent("MANIFEST.tsv").path)
    }

    /// `PICPIPE_TEST_BINARY` when set (the suite run against another build, e.g. the release binary linked with
    /// `--static-swift-stdlib`), else the binary beside the test bundle (the same build), else `.build/debug/picpipe`.
    static let binary: URL = {
        if let named = ProcessInfo.processInfo.environment["PICPIPE_TEST_BINARY"], !named.isEmpty {
            return URL(fileURLWithPath: named)
        }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("picpipe")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return packageRoot.appendingPathComponent(".build/debug/picpipe")
    }()

    /// Runs `picpipe ARGS` and waits for it (at most `timeout` seconds, then it is killed).
    static func run(
        _ arguments: [String], environment: [String: String] = [:], currentDirectory: URL? = nil,
        timeout: Double = 300
    ) async throws -> Output {
        // The test's own store or configuration must not leak into the command.
        var inherited = ProcessInfo.processInfo.environment
        inherited.removeValue(forKey: "PICPIPE_STORE")
        inherited.removeValue(forKey: "PICPIPE_CONFIG")
        return try await run(
            executable: binary, arguments, environment: inherited.merging(environment) { $1 },
            currentDirectory: currentDirectory, timeout: timeout)
    }

    /// Runs any program with exactly this environment, its output sent to files (a pipe could fill and block it),
    /// and waits for it (at most `timeout` seconds, then it is killed).
    static func run(
        executable: URL, _ arguments: [String], environment: [String: String], currentDirectory: URL? = nil,
        timeout: Double = 300
    ) async throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("picpipe-out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try await process.runToExit(timeout: timeout)
        try out.close()
        try err.close()
        return Output(
            status: process.terminationStatus,
            stdout: String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self),
            stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
    }

    /// Starts `picpipe ARGS` without waiting (a test signals it), without the test's own store or configuration in
    /// its environment, its output in `folder`'s files `stdout` and `stderr`.
    static func launch(_ arguments: [String], environment: [String: String] = [:], outputIn folder: URL) throws
        -> (process: Process, stdout: URL, stderr: URL)
    {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var inherited = ProcessInfo.processInfo.environment
        inherited.removeValue(forKey: "PICPIPE_STORE")
        inherited.removeValue(forKey: "PICPIPE_CONFIG")
        process.environment = inherited.merging(environment) { $1 }
        let out = folder.appendingPathComponent("stdout")
        let err = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        return (process, out, err)
    }

    /// A fresh temporary folder, removed by the caller.
    static func temporaryFolder(_ label: String = "picpipe-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Every regular file under a folder, as paths relative to it.
    static func files(under folder: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        else { return [] }
        var found: [String] = []
        for case let url as URL in walker
        where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            found.append(String(url.path.dropFirst(folder.path.count + 1)))
        }
        return found.sorted()
    }
}

extension Process {
    /// Starts it and waits for it to exit (at most `timeout` seconds, then it is killed), without holding a
    /// thread meanwhile: a test blocked in `waitUntilExit` or a sleep loop keeps one of the concurrency pool's two
    /// threads (on two cores) for as long as the child runs, and every async test of every other suite waits.
    func runToExit(timeout: Double = 300) async throws {
        let watchdog = Task { [self] in
            try? await Task.sleep(for: .seconds(timeout))
            // SIGKILL: a child inherits the test process's ignored SIGTERM, so `terminate()` may not end it.
            if !Task.isCancelled, isRunning { kill(processIdentifier, SIGKILL) }
        }
        defer { watchdog.cancel() }
        try await waitForExit { try run() }
    }

    /// Waits for an already started process to exit, without holding a thread (see `runToExit`).
    func exited() async {
        try? await waitForExit {}
    }

    /// Installs the termination handler, then `start`s; resumes when the process has exited.
    private func waitForExit(after start: () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            // Resumed once: by the handler, by a failed start, or here when the child had already exited.
            let pending = Mutex<CheckedContinuation<Void, any Error>?>(continuation)
            let finish: @Sendable (Result<Void, any Error>) -> Void = { result in
                pending.withLock { $0.take() }?.resume(with: result)
            }
            terminationHandler = { _ in finish(.success(())) }
            do {
                try start()
            } catch {
                terminationHandler = nil
                return finish(.failure(error))
            }
            if !isRunning { finish(.success(())) }
        }
        // Foundation's Process holds itself through a run-loop source that only `waitUntilExit` lets go of; it
        // returns at once now that the child has exited.
        waitUntilExit()
    }
}
