// One reader of the journal per process for every open event stream: it looks once a tick, however many streams are
// open, and keeps what settled in a ring that the streams read, seeded from the journal when the feed starts; a
// stream resuming from older than the ring catches up from the journal, a page at a time (pages read lately are
// shared), then reads the ring. An idle stream costs a wait, no journal read.
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

    /// An event the feed sent, with its items and frame data (made once for every stream), numbered in the ring.
    struct Entry: Sendable {
        var sequence: Int
        var event: PreparedEvent
    }

    private struct State {
        var cursor = PictureEventCursor(resumingAfter: 0)
        /// Whether the looking task runs (it ends when no stream is left).
        var running = false
        /// The start under way (cursor and seed being read): streams joining meanwhile wait for it, and take the
        /// journal's bounds it read after the seed.
        var starting: Task<EventBounds, any Error>?
        var subscribers = 0
        var items: ItemReader?
        /// The newest events sent, oldest first: at the start the events of the newest `capacity` ids that had
        /// settled, then what the looks find.
        var ring = CircularBuffer<Entry>()
        /// The ring holds every settled picture event above it (none: the feed does not run): a stream resuming
        /// from here or later reads the ring from its start and no journal.
        var ringFloor = Int64.max
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
    /// Catch-up pages read lately: streams catching up over the same events read each page once (until session 35
    /// 300 reconnecting streams read every page 300 times, in turn).
    private let catchUpPages = CatchUpPages()
    /// One page of ring entries is made at a time (see `ringPage`).
    private let ringPages = AsyncSlots(1)
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
    func join(resumingAfter position: Int64?, items: @escaping ItemReader) async throws -> (Reader, reset: String?) {
        let membership = Membership(self)
        state.withLock { $0.subscribers += 1 }
        let started = try await start(items: items)
        var reset: StreamReset?
        if let position {
            // The start's bounds were read after this stream joined: the streams of a restart's burst, waiting for
            // the start together, do not each read them at once.
            reset = StreamReset(resuming: position, bounds: try started ?? journal.eventBounds())
        }
        if let position, reset == nil {
            return (resuming(after: position, membership: membership), nil)
        }
        let reader = fresh(membership)
        return (reader, reset?.frame(id: reader.sent))
    }

    /// A reader for a stream that has every event up to `position`: one that reads the ring from its start when the
    /// ring holds every event after `position`; else one that catches up from the journal after `position`, then
    /// reads the ring from where it was now (none to catch up when the feed sent nothing after `position` yet).
    private func resuming(after position: Int64, membership: Membership) -> Reader {
        state.withLock { state in
            if position >= state.ringFloor {
                return Reader(
                    sequence: state.ring.first?.sequence ?? state.nextSequence, sent: position, resumedAfter: position,
                    catchUp: nil, membership: membership)
            }
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

    /// The ring's entries after the reader's place, as frames, a page at most (`catchUpPageSize` entries, about
    /// `ringPageBytes`: a stream resuming from the ring's start sends a page before it makes the next); a reader the
    /// ring has left behind resumes after the id it last sent.
    private func sendFromRing(_ reader: inout Reader) async throws -> String {
        while true {
            guard let (frames, more) = await ringPage(&reader) else {
                reader = resuming(after: reader.sent, membership: reader.membership)
                if reader.catchUp != nil { return try await catchUpPage(&reader) }
                continue
            }
            // Entries the client had already: the page after them.
            if frames.isEmpty, more { continue }
            return frames
        }
    }

    /// The frames of the next page of ring entries for `reader`, and whether more entries may follow; nil when the
    /// ring has left the reader behind. Made one page at a time in the process: the streams of a restart's burst
    /// resuming from the ring take turns, and other requests (`/healthz`) are not queued behind all of them.
    private func ringPage(_ reader: inout Reader) async -> (frames: String, more: Bool)? {
        await ringPages.acquire()
        defer { ringPages.release() }
        let next = reader.sequence
        let pageSize = catchUpPageSize
        let entries = state.withLock { state -> [Entry]? in
            let oldest = state.ring.first?.sequence ?? state.nextSequence
            guard next >= oldest else { return nil }
            return Array(state.ring.dropFirst(next - oldest).prefix(pageSize))
        }
        guard let entries else { return nil }
        var frames = ""
        for entry in entries {
            reader.sequence = entry.sequence + 1
            guard entry.event.event.eventID > reader.resumedAfter else { continue }
            reader.sent = max(reader.sent, entry.event.event.resumeID)
            frames += entry.event.frame(id: reader.sent)
            if frames.utf8.count >= Self.ringPageBytes { return (frames, true) }
        }
        return (frames, entries.count == pageSize)
    }

    /// A page of ring entries stops at this size: hundreds of streams sending the ring at once write small pieces in
    /// turn, so the event loops answer other requests between them.
    static let ringPageBytes = 32 * 1024

    /// One page of a reader's catch-up, as frames. At its end the reader reads the ring from where it was when it
    /// joined. A prune that overtakes the catch-up makes it a reset.
    private func catchUpPage(_ reader: inout Reader) async throws -> String {
        guard var catchUp = reader.catchUp else { return "" }
        let events: [PreparedEvent]
        if catchUp.after < catchUp.horizon {
            let page: CatchUpPage
            switch try await sharedPage(after: catchUp.after, for: catchUp) {
            case .page(let read): page = read
            case .pruned(let reset):
                reader = fresh(reader.membership)
                return reset.frame(id: reader.sent)
            }
            // A short page is the journal's end: the catch-up's range is read.
            catchUp.after = page.full ? min(page.events.last?.id ?? 0, catchUp.horizon) : catchUp.horizon
            events = page.settled.filter {
                $0.event.eventID <= catchUp.horizon && !catchUp.unfinished.contains($0.event.eventID)
            }
        } else {
            let ids = Array(catchUp.sentAbove.prefix(catchUpPageSize))
            catchUp.sentAbove.removeFirst(ids.count)
            events = try await settledEvents(ids: ids)
        }
        var frames = ""
        for event in events {
            reader.sent = max(reader.sent, min(catchUp.watermark, event.event.eventID))
            frames += event.frame(id: reader.sent)
        }
        if catchUp.after >= catchUp.horizon, catchUp.sentAbove.isEmpty {
            reader.sent = max(reader.sent, catchUp.watermark)
            reader.sequence = catchUp.sequence
            reader.catchUp = nil
        } else {
            reader.catchUp = catchUp
        }
        return frames
    }

    /// A catch-up page, or the reset a prune that overtook its start makes.
    private enum PageRead: Sendable {
        case page(CatchUpPage)
        case pruned(StreamReset)
    }

    /// The catch-up page after `after`: one read lately that serves `catchUp`, else read now (one page read at a time
    /// in the process, off the event loop: a burst of reconnecting streams takes turns on one thread, and the other
    /// requests keep the rest) and kept for the streams that need it next.
    private func sharedPage(after: Int64, for catchUp: CatchUp) async throws -> PageRead {
        if let page = catchUpPages.page(after: after, for: catchUp) { return .page(page) }
        await catchUps.acquire()
        defer { catchUps.release() }
        // Read meanwhile by a stream that waited for its turn ahead of this one.
        if let page = catchUpPages.page(after: after, for: catchUp) { return .page(page) }
        let journal = journal
        let pageSize = catchUpPageSize
        // The horizon before the read: every event up to it is in the journal when the page is read.
        let (items, horizon) = state.withLock { ($0.items, $0.cursor.horizon) }
        let read = try await withTaskExecutorPreference(globalConcurrentExecutor) { () throws -> PageRead in
            let events = try journal.events(after: after, limit: pageSize)
            // Pruning may have forgotten events after the page's start before the page was read.
            let reset = StreamReset(resuming: after, bounds: try journal.eventBounds())
            if let reset, reset.reason == .pruned { return .pruned(reset) }
            return .page(
                CatchUpPage(
                    after: after, events: events, settled: Self.settled(events, items: items),
                    full: events.count == pageSize, horizonWhenRead: horizon, readAt: .now))
        }
        if case .page(let page) = read { catchUpPages.keep(page) }
        return read
    }

    /// The settled picture events among `ids` (the events a catch-up sends above the feed's horizon), read now.
    private func settledEvents(ids: [Int64]) async throws -> [PreparedEvent] {
        let journal = journal
        let items = state.withLock { $0.items }
        await catchUps.acquire()
        defer { catchUps.release() }
        return try await withTaskExecutorPreference(globalConcurrentExecutor) {
            Self.settled(try journal.events(ids: ids), items: items)
        }
    }

    /// The picture events among `events` that have settled, with their items, prepared.
    private static func settled(_ events: [EventProgress], items: ItemReader?) -> [PreparedEvent] {
        prepared(events.filter(\.isFinished).compactMap(PictureEventCursor.report), items)
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

    /// Starts the feed unless it runs, once however many streams join meanwhile (a restart's reconnecting
    /// galleries all wait for the one start). - Returns: the journal's bounds read after the seed, when it started.
    private func start(items: @escaping ItemReader) async throws -> EventBounds? {
        let starting = state.withLock { state -> Task<EventBounds, any Error>? in
            if state.running { return nil }
            if let starting = state.starting { return starting }
            // Not on the joining request's event loop: the cursor, the seed and the looks are database reads.
            let task = Task(executorPreference: globalConcurrentExecutor) { try self.begin(items: items) }
            state.starting = task
            return task
        }
        return try await starting?.value
    }

    /// Starts the cursor now (events unfinished now and everything after), seeds the ring with the events of the
    /// newest `capacity` ids that had settled (a stream resuming among them reads no journal: until session 35 the
    /// ring started empty, and every stream reconnecting after a restart caught up from the journal), then looks.
    /// - Returns: the journal's bounds after the seed was read (a prune since is not in it: the floor is above).
    private func begin(items: @escaping ItemReader) throws -> EventBounds {
        let cursor: PictureEventCursor
        let floor: Int64
        let seed: [PreparedEvent]
        let bounds: EventBounds
        do {
            cursor = try PictureEventCursor.starting(in: journal)
            let history = try cursor.settledHistory(
                after: max(0, cursor.horizon - Int64(capacity)), in: journal, pageSize: pageSize)
            bounds = try journal.eventBounds()
            floor = max(0, cursor.horizon - Int64(capacity), bounds.prunedThrough)
            seed = Self.prepared(history.filter { $0.eventID > floor }, items)
        } catch {
            state.withLock { $0.starting = nil }
            throw error
        }
        state.withLock { state in
            state.starting = nil
            state.items = items
            state.running = true
            state.cursor = cursor
            state.ring.removeAll()
            for event in seed.suffix(capacity) {
                state.ring.append(Entry(sequence: state.nextSequence, event: event))
                state.nextSequence += 1
            }
            state.ringFloor = floor
        }
        Task(executorPreference: globalConcurrentExecutor) { await self.run() }
        return bounds
    }

    /// `events` with their items, their frames' data made (off the lock and the event loop).
    private static func prepared(_ events: [SettledEvent], _ items: ItemReader?) -> [PreparedEvent] {
        events.map { event in
            var event = event
            event.items = items?(event.key)
            return PreparedEvent(event)
        }
    }

    /// Looks at the journal until no stream is left: one look a tick however many streams are open.
    private func run() async {
        while true {
            let current = state.withLock { state -> (PictureEventCursor, ItemReader?)? in
                guard state.subscribers > 0 else {
                    state.running = false
                    state.ring.removeAll()
                    state.ringFloor = .max
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
                let recovered = publish(moved, Self.prepared(looked.settled, items))
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
    private func publish(_ cursor: PictureEventCursor, _ events: [PreparedEvent]) -> Bool {
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
            // The ring no longer holds every event above the floor: the floor rises over what leaves it.
            while state.ring.count > capacity {
                state.ringFloor = max(state.ringFloor, state.ring.removeFirst().event.event.eventID)
            }
            state.generation += 1
            defer { state.waiters = [:] }
            return (Array(state.waiters.values), recovered)
        }
        for waiter in waiters { waiter.resume() }
        return recovered
    }
}
