// Who counts as a live process in a PostgreSQL journal: only a process that takes work (claims, runs a synchronous
// call, starts as a worker). Until session 34 opening the journal registered the process and started its heartbeat,
// so `picpipe events`, `stats` and `replay` showed as live peers.
import Foundation
import PipelineCore
import PostgresBackend
import Testing

@Suite struct ProcessRegistrationTests {
    /// The owners in `picpipe_journal.processes`.
    static func owners(_ pool: PostgresConnectionPool) throws -> Set<String> {
        Set(try pool.run("SELECT owner FROM picpipe_journal.processes").map { try $0["owner"].decode(String.self) })
    }

    static func open(_ url: String) throws -> PostgresInvocationJournal {
        try PostgresInvocationJournal(pool: PostgresConnectionPool(url: DatabaseURL(parsing: url), maxConnections: 2))
    }

    @Test func onlyAProcessThatTakesWorkRegisters() throws {
        guard ScratchDatabase.enabled else { return }
        try ScratchDatabase.with { url in
            let admin = try PostgresConnectionPool(url: DatabaseURL(parsing: url), maxConnections: 1)
            // Reading and queueing, as `events`, `stats`, `replay` and a watcher do: no row.
            let reader = try Self.open(url)
            defer { reader.abandon() }
            let queued = try reader.append(JournalTests.record(1), functions: ["a"], type: .event, deduplicate: false)
            _ = try reader.invocations(state: nil, function: nil, limit: 10)
            _ = try reader.statistics(now: Date())
            _ = try reader.queueDepths(now: Date())
            _ = try reader.event(id: queued.eventID)
            _ = try reader.replay(eventID: queued.eventID)
            let afterReading = try Self.owners(admin)
            #expect(afterReading == [], "a process that only reads and queues is not a live peer")

            // A worker's start, a claim and a synchronous call each register their process.
            let worker = try Self.open(url)
            defer { worker.abandon() }
            _ = try worker.recoverRunning()
            #expect(try Self.owners(admin) == [worker.owner])
            let claimer = try Self.open(url)
            defer { claimer.abandon() }
            let claim = try #require(try claimer.claim(function: "a", now: Date()))
            #expect(try Self.owners(admin) == [worker.owner, claimer.owner])
            let caller = try Self.open(url)
            defer { caller.abandon() }
            _ = try #require(try caller.appendRunning(JournalTests.record(2), function: "b", limit: nil))
            #expect(try Self.owners(admin) == [worker.owner, claimer.owner, caller.owner])

            // Leaving takes the row along.
            try claimer.succeed(claim, result: nil, duration: 0.01, memoryMB: 128)
            claimer.abandon()
            #expect(try Self.owners(admin) == [worker.owner, caller.owner])
        }
    }
}
