// One reader of the journal per process for every open event stream: it looks once a tick, however many streams are
// open, and keeps what settled in a ring that the streams read; a stream resuming from an older id catches up from
// the journal by itself, a page at a time, then reads the ring. An idle stream costs a wait, no journal read.
import Foundation
import Locking
import Logging
import NIOCore
import PipelineCore

/// The event streams' shared look at the journal (until session 34 every open stream read the journal itself each
/// `runtime.poll_interval`: 20 idle streams took 43% of a core, and 300 reconnecting ones kept `/healthz` waiting).
final class PictureEventFeed: Sendable {
    /// When the feed looks again: `mark` before a look, then `wait(mark)` returns when the next look is due.
    struct Pace: Sendable {
        var mark: @Sendable () -> Int
        var wait: @Sendable (_ mark: Int) async -> Void

        /// After an outcome this process journals (a burst of them: one look), else after `poll` seconds.
        static func outcomes(of runtime: FunctionRuntime, poll: Double) -> Pace {
            Pace(
                mark: { runtime.outcomeGeneration },
                wait: { mark in
                    await runtime.waitForOutcome(after: mark, upTo: poll)
                    // Outcomes come in bursts (thumbnail and metadata of one picture): one look for the burst.
                    try? await Task.sleep(for: .milliseconds(10))
                })
        }
    }

    /// The listing items of the ids naming an object key's content (`ImageAPI.listedItems(contentKey:)`).
    typealias ItemReader = @Sendable (_ key: String) -> [String]?

    /// An event the feed sent, with its items (read once for every stream), numbered in the ring.
    struct Entry: Sendable {
        var sequence: Int
        var event: SettledEvent
    }

    private struct State {
        var cursor = PictureEventCursor(resumingAfter: 0)
        /// Whether the looking task runs (it ends when no stream is left).
        var running = false
        var subscribers = 0
        var items: ItemReader?
        /// The newest events sent, oldest first.
        var ring = CircularBuffer<Entry>()
        var nextSequence = 0
        var generation = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
        /// Looks done since the feed was made (tests step through them).
        var looks = 0
        var failing = false
    }

    let journal: any InvocationJournal
    /// Events read in one look.
    let pageSize: Int
    /// Events in one page of a stream's catch-up (its frames are written before the next page is read).
    let catchUpPageSize: Int
    /// One catch-up page is read and made at a time: a burst of reconnecting streams (a restart's) takes turns on one
    /// thread, and the other requests keep the rest (until session 34 300 of them kept `/healthz` waiting 20 s).
    private let catchUps = AsyncSlots(1)
    /// Events kept for the streams: one that falls further behind catches up from the journal.
    let capacity: Int
    private let pace: Pace
    private let logger: Logger
    private let state = Locked(State())

    init(
        journal: any InvocationJournal, pace: Pace, logger: Logger, pageSize: Int = 250, catchUpPageSize: Int = 100,
        capacity: Int = 1024
    ) {
        self.journal = journal
        self.pace = pace
        self.logger = logger
        self.pageSize = pageSize
        self.catchUpPageSize = catchUpPageSize
        self.capacity = capacity
    }

    /// Looks done so far.
    var looks: Int { state.withLock { $0.looks } }

    /// Every event at or below it has been sent by the feed (or was past when it started).
    var watermark: Int64 { state.withLock { $0.cursor.watermark } }

    // MARK: Streams

    /// One stream's place: the ring entry to read next, the id it last sent, and its catch-up while it has one.
    struct Reader: Sendable {
        /// The next ring entry to send.
        var sequence: Int
        /// The stream's position: every event at or below it has been sent to the client (or it had them).
        var sent: Int64
        /// Events at or below it are the client's already (its `Last-Event-ID`).
        var resumedAfter: Int64
        /// Its catch-up from the journal, until it reaches what the feed had sent when it joined.
        var catchUp: CatchUp?
        /// Its membership: given back when the last copy goes.
        let membership: Membership
    }

    /// What a joining stream reads from the journal: every event after its id that the feed had sent (or passed as
    /// past) when it joined, that is every event up to the feed's horizon but those still unfinished, and the events
    /// above the horizon sent already; after it the ring has the rest.
    struct CatchUp: Sendable {
        /// The next page starts after it.
        var after: Int64
        var horizon: Int64
        var unfinished: Set<Int64>
        /// Events above the horizon the feed had sent, oldest first.
        var sentAbove: [Int64]
        /// The feed's watermark then: no frame of the catch-up says more.
        var watermark: Int64
        /// Where the ring was: the stream reads on from there.
        var sequence: Int
    }

    /// A stream's place in the count of streams; the feed stops looking when the last one goes.
    final class Membership: Sendable {
        let feed: PictureEventFeed
        init(_ feed: PictureEventFeed) { self.feed = feed }
        deinit { feed.state.withLock { $0.subscribers -= 1 } }
    }

    /// Joins a stream, starting the feed when it is the first.
    /// - Parameters:
    ///   - position: the client's `Last-Event-ID`; nil: a new stream (events unfinished now and everything after).
    ///   - items: reads an event's listing items (the feed reads them once for every stream).
    /// - Returns: the stream's reader, and a `reset` frame when the journal cannot resume from `position` (the
    ///   stream then starts as a new one).
    /// - Throws: when the journal cannot be read.
    func join(resumingAfter position: Int64?, items: @escaping ItemReader) throws -> (Reader, reset: String?) {
        let membership = Membership(self)
        state.withLock { $0.subscribers += 1 }
        try start(items: items)
        var reset: StreamReset?
        if let position { reset = StreamReset(resuming: position, bounds: try journal.eventBounds()) }
        if let position, reset == nil {
            return (catchingUp(after: position, membership: membership), nil)
        }
        let reader = fresh(membership)
        return (reader, reset?.frame(id: reader.sent))
    }

    /// A reader that catches up from the journal after `position`, then reads the ring from where it was now; none
    /// to catch up when the feed sent nothing after `position` yet (a stream that reconnects at the top).
    private func catchingUp(after position: Int64, membership: Membership) -> Reader {
        state.withLock { state in
            let cursor = state.cursor
            let sentAbove = cursor.sentAbove.filter { $0 > position }.sorted()
            let catchUp = CatchUp(
                after: position, horizon: cursor.horizon, unfinished: Set(cursor.unfinished), sentAbove: sentAbove,
                watermark: cursor.watermark, sequence: state.nextSequence)
            return Reader(
                sequence: state.nextSequence, sent: position, resumedAfter: position,
                catchUp: position < cursor.horizon || !sentAbove.isEmpty ? catchUp : nil, membership: membership)
        }
    }

    /// The next frames for `reader`: a page of its catch-up, or what the feed sent since it last asked, waiting at
    /// most `seconds` for something ("": nothing came), or until `wakeAll` finds `interrupted` true. Journal reads
    /// only while it catches up.
    func next(
        _ reader: inout Reader, upTo seconds: Double, unless interrupted: @escaping @Sendable () -> Bool = { false }
    ) async throws -> String {
        while reader.catchUp != nil, !Task.isCancelled {
            let text = try await catchUpPage(&reader)
            if !text.isEmpty { return text }
        }
        let generation = state.withLock { $0.generation }
        let sent = try await sendFromRing(&reader)
        if !sent.isEmpty || reader.catchUp != nil { return sent }
        await wait(after: generation, upTo: seconds, unless: interrupted)
        return try await sendFromRing(&reader)
    }

    /// The ring's entries after the reader's place, as frames; a reader the ring has left behind catches up from
    /// the journal after the id it last sent.
    private func sendFromRing(_ reader: inout Reader) async throws -> String {
        let next = reader.sequence
        let entries = state.withLock { state -> [Entry]? in
            let oldest = state.ring.first?.sequence ?? state.nextSequence
            guard next >= oldest else { return nil }
            return state.ring.filter { $0.sequence >= next }
        }
        guard let entries else {
            reader = catchingUp(after: reader.sent, membership: reader.membership)
            return try await catchUpPage(&reader)
        }
        reader.sequence = (entries.last?.sequence).map { $0 + 1 } ?? reader.sequence
        var frames = ""
        for entry in entries where entry.event.eventID > reader.resumedAfter {
            var event = entry.event
            event.resumeID = max(reader.sent, event.resumeID)
            reader.sent = event.resumeID
            frames += event.frame
        }
        return frames
    }

    /// One page of a reader's catch-up, as frames (off the event loop: journal and listing reads). At its end the
    /// reader reads the ring from where it was when it joined. A prune that overtakes the catch-up makes it a reset.
    private func catchUpPage(_ reader: inout Reader) async throws -> String {
        guard var catchUp = reader.catchUp else { return "" }
        let journal = journal
        let pageSize = catchUpPageSize
        let items = state.withLock { $0.items }
        var sent = reader.sent
        await catchUps.acquire()
        defer { catchUps.release() }
        let (frames, reset) = try await withTaskExecutorPreference(globalConcurrentExecutor) {
            () -> (String, StreamReset?) in
            let events: [EventProgress]
            if catchUp.after < catchUp.horizon {
                let page = try journal.events(after: catchUp.after, limit: pageSize)
                // Pruning may have forgotten events after the page's start before the page was read.
                let reset = StreamReset(resuming: catchUp.after, bounds: try journal.eventBounds())
                if let reset, reset.reason == .pruned { return ("", reset) }
                // A short page is the journal's end: the catch-up's range is read.
                catchUp.after = page.count < pageSize ? catchUp.horizon : min(page.last?.id ?? 0, catchUp.horizon)
                events = page.filter { $0.id <= catchUp.horizon && !catchUp.unfinished.contains($0.id) }
            } else {
                let ids = Array(catchUp.sentAbove.prefix(pageSize))
                catchUp.sentAbove.removeFirst(ids.count)
                events = try journal.events(ids: ids)
            }
            var frames = ""
            for event in events where event.isFinished {
                guard var settled = PictureEventCursor.report(event) else { continue }
                settled.items = items?(settled.key)
                settled.resumeID = max(sent, min(catchUp.watermark, event.id))
                sent = settled.resumeID
                frames += settled.frame
            }
            return (frames, nil)
        }
        if let reset {
            reader = fresh(reader.membership)
            return reset.frame(id: reader.sent)
        }
        reader.sent = sent
        if catchUp.after >= catchUp.horizon, catchUp.sentAbove.isEmpty {
            reader.sent = max(reader.sent, catchUp.watermark)
            reader.sequence = catchUp.sequence
            reader.catchUp = nil
        } else {
            reader.catchUp = catchUp
        }
        return frames
    }

    /// A reader as a new stream's: from now.
    private func fresh(_ membership: Membership) -> Reader {
        state.withLock { state in
            Reader(
                sequence: state.nextSequence, sent: state.cursor.watermark, resumedAfter: state.cursor.watermark,
                catchUp: nil, membership: membership)
        }
    }

    // MARK: Waiting

    /// Returns when the feed sends something after `generation`, after `seconds`, or when woken (`wakeAll`); at once
    /// when `interrupted` holds already (checked under the lock `wakeAll` takes, so a wake that came first is not
    /// missed: what wakes the streams makes it true, then wakes them).
    func wait(
        after generation: Int, upTo seconds: Double, unless interrupted: @Sendable () -> Bool = { false }
    ) async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let timer = Task {
            try? await Task.sleep(for: .seconds(seconds))
            self.resume(id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.generation != generation || Task.isCancelled || interrupted() { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            self.resume(id)
        }
        timer.cancel()
    }

    /// Wakes every waiting stream (at shutdown, so each sees it at once).
    func wakeAll() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    private func resume(_ id: Int) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
    }

    // MARK: Looking

    /// Starts the looking task unless it runs: the cursor starts now (events unfinished now and everything after).
    private func start(items: @escaping ItemReader) throws {
        guard !state.withLock({ $0.running }) else { return }
        let cursor = try PictureEventCursor.starting(in: journal)
        let started = state.withLock { state -> Bool in
            state.items = items
            guard !state.running else { return false }
            state.running = true
            state.cursor = cursor
            state.ring.removeAll()
            return true
        }
        // Not on the joining request's event loop: the looks are database reads.
        if started { Task(executorPreference: globalConcurrentExecutor) { await self.run() } }
    }

    /// Looks at the journal until no stream is left: one look a tick however many streams are open.
    private func run() async {
        while true {
            let current = state.withLock { state -> (PictureEventCursor, ItemReader?)? in
                guard state.subscribers > 0 else {
                    state.running = false
                    state.ring.removeAll()
                    return nil
                }
                return (state.cursor, state.items)
            }
            guard let (cursor, items) = current else { return }
            let mark = pace.mark()
            var more = false
            do {
                var moved = cursor
                let looked = try moved.look(in: journal, pageSize: pageSize)
                more = looked.more
                let events = looked.settled.map { event in
                    var event = event
                    event.items = items?(event.key)
                    return event
                }
                let recovered = publish(moved, events)
                if recovered { logger.notice("event stream: the journal can be read again") }
            } catch {
                let first = state.withLock { state -> Bool in
                    state.looks += 1
                    defer { state.failing = true }
                    return !state.failing
                }
                // The streams stay open and wait: the cursor did not move, so nothing is missed.
                if first {
                    logger.warning("event stream: the journal cannot be read", metadata: ["error": "\(error)"])
                }
            }
            if !more { await pace.wait(mark) }
        }
    }

    /// Moves the cursor, puts what settled in the ring and wakes the streams. - Returns: whether looks had failed.
    private func publish(_ cursor: PictureEventCursor, _ events: [SettledEvent]) -> Bool {
        let (waiters, recovered) = state.withLock { state -> ([CheckedContinuation<Void, Never>], Bool) in
            state.cursor = cursor
            state.looks += 1
            let recovered = state.failing
            state.failing = false
            guard !events.isEmpty else { return ([], recovered) }
            for event in events {
                state.ring.append(Entry(sequence: state.nextSequence, event: event))
                state.nextSequence += 1
            }
            while state.ring.count > capacity { state.ring.removeFirst() }
            state.generation += 1
            defer { state.waiters = [:] }
            return (Array(state.waiters.values), recovered)
        }
        for waiter in waiters { waiter.resume() }
        return recovered
    }
}
