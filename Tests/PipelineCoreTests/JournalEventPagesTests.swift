// Reading the journal in id order, a page at a time, as the event stream does: each event with its invocations'
// states, the unfinished events, and the newest pruned id (an id is never given twice, pruned or not).
import Foundation
import Testing

@testable import PipelineCore

@Suite struct JournalEventPagesTests {
    @Test(arguments: JournalBackend.available)
    func eventsComeInPagesWithTheStatesOfTheirInvocations(backend: JournalBackend) throws {
        try backend.withJournal { journal in
            var ids: [Int64] = []
            for n in 1...4 {
                ids.append(
                    try journal.append(
                        JournalTests.record(n), functions: n == 3 ? [] : ["a", "b"], type: .event, deduplicate: false
                    ).eventID)
            }
            // Event 1: both done; event 2: a done, b still queued; event 3: no function; event 4: queued.
            try JournalPruneTests.run("a", in: journal)
            try JournalPruneTests.run("b", in: journal)
            try JournalPruneTests.run("a", in: journal)

            let first = try journal.events(after: 0, limit: 2)
            #expect(first.map(\.id) == Array(ids[0...1]))
            #expect(first.map(\.states) == [[.succeeded, .succeeded], [.succeeded, .queued]])
            #expect(first.map(\.isFinished) == [true, false])
            #expect(first[0].name == "ObjectCreated:Put" && first[0].key == JournalTests.record(1).s3.object.key)
            #expect(first[0].sourceName == "file1.jpg")
            #expect(abs(first[0].createdAt.timeIntervalSinceNow) < 60)
            let second = try journal.events(after: ids[1], limit: 2)
            #expect(second.map(\.id) == Array(ids[2...3]))
            #expect(second.map(\.states) == [[], [.queued, .queued]], "an event with no function is listed too")
            #expect(try journal.events(after: ids[3], limit: 2).isEmpty)

            #expect(try journal.events(ids: [ids[3], ids[1], 999]).map(\.id) == [ids[1], ids[3]])
            #expect(try journal.events(ids: []).isEmpty)
            #expect(try journal.unfinishedEventIDs() == [ids[1], ids[3]])
            #expect(try journal.eventBounds() == EventBounds(newest: ids[3], prunedThrough: 0))
        }
    }

    /// The event stream compares a resuming client's id with the newest pruned one; an id pruned away is never
    /// given again (until session 34 SQLite gave MAX(id) + 1: with the newest events pruned, their ids came back,
    /// and a client resuming after them would have skipped the new events).
    @Test(arguments: JournalBackend.available)
    func pruningKeepsTheNewestPrunedIDAndNeverGivesItAgain(backend: JournalBackend) throws {
        try backend.withJournal { journal in
            var ids: [Int64] = []
            for n in 1...3 {
                ids.append(
                    try journal.append(JournalTests.record(n), functions: ["a"], type: .event, deduplicate: false)
                        .eventID)
                try JournalPruneTests.run("a", in: journal)
            }
            #expect(try journal.prune(before: Date().addingTimeInterval(60), limit: 100) == 3)
            #expect(try journal.eventBounds() == EventBounds(newest: 0, prunedThrough: ids[2]))
            #expect(try journal.events(after: 0, limit: 10).isEmpty)
            let next = try journal.append(JournalTests.record(4), functions: ["a"], type: .event, deduplicate: false)
            #expect(next.eventID > ids[2])
            #expect(try journal.eventBounds() == EventBounds(newest: next.eventID, prunedThrough: ids[2]))
        }
    }
}
