// Content locks across processes: two holders on one PostgreSQL database, each with its own sessions (as two
// `serve --roles api` processes have), take turns on one content and never wait on another's.
import FetchService
import Foundation
import PipelineCore
import PostgresBackend
import Synchronization
import Testing

@Suite(.enabled(if: ScratchDatabase.enabled, "needs PICPIPE_TEST_DATABASE_URL (scripts/test-postgres.sh)"))
struct PostgresContentLockTests {
    static let content = ContentHash(hex: String(repeating: "c", count: 64))!
    static let other = ContentHash(hex: String(repeating: "d", count: 64))!

    @Test func twoProcessesTakeTurnsOnOneContent() async throws {
        let (url, drop) = try ScratchDatabase.create()
        defer { drop() }
        let first = try PostgresContentLocks(pool: PostgresConnectionPool(url: DatabaseURL(parsing: url)))
        let second = try PostgresContentLocks(pool: PostgresConnectionPool(url: DatabaseURL(parsing: url)))
        let steps = Steps()
        let waiting = Task {
            try await Steps.until { steps.taken.contains("first holds") }
            try await second.withLock(on: Self.content) { steps.add("second holds") }
        }
        try await first.withLock(on: Self.content) {
            steps.add("first holds")
            // Another content is free for the other process meanwhile (it would wait 30 s and throw if not).
            try await second.withLock(on: Self.other) { steps.add("second holds another") }
            // The second process has had time to ask; it must still be waiting.
            try await Task.sleep(for: .milliseconds(500))
            steps.add("first lets go")
        }
        try await waiting.value
        #expect(steps.taken == ["first holds", "second holds another", "first lets go", "second holds"])
    }
}

/// Steps taken, in order.
final class Steps: Sendable {
    private let list = Mutex<[String]>([])
    func add(_ step: String) { list.withLock { $0.append(step) } }
    var taken: [String] { list.withLock { $0 } }

    static func until(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
