// A database outage is logged once, by the connection pool: not again by every function's idle workers.
import Foundation
import Locking
import Logging
import Testing

@testable import PipelineCore

/// Keeps the messages logged through it, each after its level when `withLevels` (`warning journal read failed`).
struct CapturingLogHandler: LogHandler {
    let lines: Locked<[String]>
    var withLevels = false
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lines.withLock { $0.append(withLevels ? "\(event.level) \(event.message)" : event.message.description) }
    }
}

@Suite struct RepeatedProblemsTests {
    struct Outage: PipelineCore.TransientFailure, CustomStringConvertible {
        var mayPassIfRetried: Bool { true }
        var description: String { "cannot connect to the database" }
    }

    struct BrokenJournal: Error {}

    @Test func aDatabaseOutageIsLeftToThePoolAndAnotherProblemIsLoggedOnce() {
        let lines = Locked<[String]>([])
        let logger = Logger(label: "test") { _ in CapturingLogHandler(lines: lines) }
        let problems = RepeatedProblems()
        for function in ["thumbnail", "metadata", "fetch"] {
            problems.report(function, error: Outage(), logger: logger)
        }
        #expect(lines.withLock { $0 }.isEmpty)
        problems.report("thumbnail", error: BrokenJournal(), logger: logger)
        problems.report("thumbnail", error: BrokenJournal(), logger: logger)
        #expect(lines.withLock { $0 } == ["journal read failed; retrying"])
    }
}
