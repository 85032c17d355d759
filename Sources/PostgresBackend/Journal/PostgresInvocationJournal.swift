// The journal and queue in PostgreSQL, shared by every picpipe process of one installation: claims with
// FOR UPDATE SKIP LOCKED, leases renewed by a heartbeat, LISTEN/NOTIFY to wake idle workers.
import Foundation
import Locking
import Logging
import PipelineCore
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#endif

/// The PostgreSQL implementation of `InvocationJournal`, with the semantics of `SQLiteInvocationJournal` across
/// processes and machines.
///
/// - A claim is one `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED)`: concurrent workers never take the same
///   invocation and never wait for each other.
/// - Each claim names its owner (this process) and holds a lease of the function's timeout plus a margin; a
///   heartbeat renews the owner's liveness and its leases every `heartbeatInterval`. Any live process re-queues
///   an invocation whose lease expired or whose owner stopped beating for `deadAfter` (kill -9, power loss,
///   network cut): `recoverExpiredLeases` runs in every worker's gauge loop, so no restart is needed.
/// - A process registers (its row in `picpipe_journal.processes`, then the heartbeat) when it first takes work: a
///   claim, a synchronous call, a worker's start (`recoverRunning`). One that only reads or queues work (`events`,
///   `stats`, `replay`, a watcher) never shows as a live peer; until session 34 every opened journal registered.
/// - `recoverRunning` (run at a worker's start) takes back only the claims of dead owners: other processes'
///   running invocations are theirs.
/// - Appending an event sends `NOTIFY picpipe_work`; `onWorkQueued` listens on its own connection.
public final class PostgresInvocationJournal: InvocationJournal {
    let pool: PostgresConnectionPool
    /// The queue's own statements (claims, outcomes, leases): their commits do not wait for the disk
    /// (`synchronous_commit=off`), as SQLite's journal runs with `synchronous=NORMAL`. A database crash may forget
    /// the last fraction of a second of them, never out of order (a kept outcome keeps everything written before
    /// it): a forgotten claim or outcome only means the invocation runs again, at least once, as after any crash.
    /// Appends, replays and everything else commit durably on `pool`, since the upload is removed after its event
    /// is journaled.
    let queue: PostgresConnectionPool
    /// This process's name in `owner` columns: host, pid and a random part (pids are reused).
    public let owner: String
    /// This machine's name, for the process's row.
    private let hostName: String
    /// Whether this process is in `picpipe_journal.processes`, beating (see `registered()`).
    private let registration = Locked(Registration.notYet)
    /// The invocations this process is running now (claimed, or appended RequestResponse, outcome not yet written):
    /// the only ones the heartbeat renews. An outcome whose write failed (the database restarted under it) leaves
    /// the set, so its lease runs out and another worker runs it again, instead of being renewed for ever.
    private let live: LiveClaims
    private let listener: NotificationListener
    private let logger: Logger

    /// How often the heartbeat runs.
    static let heartbeatInterval: TimeInterval = 2
    /// A process that has not beaten for this long is dead; its claims go back to the queue.
    static let deadAfter: TimeInterval = 10
    /// The channel appends notify.
    static let channel = "picpipe_work"

    /// Connects and migrates (once across processes); the process registers when it first takes work.
    public init(
        pool: PostgresConnectionPool, queue: PostgresConnectionPool? = nil,
        logger: Logger = Logger(label: "picpipe.journal")
    ) throws {
        self.pool = pool
        self.queue = queue ?? pool
        self.logger = logger
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        owner = "\(hostName):\(getpid()):\(UUID().uuidString.prefix(8).lowercased())"
        try JournalSchema.migrator.migrate(pool)
        live = LiveClaims()
        listener = NotificationListener(pool: pool, channel: Self.channel, logger: logger)
    }

    deinit {
        if case .beating(let heartbeat) = registration.withLock({ $0 }) { heartbeat.stop() }
        listener.stop()
    }

    /// A process's place among the live ones.
    private enum Registration {
        /// It has taken no work: no row, no heartbeat.
        case notYet
        /// Its row is in `picpipe_journal.processes`, renewed by the heartbeat.
        case beating(Heartbeat)
        /// It has left (`abandon`): it does not come back.
        case left
    }

    /// This process's heartbeat, registering the process first when it takes work for the first time; nil once it
    /// has left. The row is written before the claim or call that needed it, so no live process ever takes that
    /// work for a dead process's.
    @discardableResult
    private func registered() throws -> Heartbeat? {
        try registration.withLock { registration -> Heartbeat? in
            switch registration {
            case .beating(let heartbeat): return heartbeat
            case .left: return nil
            case .notYet:
                try pool.execute(
                    """
                    INSERT INTO picpipe_journal.processes (owner, host, pid, started_at, beat_at)
                    VALUES ($1, $2, $3, extract(epoch FROM clock_timestamp()), extract(epoch FROM clock_timestamp()))
                    """,
                    [.text(owner), .text(hostName), .int(Int(getpid()))])
                let live = self.live
                let heartbeat = Heartbeat(
                    pool: pool, owner: owner, interval: Self.heartbeatInterval, liveClaims: { live.ids },
                    logger: logger)
                registration = .beating(heartbeat)
                return heartbeat
            }
        }
    }

    /// Stops the heartbeat and removes this process's row, so its claims count as a dead process's at once
    /// (what a `kill -9` becomes after `deadAfter`). Every command calls it as it exits (`DatabaseBackends.close`),
    /// so `picpipe_journal.processes` names only processes still running (until session 34 nothing called it and
    /// the row of every CLI run and stopped serve stayed for a day); tests call it for a crash.
    public func abandon() {
        let heartbeat = registration.withLock { registration -> Heartbeat? in
            defer { registration = .left }
            guard case .beating(let heartbeat) = registration else { return nil }
            return heartbeat
        }
        listener.stop()
        guard let heartbeat else { return }  // never registered: no row
        heartbeat.stop()
        _ = try? pool.execute("DELETE FROM picpipe_journal.processes WHERE owner = $1", [.text(owner)])
    }

    /// Stands in for a lost database in tests: this process (registered now if it was not) counts as having missed
    /// a beat.
    func recordMissedBeat() throws { try registered()?.recordMissedBeat() }

    public var databaseDescription: String { "postgresql \(pool.url)" }

    /// The names of the journal's migrations applied so far.
    public func appliedMigrations() throws -> [String] { try JournalSchema.migrator.applied(pool) }

    public func onWorkQueued(_ wake: @escaping @Sendable (_ function: String?) -> Void) {
        listener.add(wake)
    }

    public func append(
        _ record: S3EventRecord, functions: [String], type: InvocationType, deduplicate: Bool
    ) throws -> JournalAppend {
        guard let appended = try append(record, functions: functions, type: type, deduplicate: deduplicate, limit: nil)
        else { throw DatabaseError.statementFailed(sql: "append", reason: "nothing appended") }
        return appended
    }

    /// A RequestResponse invocation, unless `limit` invocations of the function already run in the processes that
    /// beat: checked and recorded under the function's claim lock (as `claim_limited`), so two callers cannot both
    /// take the last slot.
    public func appendRunning(_ record: S3EventRecord, function: String, limit: Int?) throws -> JournalAppend? {
        try append(record, functions: [function], type: .requestResponse, deduplicate: false, limit: limit)
    }

    /// Whether a journaled event name is an ObjectCreated one.
    private static func isCreation(_ name: String?) -> Bool {
        EventName(rawValue: name ?? "").family == "ObjectCreated"
    }

    private func append(
        _ record: S3EventRecord, functions: [String], type: InvocationType, deduplicate: Bool, limit: Int?
    ) throws -> JournalAppend? {
        // A synchronous call runs in this process: its invocation is this process's running claim.
        if type != .event { try registered() }
        let now = Date().timeIntervalSince1970
        let owner = self.owner
        return try pool.transaction { connection -> JournalAppend? in
            if let limit, let function = functions.first {
                try connection.run(
                    "SELECT pg_advisory_xact_lock(hashtext($1))", [.text("picpipe.claim:" + function)])
                let live =
                    try connection.run(
                        """
                        SELECT count(*) AS live FROM picpipe_journal.invocations
                        WHERE function = $1 AND state = 'running' AND owner IN \(Self.liveOwners)
                        """, [.text(function)]
                    ).first?.value("live", as: Int64.self) ?? 0
                if live >= limit { return nil }
            }
            if deduplicate, record.eventName.family == "ObjectCreated" {
                // Two appenders of the same key take turns, so a rescan and an inotify event journal it once.
                try connection.run(
                    "SELECT pg_advisory_xact_lock(hashtext($1))", [.text("picpipe.append:" + record.s3.object.key)])
                // Journaled already: the latest event of this key under this name is a creation and nothing removed
                // the key since (copies under other names may have been journaled in between: a rescan after a
                // crash must still find it).
                if let latest = try connection.run(
                    """
                    SELECT id, name, record FROM picpipe_journal.events
                    WHERE key = $1 AND source_name IS NOT DISTINCT FROM $2 ORDER BY id DESC LIMIT 1
                    """, [.text(record.s3.object.key), .text(record.s3.object.sourceName)]
                ).first, let id = latest.value("id", as: Int64.self),
                    Self.isCreation(latest.value("name", as: String.self)),
                    try connection.run(
                        """
                        SELECT NOT EXISTS (SELECT 1 FROM picpipe_journal.events
                        WHERE key = $1 AND id > $2 AND name LIKE 'ObjectRemoved:%') AS clear
                        """, [.text(record.s3.object.key), .integer(id)]
                    ).first?.value("clear", as: Bool.self) == true
                {
                    let existing = try Self.decodeRecord(latest.value("record") ?? "", id: id)
                    var invocations: [String: Int64] = [:]
                    for row in try connection.run(
                        "SELECT id, function FROM picpipe_journal.invocations WHERE event_id = $1", [.integer(id)])
                    {
                        if let function = row.value("function", as: String.self),
                            let invocation = row.value("id", as: Int64.self)
                        {
                            invocations[function] = invocation
                        }
                    }
                    return JournalAppend(eventID: id, record: existing, invocations: invocations, duplicate: true)
                }
            }
            guard
                let id = try connection.run("SELECT nextval('picpipe_journal.event_ids') AS id").first?.value(
                    "id", as: Int64.self)
            else { throw DatabaseError.statementFailed(sql: "nextval", reason: "no event id") }
            var stamped = record
            stamped.s3.object.sequencer = String(format: "%016llX", UInt64(id))
            let json = String(decoding: try JSONEncoder().encode(stamped), as: UTF8.self)
            try connection.run(
                """
                INSERT INTO picpipe_journal.events (id, name, key, source_name, etag, size, record, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """,
                [
                    .integer(id), .text(stamped.eventName.rawValue), .text(stamped.s3.object.key),
                    .text(stamped.s3.object.sourceName), .text(stamped.s3.object.eTag), .int(stamped.s3.object.size),
                    .text(json), .real(now),
                ])
            let initialState: InvocationState = type == .event ? .queued : .running
            var invocations: [String: Int64] = [:]
            for function in functions {
                let synchronous = type != .event
                let row = try connection.run(
                    """
                    INSERT INTO picpipe_journal.invocations (event_id, function, type, state, attempt, enqueued_at,
                        not_before, started_at, owner, lease_until, lease_seconds)
                    VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10) RETURNING id
                    """,
                    [
                        .integer(id), .text(function), .text(type.rawValue), .text(initialState.rawValue),
                        .int(synchronous ? 1 : 0), .real(now), .real(synchronous ? now : nil),
                        .text(synchronous ? owner : nil), .real(synchronous ? now + Self.synchronousLease : nil),
                        .real(synchronous ? Self.synchronousLease : nil),
                    ])
                invocations[function] = row.first?.value("id", as: Int64.self)
                if synchronous, let invocation = invocations[function] { live.insert(invocation) }
                if !synchronous {
                    try connection.run("SELECT pg_notify($1, $2)", [.text(Self.channel), .text(function)])
                }
            }
            return JournalAppend(eventID: id, record: stamped, invocations: invocations, duplicate: false)
        }
    }

    /// How long a RequestResponse invocation may stay `running` before its outcome counts as lost.
    static let synchronousLease: TimeInterval = 900

    /// A claim that finds nothing is one statement that locks and writes nothing (SKIP LOCKED), one round trip
    /// like `hasReady`: workers claim without asking first.
    public var claimsWithoutAsking: Bool { true }

    public func hasReady(function: String, now: Date) throws -> Bool {
        try queue.run(
            """
            SELECT EXISTS (SELECT 1 FROM picpipe_journal.invocations
                WHERE function = $1 AND state IN ('queued', 'retrying') AND not_before <= $2) AS ready
            """, [.text(function), .real(now.timeIntervalSince1970)]
        ).first?.value("ready", as: Bool.self) ?? false
    }

    public func claim(function: String, now: Date, lease: TimeInterval) throws -> ClaimedInvocation? {
        try claim(function: function, now: now, lease: lease, limit: nil)
    }

    public func claim(function: String, now: Date, lease: TimeInterval, limit: Int?) throws -> ClaimedInvocation? {
        try registered()
        let at = now.timeIntervalSince1970
        let rows: [PostgresRandomAccessRow]
        if let limit {
            // Counting the live claims of every process needs the claims of this function to take turns: see
            // the `claim_limited` migration.
            rows = try queue.run(
                """
                SELECT id, type, attempt, enqueued_at, not_before, event_id, record, created_at
                FROM picpipe_journal.claim_limited($1, $2, $3, $4, $5::integer, $6)
                """,
                [.text(function), .real(at), .text(owner), .real(lease), .int(limit), .real(Self.deadAfter)])
        } else {
            rows = try queue.run(
                """
                SELECT id, type, attempt, enqueued_at, not_before, event_id, record, created_at
                FROM picpipe_journal.claim_next($1, $2, $3, $4)
                """, [.text(function), .real(at), .text(owner), .real(lease)])
        }
        return try claimed(rows.first, function: function, now: now)
    }

    /// The claim a `claim_next` (or `claim_limited`) row describes, now live in this process.
    private func claimed(_ row: PostgresRandomAccessRow?, function: String, now: Date) throws -> ClaimedInvocation? {
        let at = now.timeIntervalSince1970
        guard let row, let id = row.value("id", as: Int64.self), let eventID = row.value("event_id", as: Int64.self)
        else { return nil }
        live.insert(id)
        let enqueuedAt = row.value("enqueued_at", as: Double.self) ?? at
        let notBefore = row.value("not_before", as: Double.self) ?? at
        let event = JournaledEvent(
            id: eventID, record: try Self.decodeRecord(row.value("record") ?? "", id: eventID),
            createdAt: Date(timeIntervalSince1970: row.value("created_at", as: Double.self) ?? at))
        return ClaimedInvocation(
            id: id, function: function, type: InvocationType(rawValue: row.value("type") ?? "") ?? .event,
            attempt: row.value("attempt", as: Int.self) ?? 1, enqueuedAt: Date(timeIntervalSince1970: enqueuedAt),
            startedAt: now, event: event, readyAt: Date(timeIntervalSince1970: max(enqueuedAt, notBefore)))
    }

    public func succeed(_ claim: ClaimedInvocation, result: String?, duration: Double, memoryMB: Int) throws {
        defer { live.remove(claim.id) }
        // One statement (its own transaction): the outcome and the attempt's row in one round trip.
        try queue.execute(
            """
            WITH outcome AS (
                UPDATE picpipe_journal.invocations SET state = 'succeeded', finished_at = $1, duration = $2,
                    error = NULL, result = $3, lease_until = NULL
                WHERE \(Self.stillThisClaim(from: 4)) RETURNING id)
            \(Self.insertAttempt(from: 7))
            """,
            [.real(Date().timeIntervalSince1970), .real(duration), .text(result)] + stillThisClaimValues(claim)
                + Self.attemptValues(claim, duration: duration, memoryMB: memoryMB, error: nil))
    }

    /// One call (`succeed_and_claim`): the success, its attempt's row, and the claim of the next ready invocation of
    /// `next`.
    public func succeed(
        _ claim: ClaimedInvocation, result: String?, duration: Double, memoryMB: Int, thenClaim next: String, now: Date,
        lease: TimeInterval
    ) throws -> ClaimedInvocation? {
        defer { live.remove(claim.id) }
        let rows = try queue.run(
            """
            SELECT id, type, attempt, enqueued_at, not_before, event_id, record, created_at
            FROM picpipe_journal.succeed_and_claim($1, $2, $3::integer, $4, $5, $6, $7, $8, $9::integer, $10, $11, $12)
            """,
            [
                .integer(claim.id), .text(owner), .int(claim.attempt), .real(Date().timeIntervalSince1970),
                .real(duration), .text(result), .text(claim.function), .real(claim.startedAt.timeIntervalSince1970),
                .int(memoryMB), .text(next), .real(now.timeIntervalSince1970), .real(lease),
            ])
        return try claimed(rows.first, function: next, now: now)
    }

    /// The outcome's row is still this claim's: running, owned by this process, the same attempt. A write retried
    /// after a lost connection (which may have committed) then changes nothing the second time, and a late outcome
    /// of an invocation another worker took back after its lease ran out is not written over that worker's.
    private static func stillThisClaim(from first: Int) -> String {
        "id = $\(first) AND state = 'running' AND owner = $\(first + 1) AND attempt = $\(first + 2)"
    }

    private func stillThisClaimValues(_ claim: ClaimedInvocation) -> [SQLValue] {
        [.integer(claim.id), .text(owner), .int(claim.attempt)]
    }

    public func fail(_ claim: ClaimedInvocation, error: String, duration: Double, memoryMB: Int, retryAt: Date?) throws
    {
        defer { live.remove(claim.id) }
        let state: InvocationState =
            retryAt != nil ? .retrying : (claim.type == .requestResponse ? .failed : .dead)
        let type: InvocationType = retryAt != nil ? .event : claim.type
        try queue.execute(
            """
            WITH outcome AS (
                UPDATE picpipe_journal.invocations SET state = $1, finished_at = $2, duration = $3, error = $4,
                    not_before = $5, lease_until = NULL, type = $6
                WHERE \(Self.stillThisClaim(from: 7)) RETURNING id)
            \(Self.insertAttempt(from: 10))
            """,
            [
                .text(state.rawValue), .real(Date().timeIntervalSince1970), .real(duration), .text(error),
                .real((retryAt ?? Date()).timeIntervalSince1970), .text(type.rawValue),
            ] + stillThisClaimValues(claim)
                + Self.attemptValues(claim, duration: duration, memoryMB: memoryMB, error: error))
    }

    /// The attempt's row, its values bound from `$first` on (see `attemptValues`), written only when the `outcome`
    /// statement before it changed the invocation (so an outcome is counted once).
    private static func insertAttempt(from first: Int) -> String {
        let placeholders = (first..<first + 7).map { "$\($0)" }.joined(separator: ", ")
        return """
            INSERT INTO picpipe_journal.attempts (invocation_id, function, attempt, started_at, duration, memory_mb,
                error)
            SELECT \(placeholders) FROM outcome
            """
    }

    private static func attemptValues(_ claim: ClaimedInvocation, duration: Double, memoryMB: Int, error: String?)
        -> [SQLValue]
    {
        [
            .integer(claim.id), .text(claim.function), .int(claim.attempt),
            .real(claim.startedAt.timeIntervalSince1970),
            .real(duration), .int(memoryMB), .text(error),
        ]
    }

    public func deadLetterUnrun(_ claim: ClaimedInvocation, error: String) throws {
        defer { live.remove(claim.id) }
        let now = Date().timeIntervalSince1970
        try queue.execute(
            """
            UPDATE picpipe_journal.invocations SET state = 'dead', attempt = GREATEST(attempt - 1, 0), finished_at = $1,
                duration = 0, error = $2, not_before = $1, lease_until = NULL
            WHERE \(Self.stillThisClaim(from: 3))
            """, [.real(now), .text(error)] + stillThisClaimValues(claim))
    }

    public func putBack(_ claim: ClaimedInvocation) throws {
        defer { live.remove(claim.id) }
        try queue.execute(
            """
            UPDATE picpipe_journal.invocations SET state = 'queued', attempt = GREATEST(attempt - 1, 0),
                started_at = NULL, owner = NULL, lease_until = NULL
            WHERE id = $1 AND state = 'running'
            """, [.integer(claim.id)])
        try queue.execute("SELECT pg_notify($1, $2)", [.text(Self.channel), .text(claim.function)])
    }

    /// Re-queues the running asynchronous invocations of dead owners, their attempts counted and each recorded as an
    /// error of unknown duration (Lambda's Runtime.ExitError), in one statement. `$1` is the error; `notBefore` the
    /// placeholder of the time they are ready again (nil: as they were).
    private static func requeueOfDeadOwners(notBefore: String?) -> String {
        """
        WITH taken AS (
            UPDATE picpipe_journal.invocations i SET state = 'queued', started_at = NULL, owner = NULL,
                lease_until = NULL, error = $1\(notBefore.map { ", not_before = " + $0 } ?? "")
            FROM (SELECT id, started_at, enqueued_at FROM picpipe_journal.invocations
                  WHERE state = 'running' AND type = 'Event' AND \(deadOwner) FOR UPDATE) cut
            WHERE i.id = cut.id
            RETURNING i.id, i.function, i.attempt, COALESCE(cut.started_at, cut.enqueued_at) AS started_at)
        INSERT INTO picpipe_journal.attempts (invocation_id, function, attempt, started_at, duration, memory_mb, error)
        SELECT id, function, attempt, started_at, 0, 0, $1 FROM taken WHERE attempt > 0
        """
    }

    /// The owners that are not beating any more (SQL, for the recovery statements). Right after the database server
    /// restarted every beat is old, and a process that starts then has seen no outage of its own: nobody is judged
    /// until the server has been up for `deadAfter` (until session 28 a worker started as the database came back
    /// took the live workers' claims at its start, ran them twice and counted a crash attempt for each).
    private static let deadOwner = """
        ((owner IS NULL OR owner NOT IN \(liveOwners))
            AND extract(epoch FROM pg_postmaster_start_time()) < extract(epoch FROM clock_timestamp()) - \(deadAfter))
        """

    /// The owners still beating (SQL, a subquery).
    private static let liveOwners = """
        (SELECT owner FROM picpipe_journal.processes
            WHERE beat_at >= extract(epoch FROM clock_timestamp()) - \(deadAfter))
        """

    public func recoverRunning() throws -> Int {
        // A worker's start: it shows as live from here on, before it judges others or claims.
        try registered()
        // Only dead processes' claims: other live workers' running invocations are theirs.
        let recovered = try pool.execute(
            Self.requeueOfDeadOwners(notBefore: nil), [.text(RecoveredAttempt.stoppedError)])
        try pool.execute(
            """
            UPDATE picpipe_journal.invocations SET state = 'failed', lease_until = NULL,
                error = 'the invoking process exited before the invocation finished'
            WHERE state = 'running' AND type = 'RequestResponse' AND \(Self.deadOwner)
            """)
        // Processes silent for a day are history.
        try pool.execute(
            "DELETE FROM picpipe_journal.processes WHERE beat_at < extract(epoch FROM clock_timestamp()) - 86400")
        if recovered > 0 { try pool.execute("SELECT pg_notify($1, '')", [.text(Self.channel)]) }
        return recovered
    }

    public func recoverExpiredLeases(now: Date) throws -> Int {
        // Right after the database was out of reach, every live process's beat and lease look expired (this one's
        // too): judged now, all running work would go back to the queue and run twice, its first outcome lost.
        guard try registered()?.hasBeatenSteadily(for: Self.deadAfter) == true else { return 0 }
        let at = now.timeIntervalSince1970
        let recovered = try pool.transaction { connection -> Int in
            // A dead owner's attempt counts (`RecoveredAttempt`): it may be the picture that stopped it.
            let fromDead = try connection.execute(
                Self.requeueOfDeadOwners(notBefore: "$2"),
                [.text(RecoveredAttempt.stoppedError + "; its worker stopped beating"), .real(at)])
            // A live owner whose lease ran out could not record the outcome (the database was away): its attempt is
            // taken back, as a put-back's is (until session 28 it counted, and with max_retries 0 a picture that had
            // succeeded was dead-lettered as a crash).
            let expired = try connection.execute(
                """
                UPDATE picpipe_journal.invocations SET state = 'queued', attempt = GREATEST(attempt - 1, 0),
                    started_at = NULL, owner = NULL, lease_until = NULL, not_before = $1,
                    error = 'the outcome of the last attempt was not recorded (its lease expired); run again'
                WHERE state = 'running' AND type = 'Event' AND lease_until < $1
                """, [.real(at)])
            // A caller whose process stopped beating exited (Ctrl-C, kill): the reason serve's start gives (until
            // session 32 it was closed as a lost outcome, "its lease expired").
            try connection.execute(
                """
                UPDATE picpipe_journal.invocations SET state = 'failed', lease_until = NULL,
                    error = 'the invoking process exited before the invocation finished'
                WHERE state = 'running' AND type = 'RequestResponse' AND \(Self.deadOwner)
                """)
            try connection.execute(
                """
                UPDATE picpipe_journal.invocations SET state = 'failed', lease_until = NULL,
                    error = 'the outcome was not recorded (its lease expired)'
                WHERE state = 'running' AND type = 'RequestResponse' AND lease_until < $1
                """, [.real(at)])
            return fromDead + expired
        }
        if recovered > 0 { try pool.execute("SELECT pg_notify($1, '')", [.text(Self.channel)]) }
        return recovered
    }

    @discardableResult public func markThrottled(invocation id: Int64) throws -> Bool {
        try queue.execute(
            "UPDATE picpipe_journal.invocations SET throttled = true WHERE id = $1 AND NOT throttled", [.integer(id)])
            > 0
    }

    public func countRefusedCall(function: String) throws {
        try pool.execute(
            """
            INSERT INTO picpipe_journal.refused_calls (function, count) VALUES ($1, 1)
            ON CONFLICT (function) DO UPDATE SET count = picpipe_journal.refused_calls.count + 1
            """, [.text(function)])
    }

    public func replay(eventID: Int64) throws -> Int {
        let count = try pool.transaction { connection -> Int in
            guard
                try connection.run("SELECT 1 FROM picpipe_journal.events WHERE id = $1", [.integer(eventID)]).first
                    != nil
            else { throw JournalError.noSuchEvent(eventID) }
            return try Self.requeue(
                connection, where: "event_id = $2 AND state IN ('succeeded', 'failed', 'dead')", [.integer(eventID)])
        }
        if count > 0 { try pool.execute("SELECT pg_notify($1, '')", [.text(Self.channel)]) }
        return count
    }

    public func replayFailed(excluding excluded: Set<Int64>) throws -> Int {
        // Integers only: the list is written into the statement.
        let others =
            excluded.isEmpty ? "" : " AND event_id NOT IN (\(excluded.map(String.init).joined(separator: ",")))"
        let count = try pool.withConnection { connection in
            try Self.requeue(connection, where: "state IN ('failed', 'dead')" + others, [])
        }
        if count > 0 { try pool.execute("SELECT pg_notify($1, '')", [.text(Self.channel)]) }
        return count
    }

    public func replayRestored(eventID: Int64) throws -> Int {
        let count = try pool.transaction { connection -> Int in
            try Self.setNewlyStored(true, eventID: eventID, connection)
            return try Self.requeue(
                connection, where: "event_id = $2 AND state IN ('succeeded', 'failed', 'dead')", [.integer(eventID)])
        }
        if count > 0 { try pool.execute("SELECT pg_notify($1, '')", [.text(Self.channel)]) }
        return count
    }

    public func clearNewlyStored(eventID: Int64) throws -> Bool {
        try pool.transaction { connection in
            // The event's row locked first, as `replayRestored` locks it before it re-queues: a replay that put the
            // original back either committed its re-queue before this look, or waits for this transaction.
            var record = try Self.lockedRecord(of: eventID, connection)
            let judging = try connection.run(
                """
                SELECT 1 FROM picpipe_journal.invocations
                WHERE event_id = $1 AND state IN ('queued', 'running', 'retrying') LIMIT 1
                """, [.integer(eventID)])
            guard judging.isEmpty, record.storedItsOriginal else { return false }
            record.s3.object.newlyStored = nil
            try Self.update(record, eventID: eventID, connection)
            return true
        }
    }

    /// An event's record, its row locked to the end of the transaction; throws `JournalError.noSuchEvent`.
    private static func lockedRecord(of eventID: Int64, _ connection: PostgresConnection) throws -> S3EventRecord {
        guard
            let row = try connection.run(
                "SELECT record FROM picpipe_journal.events WHERE id = $1 FOR UPDATE", [.integer(eventID)]
            ).first
        else { throw JournalError.noSuchEvent(eventID) }
        return try decodeRecord(row.value("record") ?? "", id: eventID)
    }

    private static func update(_ record: S3EventRecord, eventID: Int64, _ connection: PostgresConnection) throws {
        let json = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        try connection.run(
            "UPDATE picpipe_journal.events SET record = $1 WHERE id = $2", [.text(json), .integer(eventID)])
    }

    /// Rewrites `newlyStored` in an event's record, its row locked to the end of the transaction.
    private static func setNewlyStored(_ newlyStored: Bool, eventID: Int64, _ connection: PostgresConnection) throws {
        var record = try lockedRecord(of: eventID, connection)
        guard record.storedItsOriginal != newlyStored else { return }
        record.s3.object.newlyStored = newlyStored ? true : nil
        try update(record, eventID: eventID, connection)
    }

    private static func requeue(_ connection: PostgresConnection, where condition: String, _ values: [SQLValue]) throws
        -> Int
    {
        try connection.execute(
            """
            UPDATE picpipe_journal.invocations SET state = 'queued', type = 'Event', attempt = 0, error = NULL,
                result = NULL, enqueued_at = $1, not_before = $1, started_at = NULL, finished_at = NULL, owner = NULL,
                lease_until = NULL
            WHERE \(condition)
            """, [.real(Date().timeIntervalSince1970)] + values)
    }

    public func event(id: Int64) throws -> JournaledEvent? {
        guard
            let row = try pool.run(
                "SELECT record, created_at FROM picpipe_journal.events WHERE id = $1", [.integer(id)]
            ).first
        else { return nil }
        return JournaledEvent(
            id: id, record: try Self.decodeRecord(row.value("record") ?? "", id: id),
            createdAt: Date(timeIntervalSince1970: row.value("created_at", as: Double.self) ?? 0))
    }

    public func invocations(state: InvocationState?, function: String?, limit: Int) throws -> [InvocationSummary] {
        var conditions: [String] = []
        var values: [SQLValue] = []
        if let state {
            values.append(.text(state.rawValue))
            conditions.append("i.state = $\(values.count)")
        }
        if let function {
            values.append(.text(function))
            conditions.append("i.function = $\(values.count)")
        }
        values.append(.int(max(limit, 0)))
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try pool.run(
            """
            SELECT i.id, i.event_id, e.name, e.key, e.source_name, i.function, i.type, i.state, i.attempt,
                i.duration, i.error, i.enqueued_at, i.not_before
            FROM picpipe_journal.invocations i JOIN picpipe_journal.events e ON e.id = i.event_id
            \(filter) ORDER BY i.id DESC LIMIT $\(values.count)
            """, values
        ).map { row in
            let state = row.value("state", as: String.self) ?? ""
            return InvocationSummary(
                id: row.value("id") ?? 0, eventID: row.value("event_id") ?? 0, eventName: row.value("name") ?? "",
                key: row.value("key") ?? "", sourceName: row.value("source_name"),
                function: row.value("function") ?? "",
                type: row.value("type") ?? "", state: state, attempt: row.value("attempt") ?? 0,
                duration: row.value("duration"), error: row.value("error"),
                enqueuedAt: Self.iso(row.value("enqueued_at") ?? 0),
                notBefore: state == InvocationState.retrying.rawValue ? Self.iso(row.value("not_before") ?? 0) : nil)
        }
    }

    public func events(after eventID: Int64, limit: Int) throws -> [EventProgress] {
        Self.progress(
            try pool.run(
                """
                SELECT e.id, e.name, e.key, e.source_name, e.created_at, i.state
                FROM (SELECT id, name, key, source_name, created_at FROM picpipe_journal.events WHERE id > $1
                    ORDER BY id LIMIT $2) e
                LEFT JOIN picpipe_journal.invocations i ON i.event_id = e.id ORDER BY e.id, i.id
                """, [.integer(eventID), .int(max(limit, 0))]))
    }

    public func events(ids: [Int64]) throws -> [EventProgress] {
        guard !ids.isEmpty else { return [] }
        return Self.progress(
            try pool.run(
                """
                SELECT e.id, e.name, e.key, e.source_name, e.created_at, i.state
                FROM picpipe_journal.events e LEFT JOIN picpipe_journal.invocations i ON i.event_id = e.id
                WHERE e.id = ANY($1) ORDER BY e.id, i.id
                """, [.integers(ids)]))
    }

    /// Rows of an event and one of its invocations each (none: a NULL state), by event, as `EventProgress`.
    private static func progress(_ rows: [PostgresRandomAccessRow]) -> [EventProgress] {
        var events: [EventProgress] = []
        for row in rows {
            guard let id = row.value("id", as: Int64.self) else { continue }
            if events.last?.id != id {
                events.append(
                    EventProgress(
                        id: id, name: row.value("name") ?? "", key: row.value("key") ?? "",
                        sourceName: row.value("source_name"),
                        createdAt: Date(timeIntervalSince1970: row.value("created_at") ?? 0), states: []))
            }
            if let state = row.value("state", as: String.self) {
                // A state this version does not know counts as unfinished.
                events[events.count - 1].states.append(InvocationState(rawValue: state) ?? .queued)
            }
        }
        return events
    }

    public func unfinishedEventIDs() throws -> [Int64] {
        try pool.run(
            """
            SELECT DISTINCT event_id FROM picpipe_journal.invocations
            WHERE state IN ('queued', 'running', 'retrying') ORDER BY event_id
            """
        ).compactMap { $0.value("event_id", as: Int64.self) }
    }

    public func eventBounds() throws -> EventBounds {
        let row = try pool.run(
            """
            SELECT (SELECT COALESCE(MAX(id), 0) FROM picpipe_journal.events) AS newest,
                (SELECT COALESCE(MAX(through), 0) FROM picpipe_journal.pruned_events) AS pruned
            """
        ).first
        return EventBounds(
            newest: row?.value("newest", as: Int64.self) ?? 0, prunedThrough: row?.value("pruned", as: Int64.self) ?? 0)
    }

    public func queueDepths(now: Date) throws -> [QueueDepth] {
        // The functions by a skip over the (function, state) index, then only each one's waiting rows: the
        // aggregate over every row ever journaled that this was until session 29 grew with the store's age.
        try pool.run(
            """
            WITH RECURSIVE named(function) AS (
                SELECT MIN(function) FROM picpipe_journal.invocations
                UNION ALL
                SELECT (SELECT MIN(function) FROM picpipe_journal.invocations WHERE function > named.function)
                FROM named WHERE named.function IS NOT NULL
            )
            SELECT named.function,
                (SELECT COUNT(*) FROM picpipe_journal.invocations i
                 WHERE i.function = named.function AND i.state IN ('queued', 'retrying')) AS waiting,
                (SELECT MIN(enqueued_at) FROM picpipe_journal.invocations i
                 WHERE i.function = named.function AND i.state IN ('queued', 'retrying')) AS oldest
            FROM named WHERE named.function IS NOT NULL ORDER BY named.function
            """
        ).compactMap { row in
            guard let function = row.value("function", as: String.self) else { return nil }
            let oldest = row.value("oldest", as: Double.self)
            return QueueDepth(
                function: function, waiting: row.value("waiting", as: Int.self) ?? 0,
                oldestAge: oldest.map { max(0, now.timeIntervalSince1970 - $0) } ?? 0)
        }
    }

    public func statistics(now: Date) throws -> [FunctionStatistics] {
        let bounds = FunctionStatistics.bucketBounds
        let buckets = bounds.enumerated().map { "SUM(CASE WHEN duration <= \($1) THEN 1 ELSE 0 END) AS b\($0)" }
            .joined(separator: ", ")
        return try pool.withConnection { connection in
            let functions = try connection.run(
                """
                SELECT function FROM picpipe_journal.invocations UNION SELECT function FROM picpipe_journal.attempts
                UNION SELECT function FROM picpipe_journal.refused_calls
                UNION SELECT function FROM picpipe_journal.pruned_totals ORDER BY 1
                """
            ).compactMap { $0.value("function", as: String.self) }
            let pruned = try Self.prunedTotals(connection)
            return try functions.map { function in
                let attempts = try connection.run(
                    """
                    SELECT COUNT(*) AS n, COUNT(error) AS errors, SUM(CASE WHEN attempt > 1 THEN 1 ELSE 0 END) AS retries,
                        COALESCE(SUM(duration * memory_mb / 1024.0::float8), 0) AS gbs, \(buckets)
                    FROM picpipe_journal.attempts WHERE function = $1
                    """, [.text(function)]
                ).first
                let states = try connection.run(
                    """
                    SELECT SUM(CASE WHEN throttled THEN 1 ELSE 0 END) AS throttles,
                        SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END) AS dead,
                        SUM(CASE WHEN state = 'succeeded' THEN 1 ELSE 0 END) AS succeeded,
                        SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END) AS running,
                        SUM(CASE WHEN state IN ('queued', 'retrying') THEN 1 ELSE 0 END) AS waiting,
                        MIN(CASE WHEN state IN ('queued', 'retrying') THEN enqueued_at END) AS oldest
                    FROM picpipe_journal.invocations WHERE function = $1
                    """, [.text(function)]
                ).first
                let count = attempts?.value("n", as: Int.self) ?? 0
                func percentile(_ p: Double) throws -> Double? {
                    guard count > 0 else { return nil }
                    return try connection.run(
                        """
                        SELECT duration FROM picpipe_journal.attempts WHERE function = $1 ORDER BY duration
                        LIMIT 1 OFFSET $2
                        """, [.text(function), .int(Int((Double(count - 1) * p).rounded()))]
                    ).first?.value("duration", as: Double.self)
                }
                var histogram: [FunctionStatistics.HistogramBucket] = []
                for (index, bound) in bounds.enumerated() {
                    histogram.append(.init(le: bound, count: attempts?.value("b\(index)", as: Int.self) ?? 0))
                }
                histogram.append(.init(le: nil, count: count))
                let oldest = states?.value("oldest", as: Double.self)
                let refused: Int =
                    try connection.run(
                        "SELECT count FROM picpipe_journal.refused_calls WHERE function = $1", [.text(function)]
                    ).first?.value("count") ?? 0
                let kept = FunctionStatistics(
                    function: function, invocations: count, errors: attempts?.value("errors") ?? 0,
                    retries: attempts?.value("retries") ?? 0, throttles: (states?.value("throttles") ?? 0) + refused,
                    deadLettered: states?.value("dead") ?? 0, succeeded: states?.value("succeeded") ?? 0,
                    running: states?.value("running") ?? 0, queueDepth: states?.value("waiting") ?? 0,
                    oldestQueuedAge: oldest.map { max(0, now.timeIntervalSince1970 - $0) } ?? 0,
                    gbSeconds: attempts?.value("gbs") ?? 0, p50: try percentile(0.5), p99: try percentile(0.99),
                    histogram: histogram)
                return pruned[function]?.added(to: kept) ?? kept
            }
        }
    }

    /// The counts of pruned work, by function.
    private static func prunedTotals(_ connection: PostgresConnection) throws -> [String: PrunedTotals] {
        var totals: [String: PrunedTotals] = [:]
        for row in try connection.run("SELECT * FROM picpipe_journal.pruned_totals") {
            guard let function = row.value("function", as: String.self) else { continue }
            var total = PrunedTotals(function: function)
            total.invocations = row.value("invocations", as: Int.self) ?? 0
            total.errors = row.value("errors", as: Int.self) ?? 0
            total.retries = row.value("retries", as: Int.self) ?? 0
            total.throttles = row.value("throttles", as: Int.self) ?? 0
            total.succeeded = row.value("succeeded", as: Int.self) ?? 0
            total.gbSeconds = row.value("gb_seconds", as: Double.self) ?? 0
            total.buckets = PrunedTotals.buckets(fromText: row.value("buckets", as: String.self) ?? "")
            totals[function] = total
        }
        return totals
    }

    public func prune(before cutoff: Date, limit: Int, after: Int64) throws -> PruneBatch {
        let bounds = FunctionStatistics.bucketBounds
        let buckets = bounds.enumerated().map { "SUM(CASE WHEN a.duration <= \($1) THEN 1 ELSE 0 END) AS b\($0)" }
            .joined(separator: ", ")
        return try pool.transaction { connection in
            // One pruner at a time across the processes: the counts are read, added to and written back.
            try connection.run("SELECT pg_advisory_xact_lock(hashtext('picpipe.prune'))")
            try connection.run("CREATE TEMP TABLE IF NOT EXISTS pruning (id BIGINT PRIMARY KEY) ON COMMIT DELETE ROWS")
            try connection.run(
                """
                INSERT INTO pruning SELECT e.id FROM picpipe_journal.events e
                WHERE e.id > $3 AND e.created_at < $1 AND NOT EXISTS (
                    SELECT 1 FROM picpipe_journal.invocations i WHERE i.event_id = e.id AND i.state <> 'succeeded')
                ORDER BY e.id LIMIT $2
                """, [.real(cutoff.timeIntervalSince1970), .int(limit), .integer(after)])
            // The next batch starts after every candidate of this one, the kept ones too.
            let candidates = try connection.run("SELECT COUNT(*) AS n, MAX(id) AS last FROM pruning").first
            let next: Int64? =
                (candidates?.value("n", as: Int.self) ?? 0) < limit ? nil : candidates?.value("last", as: Int64.self)
            // Held from here to the commit, then looked at again: a replay that re-queued one meanwhile keeps it.
            try connection.run(
                """
                SELECT 1 FROM picpipe_journal.invocations WHERE event_id IN (SELECT id FROM pruning)
                ORDER BY id FOR UPDATE
                """)
            try connection.run(
                """
                DELETE FROM pruning p WHERE EXISTS (
                    SELECT 1 FROM picpipe_journal.invocations i WHERE i.event_id = p.id AND i.state <> 'succeeded')
                """)
            // A removal stays while an older event of its key does (see the protocol).
            try connection.run(
                """
                DELETE FROM pruning p USING picpipe_journal.events e
                WHERE e.id = p.id AND e.name NOT LIKE 'ObjectCreated:%' AND EXISTS (
                    SELECT 1 FROM picpipe_journal.events o WHERE o.key = e.key AND o.id < e.id
                        AND NOT EXISTS (SELECT 1 FROM pruning q WHERE q.id = o.id))
                """)
            let count = try connection.run("SELECT COUNT(*) AS n FROM pruning").first?.value("n", as: Int.self) ?? 0
            guard count > 0 else { return PruneBatch(pruned: 0, next: next) }
            var totals = try Self.prunedTotals(connection)
            for row in try connection.run(
                """
                SELECT a.function, COUNT(*) AS n, COUNT(a.error) AS errors,
                    SUM(CASE WHEN a.attempt > 1 THEN 1 ELSE 0 END) AS retries,
                    COALESCE(SUM(a.duration * a.memory_mb / 1024.0::float8), 0) AS gbs, \(buckets)
                FROM picpipe_journal.attempts a JOIN picpipe_journal.invocations i ON i.id = a.invocation_id
                WHERE i.event_id IN (SELECT id FROM pruning) GROUP BY a.function
                """)
            {
                guard let function = row.value("function", as: String.self) else { continue }
                var gone = PrunedTotals(function: function)
                gone.invocations = row.value("n", as: Int.self) ?? 0
                gone.errors = row.value("errors", as: Int.self) ?? 0
                gone.retries = row.value("retries", as: Int.self) ?? 0
                gone.gbSeconds = row.value("gbs", as: Double.self) ?? 0
                gone.buckets = bounds.indices.map { row.value("b\($0)", as: Int.self) ?? 0 }
                totals[function] = (totals[function] ?? PrunedTotals(function: function)).adding(gone)
            }
            for row in try connection.run(
                """
                SELECT function, SUM(CASE WHEN throttled THEN 1 ELSE 0 END) AS throttles, COUNT(*) AS n
                FROM picpipe_journal.invocations WHERE event_id IN (SELECT id FROM pruning) GROUP BY function
                """)
            {
                guard let function = row.value("function", as: String.self) else { continue }
                var gone = PrunedTotals(function: function)
                gone.throttles = row.value("throttles", as: Int.self) ?? 0
                gone.succeeded = row.value("n", as: Int.self) ?? 0
                totals[function] = (totals[function] ?? PrunedTotals(function: function)).adding(gone)
            }
            for total in totals.values {
                try connection.run(
                    """
                    INSERT INTO picpipe_journal.pruned_totals
                        (function, invocations, errors, retries, throttles, succeeded, gb_seconds, buckets)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    ON CONFLICT (function) DO UPDATE SET invocations = EXCLUDED.invocations,
                        errors = EXCLUDED.errors, retries = EXCLUDED.retries, throttles = EXCLUDED.throttles,
                        succeeded = EXCLUDED.succeeded, gb_seconds = EXCLUDED.gb_seconds, buckets = EXCLUDED.buckets
                    """,
                    [
                        .text(total.function), .int(total.invocations), .int(total.errors), .int(total.retries),
                        .int(total.throttles), .int(total.succeeded), .real(total.gbSeconds), .text(total.bucketsText),
                    ])
            }
            try connection.run(
                """
                DELETE FROM picpipe_journal.attempts WHERE invocation_id IN (
                    SELECT id FROM picpipe_journal.invocations WHERE event_id IN (SELECT id FROM pruning))
                """)
            try connection.run("DELETE FROM picpipe_journal.invocations WHERE event_id IN (SELECT id FROM pruning)")
            try connection.run(
                """
                UPDATE picpipe_journal.pruned_events
                SET through = GREATEST(through, (SELECT MAX(id) FROM pruning))
                """)
            try connection.run("DELETE FROM picpipe_journal.events WHERE id IN (SELECT id FROM pruning)")
            return PruneBatch(pruned: count, next: next)
        }
    }

    private static func decodeRecord(_ json: String, id: Int64) throws -> S3EventRecord {
        do {
            return try JSONDecoder().decode(S3EventRecord.self, from: Data(json.utf8))
        } catch {
            throw JournalError.corruptRecord(eventID: id, reason: "\(error)")
        }
    }

    private static func iso(_ seconds: Double) -> String {
        Timestamp.string(Date(timeIntervalSince1970: seconds))
    }
}
