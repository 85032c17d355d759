// The seam between the runtime and where events and invocations are recorded: SQLite today, PostgreSQL later.
import Foundation

/// The durable record of events and invocations: everything is written here before work starts.
///
/// Implementations must be safe to use from several tasks and several processes at once (the CLI lists,
/// invokes and replays while `serve` runs), and every method is one transaction.
public protocol InvocationJournal: Sendable {
    /// Records an event and one queued invocation per function, in one transaction.
    ///
    /// The journal assigns the event id and stamps it into the record's `sequencer`.
    /// - Parameters:
    ///   - record: the event.
    ///   - functions: the subscribed functions to invoke.
    ///   - type: `.event` (queued for the workers) or `.requestResponse` (recorded as running, by the caller).
    ///   - memoryMB: each function's memory, for metering.
    ///   - deduplicate: when true, an `ObjectCreated` event for a key whose latest event is already the same
    ///     `ObjectCreated` from the same source name records nothing and returns that event.
    func append(
        _ record: S3EventRecord, functions: [String], type: InvocationType, deduplicate: Bool
    ) throws -> JournalAppend

    /// Records a RequestResponse invocation of `function` as running (as `append` with `.requestResponse`), unless
    /// `limit` invocations of it already run in every process sharing the journal: then nothing is recorded and it
    /// returns nil (Lambda's TooManyRequestsException). `nil` limit: always recorded.
    func appendRunning(_ record: S3EventRecord, function: String, limit: Int?) throws -> JournalAppend?

    /// Whether an invocation of `function` is ready to run (a read, cheap enough to poll).
    func hasReady(function: String, now: Date) throws -> Bool

    /// Whether a claim that finds nothing costs no more than `hasReady` (one statement that writes nothing), so
    /// workers claim at once instead of asking first. SQLite's claim takes the write lock: it asks first.
    var claimsWithoutAsking: Bool { get }

    /// Takes the oldest ready invocation of `function`: it becomes `running` with its attempt counted, leased for
    /// `lease` seconds (the function's timeout and a margin).
    func claim(function: String, now: Date, lease: TimeInterval) throws -> ClaimedInvocation?

    /// `claim`, unless `limit` invocations of `function` already run (in every process sharing the journal): then
    /// nothing is taken and the ready invocations are marked throttled. `nil`: no limit.
    func claim(function: String, now: Date, lease: TimeInterval, limit: Int?) throws -> ClaimedInvocation?

    /// Re-queues asynchronous invocations still `running` past their lease (their outcome could not be recorded:
    /// the attempt is taken back) or whose worker died (the attempt counts, `RecoveredAttempt`) and closes
    /// synchronous ones as failed. Returns how many were re-queued.
    func recoverExpiredLeases(now: Date) throws -> Int

    /// Records a successful attempt.
    func succeed(_ claim: ClaimedInvocation, result: String?, duration: Double, memoryMB: Int) throws

    /// Records a successful attempt and, in the same round trip where the database allows it, claims the next ready
    /// invocation of `next` for the same worker (as `claim(function:now:lease:)`), so a busy worker pays one round
    /// trip per invocation instead of two.
    func succeed(
        _ claim: ClaimedInvocation, result: String?, duration: Double, memoryMB: Int, thenClaim next: String, now: Date,
        lease: TimeInterval
    ) throws -> ClaimedInvocation?

    /// Records a failed attempt: `retryAt` queues it again (`retrying`, an Event invocation from then on: a
    /// synchronous call whose caller wants it retried is the workers' from here), else it ends `dead`
    /// (or `failed` for RequestResponse invocations, which the caller reports instead).
    func fail(_ claim: ClaimedInvocation, error: String, duration: Double, memoryMB: Int, retryAt: Date?) throws

    /// Ends a claimed invocation `dead` without running it, its attempt taken back (it has none left: every one
    /// ended without an outcome, `RecoveredAttempt`); no attempt is recorded for it.
    func deadLetterUnrun(_ claim: ClaimedInvocation, error: String) throws

    /// Puts a running invocation back in the queue without counting its attempt (graceful shutdown).
    func putBack(_ claim: ClaimedInvocation) throws

    /// Crash recovery: every `running` asynchronous invocation goes back to `queued`, its attempt counted and
    /// recorded as an error of unknown duration (`RecoveredAttempt`). Returns how many.
    func recoverRunning() throws -> Int

    /// Marks an invocation as throttled: it was ready while every reserved worker of its function was busy.
    /// - Returns: whether it was not marked yet: an invocation throttled again (a retry, a replay) counts once, in
    ///   `stats` and in `/metrics` alike (until session 29 the metric counted every throttled claim).
    @discardableResult func markThrottled(invocation id: Int64) throws -> Bool

    /// Counts a synchronous call refused at the function's concurrency (429), which journals no invocation:
    /// Lambda counts it as a throttle, and `statistics` adds it to the function's throttles.
    func countRefusedCall(function: String) throws

    /// Re-queues the finished or dead invocations of one event. Returns how many.
    func replay(eventID: Int64) throws -> Int

    /// Re-queues every `dead` and `failed` invocation but those of the `excluded` events. Returns how many.
    func replayFailed(excluding excluded: Set<Int64>) throws -> Int

    /// Re-queues the finished or dead invocations of an event whose original `replay` put back from `failed/`, and
    /// records in one transaction that the event stored its original (`S3EventRecord.Object.newlyStored`): its
    /// judge may refuse it out of the store again, and a concurrent replay cannot find it "stored before" between
    /// the two. Returns how many; throws `JournalError.noSuchEvent` for an unknown id.
    func replayRestored(eventID: Int64) throws -> Int

    /// Records that a replay found an event's original in the store (`newlyStored` cleared), so a refusal of the
    /// replayed work keeps the stored picture; unless an invocation of the event is still queued, running or
    /// retrying: its original was then put back by another replay and waits for its judge, which must be free to
    /// refuse it (until session 36 it was cleared, and the refused picture was kept unjudged). Returns whether it
    /// was cleared; throws `JournalError.noSuchEvent` for an unknown id.
    @discardableResult func clearNewlyStored(eventID: Int64) throws -> Bool

    /// One event.
    func event(id: Int64) throws -> JournaledEvent?

    /// Invocations, newest first, optionally of one state and one function.
    func invocations(state: InvocationState?, function: String?, limit: Int) throws -> [InvocationSummary]

    /// The events after `eventID`, oldest first, at most `limit`, each with the states of its invocations: a page
    /// for a reader that follows the journal in order (the event stream), which asks for the next page after the
    /// last id of this one.
    func events(after eventID: Int64, limit: Int) throws -> [EventProgress]

    /// The events of `ids` that the journal holds, oldest first, each with the states of its invocations.
    func events(ids: [Int64]) throws -> [EventProgress]

    /// The ids of the events with an invocation still queued, running or retrying, oldest first.
    func unfinishedEventIDs() throws -> [Int64]

    /// The newest event id and the newest one `prune` forgot: a reader that had read up to an id below the latter
    /// may have missed events.
    func eventBounds() throws -> EventBounds

    /// Per-function counters derived from the journal, the counts of what `prune` forgot included.
    func statistics(now: Date) throws -> [FunctionStatistics]

    /// Forgets finished work older than `cutoff`, one batch in one transaction: the candidates are the events after
    /// id `after` created before `cutoff` whose every invocation succeeded, the `limit` lowest ids of them; each goes,
    /// with its invocations and attempts, and their counts are kept per function (`PrunedTotals`), so `statistics`
    /// still counts them (its percentiles are those of what is kept). Dead, failed, waiting and running work stays,
    /// and so does a removal event while an older event of its key stays (the de-duplication of `append` reads the
    /// key's history: an upload after the removal is new): such a candidate is kept, and the next batch starts after
    /// it all the same, so kept removals neither use up a pass nor end it (`prunePass`). The newest id forgotten is kept
    /// (`eventBounds().prunedThrough`), and no id is given again.
    /// - Returns: how many events were forgotten, and the id the next batch starts after (nil: no candidates left).
    func prune(before cutoff: Date, limit: Int, after: Int64) throws -> PruneBatch

    /// Each function's waiting invocations and the age of the oldest, for the `/metrics` gauges (cheaper than
    /// `statistics`: a scrape may read it every few seconds).
    func queueDepths(now: Date) throws -> [QueueDepth]

    /// Asks the journal to call `wake` whenever any process queues work (PostgreSQL's LISTEN/NOTIFY), with the
    /// function the work is for (nil: any function), so idle workers need not wait for their next poll. A journal
    /// without such a channel ignores it: the runtime polls.
    func onWorkQueued(_ wake: @escaping @Sendable (_ function: String?) -> Void)

    /// Which database holds the journal, for `/healthz` and logs (`sqlite`, `postgresql postgres://…`).
    var databaseDescription: String { get }
}

/// What one batch of `InvocationJournal.prune` did.
public struct PruneBatch: Sendable, Equatable {
    /// How many events were forgotten.
    public var pruned: Int
    /// The highest id the batch looked at, where the next batch starts after; nil when it found fewer than its limit
    /// of candidates (the pass is done).
    public var next: Int64?

    public init(pruned: Int, next: Int64?) {
        self.pruned = pruned
        self.next = next
    }
}

extension InvocationJournal {
    /// The first batch of a pass, from the oldest event. - Returns: how many events were forgotten.
    public func prune(before cutoff: Date, limit: Int) throws -> Int {
        try prune(before: cutoff, limit: limit, after: 0).pruned
    }

    /// Forgets all finished work older than `cutoff`, `batch` candidates to a transaction, in id order, until every
    /// candidate was looked at or `stop` says so (a batch that forgets little or nothing does not end it).
    /// - Returns: how many events were forgotten.
    public func prunePass(before cutoff: Date, batch: Int, stop: () -> Bool = { false }) throws -> Int {
        var total = 0
        var after: Int64 = 0
        while true {
            let done = try prune(before: cutoff, limit: batch, after: after)
            total += done.pruned
            guard let next = done.next, next > after, !stop() else { return total }
            after = next
        }
    }

    /// Ask first (`hasReady`), then claim.
    public var claimsWithoutAsking: Bool { false }

    /// No notification channel: the runtime's polling finds work queued by other processes.
    public func onWorkQueued(_ wake: @escaping @Sendable (_ function: String?) -> Void) {}

    /// From the full statistics, for journals without a cheaper query.
    public func queueDepths(now: Date) throws -> [QueueDepth] {
        try statistics(now: now).map {
            QueueDepth(function: $0.function, waiting: $0.queueDepth, oldestAge: $0.oldestQueuedAge)
        }
    }

    /// The journal's type name, for journals that do not say.
    public var databaseDescription: String { String(describing: type(of: self)) }

    /// One process owns the journal (SQLite): its workers, no more than the limit, are the limit.
    public func claim(function: String, now: Date, lease: TimeInterval, limit: Int?) throws -> ClaimedInvocation? {
        try claim(function: function, now: now, lease: lease)
    }

    /// One process owns the journal (SQLite): the runtime's own slots already hold the limit.
    public func appendRunning(_ record: S3EventRecord, function: String, limit: Int?) throws -> JournalAppend? {
        try append(record, functions: [function], type: .requestResponse, deduplicate: false)
    }

    /// The outcome, then a claim: two steps (a journal whose database cannot do both in one round trip).
    public func succeed(
        _ claim: ClaimedInvocation, result: String?, duration: Double, memoryMB: Int, thenClaim next: String, now: Date,
        lease: TimeInterval
    ) throws -> ClaimedInvocation? {
        try succeed(claim, result: result, duration: duration, memoryMB: memoryMB)
        return try self.claim(function: next, now: now, lease: lease)
    }

    /// Claims with a lease of 15 minutes (Lambda's longest timeout).
    public func claim(function: String, now: Date) throws -> ClaimedInvocation? {
        try claim(function: function, now: now, lease: 900)
    }
}

/// One function's queue: invocations waiting (queued or retrying) and how long the oldest has waited.
public struct QueueDepth: Sendable, Equatable {
    /// The function.
    public var function: String
    /// Queued and retrying invocations.
    public var waiting: Int
    /// Seconds since the oldest of them was queued; 0 when none waits.
    public var oldestAge: Double

    /// - Parameters: see the properties.
    public init(function: String, waiting: Int, oldestAge: Double) {
        self.function = function
        self.waiting = waiting
        self.oldestAge = oldestAge
    }
}

/// How a function is invoked, named as Lambda names it.
public enum InvocationType: String, Codable, Sendable, CaseIterable {
    /// Run now and return the result to the caller.
    case requestResponse = "RequestResponse"
    /// Queue it; the runtime runs it with retries and a dead-letter.
    case event = "Event"
    /// Validate the payload and the role; run nothing.
    case dryRun = "DryRun"
}

/// Where an invocation is in its life: queued → running → succeeded | retrying → … → dead.
public enum InvocationState: String, Codable, Sendable, CaseIterable {
    /// Waiting for a worker.
    case queued
    /// A worker is running it.
    case running
    /// Failed, waiting for its backoff before the next attempt.
    case retrying
    /// Done.
    case succeeded
    /// A RequestResponse invocation that failed (its caller got the error).
    case failed
    /// Out of retries or too old: dead-lettered.
    case dead
}

/// What `append` did.
public struct JournalAppend: Sendable, Equatable {
    /// The event's id.
    public var eventID: Int64
    /// The record as journaled (with its sequencer).
    public var record: S3EventRecord
    /// The invocation ids, by function.
    public var invocations: [String: Int64]
    /// True when the event was already journaled and nothing new was recorded.
    public var duplicate: Bool

    /// - Parameters: see the properties.
    public init(eventID: Int64, record: S3EventRecord, invocations: [String: Int64], duplicate: Bool) {
        self.eventID = eventID
        self.record = record
        self.invocations = invocations
        self.duplicate = duplicate
    }
}

/// An event and where its invocations are: what a reader following the journal needs (`events(after:limit:)`).
public struct EventProgress: Sendable, Equatable {
    /// Its id.
    public var id: Int64
    /// `ObjectCreated:Put`, `ObjectRemoved:Delete`, ...
    public var name: String
    /// The object key.
    public var key: String
    /// The name it arrived under.
    public var sourceName: String?
    /// When it was journaled.
    public var createdAt: Date
    /// The states of its invocations, by invocation id (empty when no function was subscribed to it).
    public var states: [InvocationState]

    /// - Parameters: see the properties.
    public init(
        id: Int64, name: String, key: String, sourceName: String?, createdAt: Date, states: [InvocationState]
    ) {
        self.id = id
        self.name = name
        self.key = key
        self.sourceName = sourceName
        self.createdAt = createdAt
        self.states = states
    }

    /// Whether every invocation has succeeded, failed or been dead-lettered.
    public var isFinished: Bool { states.allSatisfy { $0 == .succeeded || $0 == .failed || $0 == .dead } }
}

/// How far the journal's event ids go (`eventBounds()`).
public struct EventBounds: Sendable, Equatable {
    /// The newest event's id (0: none yet).
    public var newest: Int64
    /// The newest event id `prune` has forgotten (0: none): events above an id below it may be gone.
    public var prunedThrough: Int64

    /// - Parameters: see the properties.
    public init(newest: Int64, prunedThrough: Int64) {
        self.newest = newest
        self.prunedThrough = prunedThrough
    }
}

/// An event as the journal holds it.
public struct JournaledEvent: Sendable, Equatable {
    /// Its id (also its sequencer).
    public var id: Int64
    /// The S3-shaped record.
    public var record: S3EventRecord
    /// When it was journaled.
    public var createdAt: Date

    /// - Parameters: see the properties.
    public init(id: Int64, record: S3EventRecord, createdAt: Date) {
        self.id = id
        self.record = record
        self.createdAt = createdAt
    }
}

/// An invocation a worker has taken.
public struct ClaimedInvocation: Sendable, Equatable {
    /// The invocation's id.
    public var id: Int64
    /// The function to run.
    public var function: String
    /// How it was invoked.
    public var type: InvocationType
    /// This attempt's number, from 1.
    public var attempt: Int
    /// When it was (re)queued, for `max_event_age`.
    public var enqueuedAt: Date
    /// When this attempt started.
    public var startedAt: Date
    /// The event it handles.
    public var event: JournaledEvent
    /// When it became ready to run (queued, or its retry backoff over); `nil` when not known.
    public var readyAt: Date? = nil

    /// - Parameters: see the properties.
    public init(
        id: Int64, function: String, type: InvocationType, attempt: Int, enqueuedAt: Date, startedAt: Date,
        event: JournaledEvent, readyAt: Date? = nil
    ) {
        self.id = id
        self.function = function
        self.type = type
        self.attempt = attempt
        self.enqueuedAt = enqueuedAt
        self.startedAt = startedAt
        self.event = event
        self.readyAt = readyAt
    }
}

/// One line of `picpipe events`.
public struct InvocationSummary: Codable, Sendable, Equatable {
    /// The invocation's id.
    public var id: Int64
    /// The event's id.
    public var eventID: Int64
    /// `ObjectCreated:Put`, …
    public var eventName: String
    /// The object key.
    public var key: String
    /// The name it arrived under.
    public var sourceName: String?
    /// The function.
    public var function: String
    /// How it was invoked.
    public var type: String
    /// Its state.
    public var state: String
    /// Attempts made so far.
    public var attempt: Int
    /// The last attempt's duration in seconds.
    public var duration: Double?
    /// The last error.
    public var error: String?
    /// When it was (re)queued, ISO 8601.
    public var enqueuedAt: String
    /// When it will be tried next, for `retrying`, ISO 8601.
    public var notBefore: String?

    /// - Parameters: see the properties.
    public init(
        id: Int64, eventID: Int64, eventName: String, key: String, sourceName: String?, function: String,
        type: String, state: String, attempt: Int, duration: Double?, error: String?, enqueuedAt: String,
        notBefore: String?
    ) {
        self.id = id
        self.eventID = eventID
        self.eventName = eventName
        self.key = key
        self.sourceName = sourceName
        self.function = function
        self.type = type
        self.state = state
        self.attempt = attempt
        self.duration = duration
        self.error = error
        self.enqueuedAt = enqueuedAt
        self.notBefore = notBefore
    }

    enum CodingKeys: String, CodingKey {
        case id
        case eventID = "event_id"
        case eventName = "event_name"
        case key
        case sourceName = "source_name"
        case function, type, state, attempt, duration, error
        case enqueuedAt = "enqueued_at"
        case notBefore = "not_before"
    }

    /// Every key, `null` when there is no value, as `query --json` and `metadata` print theirs (until session 29
    /// `events --json` left `error`, `duration`, `source_name` and `not_before` out when they had none).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(eventID, forKey: .eventID)
        try container.encode(eventName, forKey: .eventName)
        try container.encode(key, forKey: .key)
        try container.encode(sourceName, forKey: .sourceName)
        try container.encode(function, forKey: .function)
        try container.encode(type, forKey: .type)
        try container.encode(state, forKey: .state)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(duration, forKey: .duration)
        try container.encode(error, forKey: .error)
        try container.encode(enqueuedAt, forKey: .enqueuedAt)
        try container.encode(notBefore, forKey: .notBefore)
    }
}

/// Why the journal refused.
public enum JournalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No event has that id.
    case noSuchEvent(Int64)
    /// A journaled record could not be decoded.
    case corruptRecord(eventID: Int64, reason: String)

    public var description: String {
        switch self {
        case .noSuchEvent(let id): return "no event with id \(id) in the journal"
        case .corruptRecord(let id, let reason): return "event \(id): its record cannot be read: \(reason)"
        }
    }
}
