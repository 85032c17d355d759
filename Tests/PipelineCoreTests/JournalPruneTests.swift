// Pruning the journal: old finished work is forgotten, its counts are kept, and nothing the queue, the dead letters
// or the de-duplication of uploads still reads goes (until session 30 the journal grew by every event for ever).
import Foundation
import Testing

@testable import PipelineCore

@Suite struct JournalPruneTests {
    static func record(_ n: Int, name: EventName = .objectCreatedPut) -> S3EventRecord {
        JournalTests.record(n, name: name)
    }

    /// Runs the oldest ready invocation of `function` and records `error` (nil: a success).
    static func run(_ function: String, in journal: any InvocationJournal, error: String? = nil, retry: Bool = false)
        throws
    {
        let claim = try #require(try journal.claim(function: function, now: Date().addingTimeInterval(1)))
        if let error {
            try journal.fail(
                claim, error: error, duration: 0.2, memoryMB: 512, retryAt: retry ? Date() : nil)
        } else {
            try journal.succeed(claim, result: nil, duration: 0.02, memoryMB: 256)
        }
    }

    @Test(arguments: JournalBackend.available)
    func oldSucceededWorkIsForgottenAndItsCountsKept(backend: JournalBackend) throws {
        try backend.withJournal { journal in
            var events: [Int64] = []
            for n in 1...4 {
                events.append(
                    try journal.append(Self.record(n), functions: ["a", "b"], type: .event, deduplicate: false)
                        .eventID)
            }
            // a: every invocation succeeds, one after a failed attempt, event 4's after waiting for a busy worker.
            // b: event 1's succeeds, event 2's is dead, event 3's still runs, event 4's succeeds.
            let throttled = try #require(
                try journal.invocations(state: .queued, function: "a", limit: 10).first { $0.eventID == events[3] })
            #expect(try journal.markThrottled(invocation: throttled.id))
            try Self.run("a", in: journal, error: "flaky", retry: true)
            for _ in 0..<4 { try Self.run("a", in: journal) }
            try Self.run("b", in: journal)
            try Self.run("b", in: journal, error: "refused")
            let running = try #require(try journal.claim(function: "b", now: Date().addingTimeInterval(1)))
            #expect(running.event.id == events[2])
            try Self.run("b", in: journal)
            let now = Date()
            let before = try journal.statistics(now: now)

            // Nothing is old enough yet.
            #expect(try journal.prune(before: now.addingTimeInterval(-3600), limit: 100) == 0)
            let pruned = try journal.prune(before: now.addingTimeInterval(60), limit: 100)
            #expect(pruned == 2)
            #expect(try journal.event(id: events[0]) == nil)
            #expect(try journal.event(id: events[3]) == nil)
            #expect(try journal.event(id: events[1]) != nil, "its dead invocation stays for replay")
            #expect(try journal.event(id: events[2]) != nil, "its invocation is still running")
            #expect(try journal.invocations(state: .dead, function: "b", limit: 10).count == 1)

            let after = try journal.statistics(now: now)
            #expect(after.map(\.function) == before.map(\.function))
            for (kept, was) in zip(after, before) {
                #expect(kept.invocations == was.invocations, "\(kept.function)")
                #expect(kept.errors == was.errors, "\(kept.function)")
                #expect(kept.retries == was.retries, "\(kept.function)")
                #expect(kept.throttles == was.throttles, "\(kept.function)")
                #expect(kept.succeeded == was.succeeded, "\(kept.function)")
                #expect(kept.deadLettered == was.deadLettered, "\(kept.function)")
                #expect(kept.running == was.running, "\(kept.function)")
                #expect(abs(kept.gbSeconds - was.gbSeconds) < 1e-9, "\(kept.function)")
                #expect(kept.histogram == was.histogram, "\(kept.function)")
            }
            let a = try #require(after.first { $0.function == "a" })
            #expect(a.invocations == 5 && a.errors == 1 && a.retries == 1 && a.throttles == 1 && a.succeeded == 4)
            // Pruned again, nothing more goes; pruned later, the rest goes once it is done.
            #expect(try journal.prune(before: now.addingTimeInterval(60), limit: 100) == 0)
        }
    }

    @Test(arguments: JournalBackend.available)
    func aLimitPrunesInBatches(backend: JournalBackend) throws {
        try backend.withJournal { journal in
            for n in 1...3 {
                _ = try journal.append(Self.record(n), functions: ["a"], type: .event, deduplicate: false)
                try Self.run("a", in: journal)
            }
            let cutoff = Date().addingTimeInterval(60)
            #expect(try journal.prune(before: cutoff, limit: 2) == 2)
            #expect(try journal.prune(before: cutoff, limit: 2) == 1)
            #expect(try journal.prune(before: cutoff, limit: 2) == 0)
            #expect(try journal.statistics(now: Date()).first?.succeeded == 3)
        }
    }

    /// The de-duplication of uploads reads a key's history: a picture refused (dead) and removed, uploaded again,
    /// is new work, so the removal stays while the dead event does; a key whose whole history is pruned is new too.
    @Test(arguments: JournalBackend.available)
    func aRemovalStaysWhileAnOlderEventOfItsKeyDoes(backend: JournalBackend) throws {
        try backend.withJournal { journal in
            // Key 1: refused (dead), then removed. Key 2: made, then deleted, both succeeded.
            _ = try journal.append(Self.record(1), functions: ["a"], type: .event, deduplicate: true)
            try Self.run("a", in: journal, error: "not a picture")
            _ = try journal.append(
                Self.record(1, name: .objectRemovedDelete), functions: ["a"], type: .event, deduplicate: false)
            try Self.run("a", in: journal)
            _ = try journal.append(Self.record(2), functions: ["a"], type: .event, deduplicate: true)
            try Self.run("a", in: journal)
            _ = try journal.append(
                Self.record(2, name: .objectRemovedDelete), functions: ["a"], type: .event, deduplicate: false)
            try Self.run("a", in: journal)

            #expect(try journal.prune(before: Date().addingTimeInterval(60), limit: 100) == 2)
            // The same uploads again are new events, each with its invocation queued.
            for n in [1, 2] {
                let again = try journal.append(Self.record(n), functions: ["a"], type: .event, deduplicate: true)
                #expect(!again.duplicate, "key \(n)")
                #expect(again.invocations["a"] != nil, "key \(n)")
            }
        }
    }

    /// One pass forgets every old event whose invocations all succeeded, however many removals it keeps on the way:
    /// 520 refused uploads (a dead creation and a succeeded removal each) with succeeded uploads between them and
    /// after them, in batches of 500. Until session 34 a pass ended at the first batch that kept a removal, and once
    /// the 500 oldest candidates were all kept removals no pass forgot anything again.
    @Test(arguments: JournalBackend.available)
    func aPassWalksPastTheRemovalsItKeeps(backend: JournalBackend) throws {
        func record(_ kind: String, _ n: Int, name: EventName = .objectCreatedPut) -> S3EventRecord {
            S3EventRecord(
                name: name, bucket: "store", key: "originals/\(kind)/\(n).jpg", size: 10 + n, eTag: "\(kind)\(n)",
                sequence: 0, sourceName: "\(kind)\(n).jpg")
        }
        try backend.withJournal { journal in
            var succeeded: [Int64] = []
            for n in 1...520 {
                _ = try journal.append(record("bad", n), functions: ["thumbnail"], type: .event, deduplicate: true)
                _ = try journal.append(
                    record("bad", n, name: .objectRemovedDelete), functions: ["cleanup"], type: .event,
                    deduplicate: false)
                if n % 10 == 0 {
                    succeeded.append(
                        try journal.append(record("early", n), functions: ["cleanup"], type: .event, deduplicate: true)
                            .eventID)
                }
            }
            for n in 1...100 {
                succeeded.append(
                    try journal.append(record("late", n), functions: ["cleanup"], type: .event, deduplicate: true)
                        .eventID)
            }
            for _ in 1...520 { try Self.run("thumbnail", in: journal, error: "not a picture") }
            for _ in 1...(520 + succeeded.count) { try Self.run("cleanup", in: journal) }
            let cutoff = Date().addingTimeInterval(60)

            #expect(try journal.prunePass(before: cutoff, batch: FunctionRuntime.pruneBatch) == succeeded.count)
            #expect(try succeeded.filter { try journal.event(id: $0) != nil } == [])
            // What stays is the refused uploads and their removals; the counts of what went are kept.
            #expect(try journal.invocations(state: .dead, function: "thumbnail", limit: 1000).count == 520)
            let cleanups = try journal.invocations(state: nil, function: "cleanup", limit: 1000)
            #expect(cleanups.count == 520)
            #expect(cleanups.allSatisfy { $0.state == "succeeded" })
            let statistics = try journal.statistics(now: Date())
            #expect(statistics.first { $0.function == "cleanup" }?.succeeded == 520 + succeeded.count)
            #expect(try journal.prunePass(before: cutoff, batch: FunctionRuntime.pruneBatch) == 0)
        }
    }
}
