// A `picpipe serve` child process for end-to-end tests: start, signal, kill -9, wait, read its log.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A running `picpipe serve` on a test store.
final class ServeProcess {
    let process = Process()
    let store: URL
    private let logURL: URL

    /// The environment tests run serve with: fast retries and polling.
    static let fastEnvironment = [
        "PICPIPE_RETRY_BACKOFF": "0.1,0.2", "PICPIPE_POLL_INTERVAL": "0.05", "PICPIPE_LOG_LEVEL": "info",
        // Any free port: serves running side by side must not fight over the default 8080.
        "PICPIPE_LISTEN": "127.0.0.1:0",
    ]

    /// Starts `picpipe serve --store STORE [ARGUMENTS]` and waits until it logs that it serves.
    /// - Parameters:
    ///   - user: a user id to run it as instead of the test's own (through `setpriv`, which execs it: the process
    ///     is serve itself), with the same group id; the test must run as root.
    ///   - capabilities: capabilities that user keeps (`lease` for CAP_LEASE), as systemd's AmbientCapabilities.
    init(
        store: URL, environment: [String: String] = [:], arguments: [String] = [], user: UInt32? = nil,
        capabilities: [String] = []
    ) async throws {
        self.store = store
        logURL = store.deletingLastPathComponent().appendingPathComponent("serve-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.executableURL = PicpipeProcess.binary
        process.arguments = ["serve", "--store", store.path] + arguments
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments =
                ["--reuid=\(user)", "--regid=\(user)", "--clear-groups"]
                + capabilities.flatMap { ["--inh-caps", "+\($0)", "--ambient-caps", "+\($0)"] }
                + [PicpipeProcess.binary.path] + (process.arguments ?? [])
        }
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "PICPIPE_STORE")
        env.removeValue(forKey: "PICPIPE_CONFIG")
        for (key, value) in Self.fastEnvironment.merging(environment, uniquingKeysWith: { $1 }) { env[key] = value }
        process.environment = env
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try await ServeProcess.eventually("serve started") { self.log.contains("serving") || !self.process.isRunning }
    }

    /// What serve logged so far.
    var log: String { String(decoding: (try? Data(contentsOf: logURL)) ?? Data(), as: UTF8.self) }

    /// Sends a signal (SIGTERM, SIGINT, SIGKILL).
    func signal(_ number: Int32) { Glibc.kill(process.processIdentifier, number) }

    /// Waits for the process to exit; its exit status, or nil if it is still running after `seconds`.
    func waitForExit(within seconds: Double = 120) async -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        guard !process.isRunning else { return nil }
        // Foundation's Process holds itself through a run-loop source that only `waitUntilExit` lets go of (it returns
        // at once once the child has exited): without it every serve's Process leaked (LeakSanitizer, 74 a run).
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Ends it with SIGKILL and reaps it at once, for a `defer`, which cannot await (the reaping lets Foundation's
    /// Process go, as in `waitForExit`).
    func kill() {
        if process.isRunning { signal(SIGKILL) }
        process.waitUntilExit()
    }

    /// Stops it (SIGTERM, then SIGKILL if it does not exit) and removes the log.
    func stop() async {
        if process.isRunning {
            signal(SIGTERM)
            if await waitForExit(within: 60) == nil { signal(SIGKILL) }
        }
        _ = await waitForExit(within: 30)  // reaps it too when something else ended it (the browser suite restarts serve)
        try? FileManager.default.removeItem(at: logURL)
    }

    /// Files under a store area (relative paths).
    static func files(_ store: URL, _ area: String) -> [String] { StoreView.files(store, area) }

    /// Polls `condition` until it holds or a generous number of polls, `seconds` of them, went by (it bounds a
    /// wait; it is not a timing check). Counted in polls, not by the clock, and looked at once more at the end: a
    /// poller kept from running while other tests block the concurrency pool must not give up without looking.
    static func eventually(
        _ what: String, within seconds: Double = 180, _ condition: () async throws -> Bool
    ) async throws {
        for _ in 0..<Int(seconds / 0.05) {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        if try await condition() { return }
        throw ServeTestError.timedOut(what)
    }
}

/// Why a serve test gave up.
enum ServeTestError: Error, CustomStringConvertible {
    case timedOut(String)
    var description: String {
        switch self {
        case .timedOut(let what): return "timed out waiting for: \(what)"
        }
    }
}

/// One line of `picpipe events --json`.
struct EventLine: Decodable, Equatable {
    var id: Int64
    var eventID: Int64
    var eventName: String
    var key: String
    var sourceName: String?
    var function: String
    var type: String
    var state: String
    var attempt: Int
    var error: String?

    enum CodingKeys: String, CodingKey {
        case id
        case eventID = "event_id"
        case eventName = "event_name"
        case key
        case sourceName = "source_name"
        case function, type, state, attempt, error
    }
}

/// Reading a store the way a user in another terminal does: through the CLI.
enum StoreView {
    static func events(_ store: URL, state: String? = nil) async throws -> [EventLine] {
        var arguments = ["events", "--store", store.path, "--json", "--limit", "100000"]
        if let state { arguments += ["--state", state] }
        let output = try await PicpipeProcess.run(arguments, timeout: 120)
        guard output.status == 0 else { throw ServeTestError.timedOut("events failed: \(output.stderr)") }
        return try output.stdout.split(separator: "\n").map {
            try JSONDecoder().decode(EventLine.self, from: Data($0.utf8))
        }
    }

    /// Source names whose thumbnail and metadata invocations have both succeeded.
    static func processed(_ store: URL) async throws -> Set<String> {
        let lines = try await events(store, state: "succeeded")
        var functions: [String: Set<String>] = [:]
        for line in lines { functions[line.sourceName ?? line.key, default: []].insert(line.function) }
        return Set(functions.filter { $0.value.isSuperset(of: ["thumbnail", "metadata"]) }.keys)
    }

    /// Rows in the metadata database, through `picpipe query`.
    static func metadataRows(_ store: URL) async throws -> Int {
        let output = try await PicpipeProcess.run(
            ["query", "--store", store.path, "--json", "--limit", "100000"], timeout: 120)
        return output.stdout.split(separator: "\n").count
    }

    /// Files under a store folder (relative paths).
    static func files(_ store: URL, _ area: String) -> [String] {
        PicpipeProcess.files(under: store.appendingPathComponent(area))
    }
}
