// The event streams' one look at the journal: the journal reads of a look do not grow with the streams open (until
// session 34 every stream read the journal itself each poll interval), a stream behind catches up from the journal a
// page at a time before it reads the ring, and one the ring has left behind catches up again.
import Foundation
import Locking
import Logging
import PipelineCore
import Testing

@testable import FetchService

@Suite struct PictureEventFeedTests {
    /// A feed over a fresh SQLite journal whose reads are counted, looking when `pace` says.
    static func withFeed(
        capacity: Int = 1024, _ body: (PictureEventFeed, CountingJournal, ManualPace) async throws -> Void
    ) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("feed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let journal = CountingJournal(try SQLiteInvocationJournal(path: folder.appendingPathComponent("events.sqlite")))
        let pace = ManualPace()
        let feed = PictureEventFeed(
            journal: journal, pace: pace.pace, logger: Logger(label: "feed-test"), pageSize: 250, capacity: capacity)
        try await body(feed, journal, pace)
        pace.release()
    }

    /// The journal reads made while the feed looks `looks` more times.
    static func reads(during looks: Int, _ pace: ManualPace, _ journal: CountingJournal) async -> Int {
        let before = journal.reads
        for _ in 0..<looks { await pace.step() }
        return journal.reads - before
    }

    /// The `event_id`s of the frames in `text`.
    static func eventIDs(_ text: String) -> [Int64] {
        EventStreamTests.frames(text).compactMap { frame in
            guard let object = try? JSONSerialization.jsonObject(with: Data(frame.data.utf8)) as? [String: Any]
            else { return nil }
            return (object["event_id"] as? NSNumber)?.int64Value
        }
    }

    @Test func theJournalReadsOfALookDoNotGrowWithTheStreamsOpen() async throws {
        try await Self.withFeed { feed, journal, pace in
            try EventStreamTests.journalElsewhere(journal.base, count: 3)
            let waiting = try #require(
                try EventStreamTests.journalElsewhere(journal.base, count: 1, finish: false).first)
            var readers = [try await feed.join(resumingAfter: nil) { _ in [] }.0]
            await pace.arrivals(1)
            // Each look reads the unfinished event again and the page after the horizon: two reads.
            let one = await Self.reads(during: 5, pace, journal)
            #expect(one == 10)
            for _ in 1..<20 { readers.append(try await feed.join(resumingAfter: nil) { _ in [] }.0) }
            let twenty = await Self.reads(during: 5, pace, journal)
            #expect(twenty == one, "20 streams cost the journal what one does")

            // Every stream gets the event from the one look that saw it settle.
            let claim = try #require(try journal.base.claim(function: "elsewhere", now: Date()))
            try journal.base.succeed(claim, result: nil, duration: 0.01, memoryMB: 64)
            let before = journal.reads
            await pace.step()
            for index in readers.indices {
                let text = try await feed.next(&readers[index], upTo: 5)
                #expect(Self.eventIDs(text) == [waiting])
                #expect(readers[index].sent == waiting)
            }
            #expect(journal.reads - before == 2, "the streams read the ring, not the journal")
        }
    }

    /// Over HTTP: 40 open streams all get an upload's frame, and the journal reads meanwhile are the feed's looks
    /// (a handful, two each), where a stream that reads the journal for itself needs one read per stream at least.
    @Test func fortyStreamsGetAnUploadThroughTheFeedsLooks() async throws {
        let counting = Locked<CountingJournal?>(nil)
        let count: (SQLiteInvocationJournal) -> any InvocationJournal = { base in
            let journal = CountingJournal(base)
            counting.withLock { $0 = journal }
            return journal
        }
        let configure: (inout PicpipeConfiguration) -> Void = { $0.runtime.pollInterval = 1 }
        try await FetchServer.with(configure: configure, journal: count) { client, _ in
            let journal = try #require(counting.withLock { $0 })
            var streams: [EventStreamConnection] = []
            defer { for stream in streams { stream.close() } }
            for _ in 0..<40 {
                let stream = try EventStreamConnection(port: client.port)
                _ = try await stream.read { $0.contains("retry: 1000") }
                streams.append(stream)
            }
            let before = journal.reads
            let posted = try await client.send(
                "POST", "/images", headers: [("Content-Type", "image/jpeg")], body: try FetchServer.picture(seed: 71))
            let id = try #require(posted.json?["id"] as? String)
            for stream in streams { _ = try await stream.read { $0.contains("\"sha256\":\"\(id)\"") } }
            let reads = journal.reads - before
            #expect(reads < streams.count, "\(reads) journal reads while \(streams.count) streams got the upload")
        }
    }

    /// A stream resuming behind the ring reads the journal itself, a page at a time (each page sent before the next
    /// is read), up to where the feed was when it joined; then it reads the ring.
    @Test func aStreamBehindCatchesUpAPageAtATimeThenReadsTheRing() async throws {
        try await Self.withFeed(capacity: 100) { feed, journal, pace in
            let ids = try EventStreamTests.journalElsewhere(journal.base, count: 600)
            var reader = try await feed.join(resumingAfter: 0) { _ in [] }.0
            await pace.arrivals(1)
            var sent: [Int64] = []
            var pages = 0
            while reader.catchUp != nil {
                let text = try await feed.next(&reader, upTo: 5)
                let page = Self.eventIDs(text)
                #expect(page.count <= feed.catchUpPageSize)
                sent += page
                pages += 1
            }
            #expect(sent == ids)
            #expect(pages == 6)
            #expect(reader.sent == ids.last)
            let later = try #require(try EventStreamTests.journalElsewhere(journal.base, count: 1).first)
            await pace.step()
            #expect(Self.eventIDs(try await feed.next(&reader, upTo: 5)) == [later])
        }
    }

    /// A stream resuming on a feed that has just started (the galleries reconnecting after a restart) is answered
    /// from the ring the feed seeded from the journal: every event after its id, a page at a time, and no journal
    /// read of its own (until session 35 the ring started empty and each such stream caught up from the journal).
    @Test func streamsResumingWithinTheSeededRingReadNoJournal() async throws {
        try await Self.withFeed { feed, journal, pace in
            let ids = try EventStreamTests.journalElsewhere(journal.base, count: 412)
            let last = try #require(ids.last)
            var readers: [PictureEventFeed.Reader] = []
            for _ in 0..<3 { readers.append(try await feed.join(resumingAfter: 0) { _ in [] }.0) }
            await pace.arrivals(1)
            let before = journal.reads
            for index in readers.indices {
                var sent: [Int64] = []
                for _ in 0..<20 where readers[index].sent < last {
                    let page = Self.eventIDs(try await feed.next(&readers[index], upTo: 5))
                    #expect(page.count <= feed.catchUpPageSize)
                    sent += page
                }
                #expect(sent == ids)
                #expect(readers[index].sent == last)
            }
            #expect(journal.reads == before, "\(journal.reads - before) journal reads for streams within the ring")
        }
    }

    /// Streams catching up from older than the ring at the same time share the journal's pages: each page (and the
    /// bounds checked with it) is read once for all of them (until session 35 each stream read every page itself,
    /// in turn).
    @Test func streamsCatchingUpTogetherShareThePagesRead() async throws {
        try await Self.withFeed(capacity: 100) { feed, journal, pace in
            let ids = try EventStreamTests.journalElsewhere(journal.base, count: 600)
            var readers: [PictureEventFeed.Reader] = []
            for _ in 0..<10 { readers.append(try await feed.join(resumingAfter: 0) { _ in [] }.0) }
            await pace.arrivals(1)
            #expect(readers.allSatisfy { $0.catchUp != nil })
            let before = journal.reads
            let streams = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for reader in readers {
                    group.addTask {
                        var reader = reader
                        var sent: [Int64] = []
                        while reader.catchUp != nil { sent += Self.eventIDs(try await feed.next(&reader, upTo: 5)) }
                        return sent
                    }
                }
                return try await group.reduce(into: [[Int64]]()) { $0.append($1) }
            }
            #expect(streams.count == readers.count)
            for sent in streams { #expect(sent == ids) }
            let pages = ids.count / feed.catchUpPageSize
            let reads = journal.reads - before
            #expect(
                reads <= 2 * pages, "\(reads) journal reads for \(readers.count) streams catching up \(pages) pages")
        }
    }

    /// A stream that did not read while more settled than the ring keeps catches up from the journal after the id
    /// it last sent: nothing is lost.
    @Test func aStreamTheRingLeftBehindCatchesUpFromTheJournal() async throws {
        try await Self.withFeed(capacity: 2) { feed, journal, pace in
            var reader = try await feed.join(resumingAfter: nil) { _ in [] }.0
            await pace.arrivals(1)
            let ids = try EventStreamTests.journalElsewhere(journal.base, count: 5)
            await pace.step()
            #expect(Self.eventIDs(try await feed.next(&reader, upTo: 5)) == ids)
            #expect(reader.catchUp == nil && reader.sent == ids.last)
        }
    }
}

/// Looks when the test says: the feed's wait counts its arrival and holds it until `step()`.
final class ManualPace: Sendable {
    private struct State {
        var permits = 0
        var parked: CheckedContinuation<Void, Never>?
        var arrivals = 0
        var watchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Locked(State())

    var pace: PictureEventFeed.Pace { PictureEventFeed.Pace(mark: { 0 }, wait: { _ in await self.arrive() }) }

    /// The feed's wait after a look.
    func arrive() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (ready, go) = state.withLock { state -> ([CheckedContinuation<Void, Never>], Bool) in
                state.arrivals += 1
                let count = state.arrivals
                let ready = state.watchers.filter { $0.count <= count }.map(\.continuation)
                state.watchers.removeAll { $0.count <= count }
                guard state.permits == 0 else {
                    state.permits -= 1
                    return (ready, true)
                }
                state.parked = continuation
                return (ready, false)
            }
            for watcher in ready { watcher.resume() }
            if go { continuation.resume() }
        }
    }

    /// Returns once the feed has finished `count` looks.
    func arrivals(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                guard state.arrivals < count else { return true }
                state.watchers.append((count, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Lets the feed look once more and returns when that look is done.
    func step() async {
        let (next, parked) = state.withLock { state -> (Int, CheckedContinuation<Void, Never>?) in
            let parked = state.parked
            state.parked = nil
            if parked == nil { state.permits += 1 }
            return (state.arrivals + 1, parked)
        }
        parked?.resume()
        await arrivals(next)
    }

    /// Lets the feed go without waiting for it (the end of a test: with no stream left it stops).
    func release() {
        let parked = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.permits += 1_000_000
            defer { state.parked = nil }
            return state.parked
        }
        parked?.resume()
    }
}

/// A journal that counts the reads the event streams make (`events`, `unfinishedEventIDs`, `eventBounds`,
/// `invocations`) and otherwise is the SQLite journal it wraps.
final class CountingJournal: InvocationJournal {
    let base: SQLiteInvocationJournal
    private let count = Locked(0)

    init(_ base: SQLiteInvocationJournal) { self.base = base }

    var reads: Int { count.withLock { $0 } }

    private func counted<T>(_ read: () throws -> T) rethrows -> T {
        count.withLock { $0 += 1 }
        return try read()
    }

    func events(after eventID: Int64, limit: Int) throws -> [EventProgress] {
        try counted { try base.events(after: eventID, limit: limit) }
    }
    func events(ids: [Int64]) throws -> [EventProgress] { try counted { try base.events(ids: ids) } }
    func unfinishedEventIDs() throws -> [Int64] { try counted { try base.unfinishedEventIDs() } }
    func eventBounds() throws -> EventBounds { try counted { try base.eventBounds() } }
    func invocations(state: InvocationState?, function: String?, limit: Int) throws -> [InvocationSummary] {
        try counted { try base.invocations(state: state, function: function, limit: limit) }
    }

    func append(_ record: S3EventRecord, functions: [String], type: InvocationType, deduplicate: Bool) throws
        -> JournalAppend
    {
        try base.append(record, functions: functions, type: type, deduplicate: deduplicate)
    }
    func appendRunning(_ record: S3EventRecord, function: String, limit: Int?) throws -> JournalAppend? {
        try base.appendRunning(record, function: function, limit: limit)
    }
    func hasReady(function: String, now: Date) throws -> Bool { try base.hasReady(function: function, now: now) }
    var claimsWithoutAsking: Bool { base.claimsWithoutAsking }
    func claim(function: String, now: Date, lease: TimeInterval) throws -> ClaimedInvocation? {
        try base.claim(function: function, now: now, lease: lease)
    }
    func claim(function: String, now: Date, lease: TimeInterval, limit: Int?) throws -> ClaimedInvocation? {
        try base.claim(function: function, now: now, lease: lease, limit: limit)
    }
    func recoverExpiredLeases(now: Date) throws -> Int { try base.recoverExpiredLeases(now: now) }
    func succeed(_ claim: ClaimedInvocation, result: String?, duration: Double, memoryMB: Int) throws {
        try base.succeed(claim, result: result, duration: duration, memoryMB: memoryMB)
    }
    func succeed(
        _ claim: ClaimedInvocation, result: String?, duration: Double, memoryMB: Int, thenClaim next: String, now: Date,
        lease: TimeInterval
    ) throws -> ClaimedInvocation? {
        try base.succeed(
            claim, result: result, duration: duration, memoryMB: memoryMB, thenClaim: next, now: now, lease: lease)
    }
    func fail(_ claim: ClaimedInvocation, error: String, duration: Double, memoryMB: Int, retryAt: Date?) throws {
        try base.fail(claim, error: error, duration: duration, memoryMB: memoryMB, retryAt: retryAt)
    }
    func deadLetterUnrun(_ claim: ClaimedInvocation, error: String) throws {
        try base.deadLetterUnrun(claim, error: error)
    }
    func putBack(_ claim: ClaimedInvocation) throws { try base.putBack(claim) }
    func recoverRunning() throws -> Int { try base.recoverRunning() }
    func markThrottled(invocation id: Int64) throws -> Bool { try base.markThrottled(invocation: id) }
    func countRefusedCall(function: String) throws { try base.countRefusedCall(function: function) }
    func replay(eventID: Int64) throws -> Int { try base.replay(eventID: eventID) }
    func replayFailed(excluding excluded: Set<Int64>) throws -> Int { try base.replayFailed(excluding: excluded) }
    func replayRestored(eventID: Int64) throws -> Int { try base.replayRestored(eventID: eventID) }
    func clearNewlyStored(eventID: Int64) throws -> Bool { try base.clearNewlyStored(eventID: eventID) }
    func event(id: Int64) throws -> JournaledEvent? { try base.event(id: id) }
    func statistics(now: Date) throws -> [FunctionStatistics] { try base.statistics(now: now) }
    func prune(before cutoff: Date, limit: Int, after: Int64) throws -> PruneBatch {
        try base.prune(before: cutoff, limit: limit, after: after)
    }
    func queueDepths(now: Date) throws -> [QueueDepth] { try base.queueDepths(now: now) }
    var databaseDescription: String { base.databaseDescription }
}
