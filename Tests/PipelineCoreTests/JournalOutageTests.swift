// After the database was out of reach, a process must not take the others (or itself) for dead: every beat is old.
import Foundation
import PipelineCore
import Testing

@testable import PostgresBackend

@Suite struct JournalOutageTests {
    /// A journal on the database `url` names: one process of the installation.
    static func open(_ url: String) throws -> PostgresInvocationJournal {
        try PostgresInvocationJournal(pool: PostgresConnectionPool(url: DatabaseURL(parsing: url), maxConnections: 4))
    }

    @Test func noLiveWorkerIsTakenForDeadRightAfterAnOutage() async throws {
        guard ScratchDatabase.enabled else { return }
        let (url, drop) = try ScratchDatabase.create()
        defer { drop() }
        do {
            let worker = try Self.open(url)
            defer { worker.abandon() }
            _ = try worker.append(JournalTests.record(1), functions: ["a"], type: .event, deduplicate: false)
            let claim = try #require(try worker.claim(function: "a", now: Date()))
            // A 60 s outage as the database sees it: no process has beaten since; the recovering process has
            // just seen its own beats fail.
            let other = try Self.open(url)
            defer { other.abandon() }
            _ = try other.pool.execute(
                "UPDATE picpipe_journal.processes SET beat_at = extract(epoch FROM clock_timestamp()) - 60")
            try other.recordMissedBeat()
            #expect(try other.recoverExpiredLeases(now: Date()) == 0)
            #expect(try other.invocations(state: .running, function: "a", limit: 10).map(\.id) == [claim.id])
            // The worker's outcome lands once it can write again, and counts once.
            try worker.succeed(claim, result: nil, duration: 0.1, memoryMB: 128)
            #expect(try other.invocations(state: .succeeded, function: "a", limit: 10).map(\.id) == [claim.id])
            let attempts = try other.pool.run(
                "SELECT attempt FROM picpipe_journal.attempts WHERE invocation_id = $1", [.integer(claim.id)])
            #expect(attempts.count == 1)
        }
    }

    @Test func aWorkerThatStaysSilentAfterAnOutageIsTakenForDeadOnceTheOthersBeatSteadily() async throws {
        guard ScratchDatabase.enabled else { return }
        let (url, drop) = try ScratchDatabase.create()
        defer { drop() }
        do {
            let worker = try Self.open(url)
            _ = try worker.append(JournalTests.record(1), functions: ["a"], type: .event, deduplicate: false)
            _ = try #require(try worker.claim(function: "a", now: Date()))
            worker.abandon()  // it died during the outage
            let other = try Self.open(url)
            defer { other.abandon() }
            try other.recordMissedBeat()
            #expect(try other.recoverExpiredLeases(now: Date()) == 0)
            // Once this process has beaten steadily for `deadAfter`, the silent one's work goes back.
            var recovered = 0
            for _ in 0..<40 where recovered == 0 {
                try await Task.sleep(for: .milliseconds(500))
                recovered = try other.recoverExpiredLeases(now: Date())
            }
            #expect(recovered == 1)
        }
    }
}
