// The journal in STORE/db/events.sqlite: SQLite in WAL mode, shared by `serve` and the CLI.
import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#endif

/// The SQLite implementation of `InvocationJournal`.
///
/// One `DatabasePool` per process: WAL lets readers in other processes (`picpipe events`, `stats`) run while
/// `serve` writes; every write is an IMMEDIATE transaction, and a busy timeout makes concurrent writers from
/// other processes wait instead of failing. `synchronous=NORMAL`: a commit survives a process crash
/// (kill -9), which is the failure the journal is for; a power loss may lose the last commits.
public final class SQLiteInvocationJournal: InvocationJournal {
    private let pool: DatabasePool

    /// Opens (creating and migrating as needed) the journal at `path`.
    /// - Parameter busyTimeout: seconds a write waits for another process's write to finish.
    public init(path: URL, busyTimeout: Double = 10) throws {
        try FileManager.default.createDirectory(
            at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try Self.migrator.openPoolSerialised(path: path, configuration: configuration)
    }

    public var databaseDescription: String { "sqlite" }

    /// Opens the journal of a store.
    public convenience init(layout: StoreLayout) throws {
        try self.init(path: layout.eventsDatabase)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: events, invocations, attempts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE events (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        key TEXT NOT NULL,
                        source_name TEXT,
                        etag TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        record TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX events_by_key ON events(key, id);
                    CREATE TABLE invocations (
                        id INTEGER PRIMARY KEY,
                        event_id INTEGER NOT NULL REFERENCES events(id),
                        function TEXT NOT NULL,
                        type TEXT NOT NULL,
                        state TEXT NOT NULL,
                        attempt INTEGER NOT NULL DEFAULT 0,
                        enqueued_at REAL NOT NULL,
                        not_before REAL NOT NULL,
                        started_at REAL,
                        finished_at REAL,
                        duration REAL,
                        error TEXT,
                        result TEXT,
                        throttled INTEGER NOT NULL DEFAULT 0,
                        owner_pid INTEGER
                    );
                    CREATE INDEX invocations_ready ON invocations(function, state, not_before);
                    CREATE INDEX invocations_by_event ON invocations(event_id);
                    CREATE TABLE attempts (
                        id INTEGER PRIMARY KEY,
                        invocation_id INTEGER NOT NULL REFERENCES invocations(id),
                        function TEXT NOT NULL,
                        attempt INTEGER NOT NULL,
                        started_at REAL NOT NULL,
                        duration REAL NOT NULL,
                        memory_mb INTEGER NOT NULL,
                        error TEXT
                    );
                    CREATE INDEX attempts_by_function ON attempts(function, duration);
                    """)
        }
        migrator.registerMigration("v2: invocation leases") { db in
            // A claim holds its invocation until lease_until; past it any worker may take it again (an outcome
            // that could not be recorded, a worker that died).
            try db.execute(sql: "ALTER TABLE invocations ADD COLUMN lease_until REAL")
        }
        migrator.registerMigration("v3: refused synchronous calls") { db in
            try db.execute(sql: "CREATE TABLE refused_calls (function TEXT PRIMARY KEY, count INTEGER NOT NULL)")
        }
        migrator.registerMigration("v4: the counts of pruned work") { db in
            // What `prune` forgot, per function (see `PrunedTotals`); the index lets it find an event's attempts.
            try db.execute(
                sql: """
                    CREATE TABLE pruned_totals (
                        function TEXT PRIMARY KEY,
                        invocations INTEGER NOT NULL,
                        errors INTEGER NOT NULL,
                        retries INTEGER NOT NULL,
                        throttles INTEGER NOT NULL,
                        succeeded INTEGER NOT NULL,
                        gb_seconds REAL NOT NULL,
                        buckets TEXT NOT NULL
                    );
                    CREATE INDEX attempts_by_invocation ON attempts(invocation_id);
                    """)
        }
        migrator.registerMigration("v5: the newest pruned event, the unfinished events") { db in
            // The event stream tells a client that resumes below the newest pruned id that events may be gone, and
            // ids are never given again. A journal pruned before kept no mark: the highest id missing below a kept
            // one stands for it (SQLite's ids have no other gaps). The index finds the unfinished events.
            try db.execute(
                sql: """
                    CREATE TABLE pruned_events (through INTEGER NOT NULL);
                    INSERT INTO pruned_events (through) SELECT CASE WHEN EXISTS (SELECT 1 FROM pruned_totals)
                        THEN (SELECT COALESCE(MAX(e.id - 1), 0) FROM events e
                            WHERE e.id > 1 AND NOT EXISTS (SELECT 1 FROM events p WHERE p.id = e.id - 1))
                        ELSE 0 END;
                    CREATE INDEX invocations_unfinished ON invocations(event_id)
                        WHERE state IN ('queued', 'running', 'retrying');
                    """)
        }
        return migrator
    }

    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.writeWithoutTransaction { db in
            var value: T?
            try db.inTransaction(.immediate) {
                value = try body(db)
                return .commit
            }
            guard let value else {
                throw JournalError.corruptRecord(eventID: 0, reason: "transaction returned nothing")
            }
            return value
        }
    }

    public func append(
        _ record: S3EventRecord, functions: [String], type: InvocationType, deduplicate: Bool
    ) throws -> JournalAppend {
        let now = Date().timeIntervalSince1970
        let pid = Int64(getpid())
        return try write { db in
            // The upload was journaled already when the latest event of its key under its name is a creation and
            // nothing removed the key since (its copies under other names may have been journaled in between: a
            // rescan after a crash must still find it).
            if deduplicate, record.eventName.family == "ObjectCreated",
                let latest = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT id, name, record FROM events WHERE key = ? AND source_name IS ?
                        ORDER BY id DESC LIMIT 1
                        """,
                    arguments: [record.s3.object.key, record.s3.object.sourceName])
            {
                let id: Int64 = latest["id"]
                let name: String = latest["name"]
                if EventName(rawValue: name).family == "ObjectCreated",
                    try Bool.fetchOne(
                        db,
                        sql: """
                            SELECT NOT EXISTS (SELECT 1 FROM events
                            WHERE key = ? AND id > ? AND name LIKE 'ObjectRemoved:%')
                            """,
                        arguments: [record.s3.object.key, id]) == true
                {
                    let existing = try Self.decodeRecord(latest["record"], id: id)
                    var invocations: [String: Int64] = [:]
                    for row in try Row.fetchAll(
                        db, sql: "SELECT id, function FROM invocations WHERE event_id = ?", arguments: [id])
                    {
                        invocations[row["function"]] = row["id"]
                    }
                    return JournalAppend(eventID: id, record: existing, invocations: invocations, duplicate: true)
                }
            }
            // After the newest id ever given: pruning the newest events must not give their ids again.
            let id =
                (try Int64.fetchOne(
                    db,
                    sql: """
                        SELECT MAX(COALESCE((SELECT MAX(id) FROM events), 0),
                            COALESCE((SELECT MAX(through) FROM pruned_events), 0)) + 1
                        """)) ?? 1
            var stamped = record
            stamped.s3.object.sequencer = String(format: "%016llX", UInt64(id))
            let json = String(decoding: try JSONEncoder().encode(stamped), as: UTF8.self)
            try db.execute(
                sql: """
                    INSERT INTO events (id, name, key, source_name, etag, size, record, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    id, stamped.eventName.rawValue, stamped.s3.object.key, stamped.s3.object.sourceName,
                    stamped.s3.object.eTag, stamped.s3.object.size, json, now,
                ])
            var invocations: [String: Int64] = [:]
            let initialState: InvocationState = type == .event ? .queued : .running
            for function in functions {
                try db.execute(
                    sql: """
                        INSERT INTO invocations (event_id, function, type, state, attempt, enqueued_at, not_before,
                            started_at, owner_pid, lease_until)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        id, function, type.rawValue, initialState.rawValue, type == .event ? 0 : 1, now, now,
                        type == .event ? nil : now, pid, type == .event ? nil : now + Self.synchronousLease,
                    ])
                invocations[function] = db.lastInsertedRowID
            }
            return JournalAppend(eventID: id, record: stamped, invocations: invocations, duplicate: false)
        }
    }

    public func hasReady(function: String, now: Date) throws -> Bool {
        try pool.read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM invocations
                        WHERE function = ? AND state IN ('queued', 'retrying') AND not_before <= ?)
                    """,
                arguments: [function, now.timeIntervalSince1970]) ?? false
        }
    }

    /// How long a RequestResponse invocation may stay `running` before its outcome counts as lost (Lambda's
    /// longest timeout).
    static let synchronousLease: TimeInterval = 900

    public func claim(function: String, now: Date, lease: TimeInterval) throws -> ClaimedInvocation? {
        let at = now.timeIntervalSince1970
        return try write { db -> ClaimedInvocation? in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT i.id, i.type, i.attempt, i.enqueued_at, i.not_before, e.id AS event_id, e.record,
                            e.created_at
                        FROM invocations i JOIN events e ON e.id = i.event_id
                        WHERE i.function = ? AND i.state IN ('queued', 'retrying') AND i.not_before <= ?
                        ORDER BY i.not_before, i.id LIMIT 1
                        """,
                    arguments: [function, at])
            else { return nil }
            let id: Int64 = row["id"]
            let attempt: Int = row["attempt"]
            try db.execute(
                sql: """
                    UPDATE invocations SET state = 'running', attempt = attempt + 1, started_at = ?, owner_pid = ?,
                        lease_until = ?
                    WHERE id = ?
                    """,
                arguments: [at, Int64(getpid()), at + lease, id])
            let eventID: Int64 = row["event_id"]
            let event = JournaledEvent(
                id: eventID, record: try Self.decodeRecord(row["record"], id: eventID),
                createdAt: Date(timeIntervalSince1970: row["created_at"]))
            return ClaimedInvocation(
                id: id, function: function, type: InvocationType(rawValue: row["type"]) ?? .event,
                attempt: attempt + 1, enqueuedAt: Date(timeIntervalSince1970: row["enqueued_at"]), startedAt: now,
                event: event,
                readyAt: Date(timeIntervalSince1970: max(row["enqueued_at"] as Double, row["not_before"] as Double)))
        }
    }

    public func succeed(_ claim: ClaimedInvocation, result: String?, duration: Double, memoryMB: Int) throws {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE invocations SET state = 'succeeded', finished_at = ?, duration = ?, error = NULL, result = ?
                    WHERE id = ? AND state = 'running' AND attempt = ?
                    """,
                arguments: [Date().timeIntervalSince1970, duration, result, claim.id, claim.attempt])
            // Only while it is still this claim (as on PostgreSQL): an outcome written twice counts once.
            guard db.changesCount > 0 else { return }
            try Self.recordAttempt(db, claim, duration: duration, memoryMB: memoryMB, error: nil)
        }
    }

    public func fail(_ claim: ClaimedInvocation, error: String, duration: Double, memoryMB: Int, retryAt: Date?) throws
    {
        let state: InvocationState =
            retryAt != nil ? .retrying : (claim.type == .requestResponse ? .failed : .dead)
        let type: InvocationType = retryAt != nil ? .event : claim.type
        try write { db in
            try db.execute(
                sql: """
                    UPDATE invocations SET state = ?, type = ?, finished_at = ?, duration = ?, error = ?, not_before = ?
                    WHERE id = ? AND state = 'running' AND attempt = ?
                    """,
                arguments: [
                    state.rawValue, type.rawValue, Date().timeIntervalSince1970, duration, error,
                    (retryAt ?? Date()).timeIntervalSince1970, claim.id, claim.attempt,
                ])
            guard db.changesCount > 0 else { return }
            try Self.recordAttempt(db, claim, duration: duration, memoryMB: memoryMB, error: error)
        }
    }

    private static func recordAttempt(
        _ db: Database, _ claim: ClaimedInvocation, duration: Double, memoryMB: Int, error: String?
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO attempts (invocation_id, function, attempt, started_at, duration, memory_mb, error)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                claim.id, claim.function, claim.attempt, claim.startedAt.timeIntervalSince1970, duration, memoryMB,
                error,
            ])
    }

    public func deadLetterUnrun(_ claim: ClaimedInvocation, error: String) throws {
        let now = Date().timeIntervalSince1970
        try write { db in
            try db.execute(
                sql: """
                    UPDATE invocations SET state = 'dead', attempt = MAX(attempt - 1, 0), finished_at = ?, duration = 0,
                        error = ?, not_before = ?, lease_until = NULL
                    WHERE id = ? AND state = 'running' AND attempt = ?
                    """,
                arguments: [now, error, now, claim.id, claim.attempt])
        }
    }

    public func putBack(_ claim: ClaimedInvocation) throws {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE invocations SET state = 'queued', attempt = MAX(attempt - 1, 0), started_at = NULL
                    WHERE id = ? AND state = 'running'
                    """,
                arguments: [claim.id])
        }
    }

    public func recoverRunning() throws -> Int {
        try write { db in
            // Each cut attempt is an error in the metering (Lambda's Runtime.ExitError); its duration is not known.
            try db.execute(
                sql: """
                    INSERT INTO attempts (invocation_id, function, attempt, started_at, duration, memory_mb, error)
                    SELECT id, function, attempt, COALESCE(started_at, enqueued_at), 0, 0, ? FROM invocations
                    WHERE state = 'running' AND type = 'Event' AND attempt > 0
                    """,
                arguments: [RecoveredAttempt.stoppedError])
            try db.execute(
                sql: """
                    UPDATE invocations SET state = 'queued', started_at = NULL, lease_until = NULL,
                        error = ?
                    WHERE state = 'running' AND type = 'Event'
                    """,
                arguments: [RecoveredAttempt.stoppedError])
            let recovered = db.changesCount
            try Self.closeCallsOfExitedProcesses(db)
            return recovered
        }
    }

    /// A RequestResponse caller that exited (Ctrl-C, kill) cannot receive a result: its row is closed as `failed`.
    /// Its process ran on this host (the journal is a local file), so `kill(pid, 0)` tells.
    private static func closeCallsOfExitedProcesses(_ db: Database) throws {
        for row in try Row.fetchAll(
            db, sql: "SELECT id, owner_pid FROM invocations WHERE state = 'running' AND type = 'RequestResponse'")
        {
            let pid: Int64? = row["owner_pid"]
            if let pid, pid > 0, kill(pid_t(pid), 0) == 0 || errno == EPERM { continue }
            try db.execute(
                sql: "UPDATE invocations SET state = 'failed', lease_until = NULL, error = ? WHERE id = ?",
                arguments: ["the invoking process exited before the invocation finished", row["id"]])
        }
    }

    public func recoverExpiredLeases(now: Date) throws -> Int {
        let at = now.timeIntervalSince1970
        return try write { db in
            try db.execute(
                sql: """
                    UPDATE invocations SET state = 'queued', attempt = MAX(attempt - 1, 0), started_at = NULL,
                        lease_until = NULL, not_before = ?,
                        error = 'the outcome of the last attempt was not recorded (its lease expired); run again'
                    WHERE state = 'running' AND type = 'Event' AND lease_until < ?
                    """,
                arguments: [at, at])
            let recovered = db.changesCount
            // A caller that exited is closed now, with the reason serve's start gives (until session 32 it stayed
            // `running` for the 900 s lease, then was closed as a lost outcome).
            try Self.closeCallsOfExitedProcesses(db)
            try db.execute(
                sql: """
                    UPDATE invocations SET state = 'failed', lease_until = NULL,
                        error = 'the outcome was not recorded (its lease expired)'
                    WHERE state = 'running' AND type = 'RequestResponse' AND lease_until < ?
                    """,
                arguments: [at])
            return recovered
        }
    }

    @discardableResult public func markThrottled(invocation id: Int64) throws -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE invocations SET throttled = 1 WHERE id = ? AND throttled = 0", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func countRefusedCall(function: String) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO refused_calls (function, count) VALUES (?, 1)
                    ON CONFLICT (function) DO UPDATE SET count = count + 1
                    """,
                arguments: [function])
        }
    }

    public func replay(eventID: Int64) throws -> Int {
        try write { db in
            guard
                try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM events WHERE id = ?)", arguments: [eventID])
                    == true
            else { throw JournalError.noSuchEvent(eventID) }
            try Self.requeue(db, where: "event_id = ? AND state IN ('succeeded', 'failed', 'dead')", [eventID])
            return db.changesCount
        }
    }

    public func replayFailed(excluding excluded: Set<Int64>) throws -> Int {
        try write { db in
            // Integers only: the list is written into the statement.
            let others =
                excluded.isEmpty ? "" : " AND event_id NOT IN (\(excluded.map(String.init).joined(separator: ",")))"
            try Self.requeue(db, where: "state IN ('failed', 'dead')" + others, [])
            return db.changesCount
        }
    }

    public func replayRestored(eventID: Int64) throws -> Int {
        try write { db in
            try Self.setNewlyStored(true, eventID: eventID, db)
            try Self.requeue(db, where: "event_id = ? AND state IN ('succeeded', 'failed', 'dead')", [eventID])
            return db.changesCount
        }
    }

    public func clearNewlyStored(eventID: Int64) throws -> Bool {
        try write { db in
            let judging = try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM invocations
                        WHERE event_id = ? AND state IN ('queued', 'running', 'retrying'))
                    """, arguments: [eventID])
            guard judging != true else { return false }
            return try Self.setNewlyStored(false, eventID: eventID, db)
        }
    }

    /// The journaled record of an event; throws `JournalError.noSuchEvent` for an unknown id.
    private static func record(of eventID: Int64, _ db: Database) throws -> S3EventRecord {
        guard let json = try String.fetchOne(db, sql: "SELECT record FROM events WHERE id = ?", arguments: [eventID])
        else { throw JournalError.noSuchEvent(eventID) }
        return try decodeRecord(json, id: eventID)
    }

    /// Rewrites `newlyStored` in an event's record; returns whether it changed.
    @discardableResult
    private static func setNewlyStored(_ newlyStored: Bool, eventID: Int64, _ db: Database) throws -> Bool {
        var record = try record(of: eventID, db)
        guard record.storedItsOriginal != newlyStored else { return false }
        record.s3.object.newlyStored = newlyStored ? true : nil
        try db.execute(
            sql: "UPDATE events SET record = ? WHERE id = ?",
            arguments: [String(decoding: try JSONEncoder().encode(record), as: UTF8.self), eventID])
        return true
    }

    private static func requeue(_ db: Database, where condition: String, _ arguments: StatementArguments) throws {
        let now = Date().timeIntervalSince1970
        try db.execute(
            sql: """
                UPDATE invocations SET state = 'queued', type = 'Event', attempt = 0, error = NULL, result = NULL,
                    enqueued_at = \(now), not_before = \(now), started_at = NULL, finished_at = NULL
                WHERE \(condition)
                """,
            arguments: arguments)
    }

    public func event(id: Int64) throws -> JournaledEvent? {
        try pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT record, created_at FROM events WHERE id = ?", arguments: [id])
            else { return nil }
            return JournaledEvent(
                id: id, record: try Self.decodeRecord(row["record"], id: id),
                createdAt: Date(timeIntervalSince1970: row["created_at"]))
        }
    }

    public func invocations(state: InvocationState?, function: String?, limit: Int) throws -> [InvocationSummary] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let state {
            conditions.append("i.state = ?")
            _ = arguments.append(contentsOf: [state.rawValue])
        }
        if let function {
            conditions.append("i.function = ?")
            _ = arguments.append(contentsOf: [function])
        }
        _ = arguments.append(contentsOf: [max(limit, 0)])
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT i.id, i.event_id, e.name, e.key, e.source_name, i.function, i.type, i.state, i.attempt,
                        i.duration, i.error, i.enqueued_at, i.not_before
                    FROM invocations i JOIN events e ON e.id = i.event_id
                    \(filter) ORDER BY i.id DESC LIMIT ?
                    """,
                arguments: arguments
            ).map { row in
                let state: String = row["state"]
                let notBefore: Double = row["not_before"]
                return InvocationSummary(
                    id: row["id"], eventID: row["event_id"], eventName: row["name"], key: row["key"],
                    sourceName: row["source_name"], function: row["function"], type: row["type"], state: state,
                    attempt: row["attempt"], duration: row["duration"], error: row["error"],
                    enqueuedAt: Self.iso(row["enqueued_at"]),
                    notBefore: state == InvocationState.retrying.rawValue ? Self.iso(notBefore) : nil)
            }
        }
    }

    public func events(after eventID: Int64, limit: Int) throws -> [EventProgress] {
        try pool.read { db in
            Self.progress(
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT e.id, e.name, e.key, e.source_name, e.created_at, i.state
                        FROM (SELECT id, name, key, source_name, created_at FROM events WHERE id > ?
                            ORDER BY id LIMIT ?) e
                        LEFT JOIN invocations i ON i.event_id = e.id ORDER BY e.id, i.id
                        """, arguments: [eventID, max(limit, 0)]))
        }
    }

    public func events(ids: [Int64]) throws -> [EventProgress] {
        guard !ids.isEmpty else { return [] }
        return try pool.read { db in
            // Integers only: the list is written into the statement.
            Self.progress(
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT e.id, e.name, e.key, e.source_name, e.created_at, i.state
                        FROM events e LEFT JOIN invocations i ON i.event_id = e.id
                        WHERE e.id IN (\(ids.map(String.init).joined(separator: ",")))
                        ORDER BY e.id, i.id
                        """))
        }
    }

    /// Rows of an event and one of its invocations each (none: a NULL state), by event, as `EventProgress`.
    private static func progress(_ rows: [Row]) -> [EventProgress] {
        var events: [EventProgress] = []
        for row in rows {
            let id: Int64 = row["id"]
            if events.last?.id != id {
                events.append(
                    EventProgress(
                        id: id, name: row["name"], key: row["key"], sourceName: row["source_name"],
                        createdAt: Date(timeIntervalSince1970: row["created_at"]), states: []))
            }
            if let state: String = row["state"] {
                // A state this version does not know counts as unfinished.
                events[events.count - 1].states.append(InvocationState(rawValue: state) ?? .queued)
            }
        }
        return events
    }

    public func unfinishedEventIDs() throws -> [Int64] {
        try pool.read { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT event_id FROM invocations WHERE state IN ('queued', 'running', 'retrying')
                    ORDER BY event_id
                    """)
        }
    }

    public func eventBounds() throws -> EventBounds {
        try pool.read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT (SELECT COALESCE(MAX(id), 0) FROM events) AS newest,
                        (SELECT COALESCE(MAX(through), 0) FROM pruned_events) AS pruned
                    """)
            return EventBounds(newest: row?["newest"] ?? 0, prunedThrough: row?["pruned"] ?? 0)
        }
    }

    /// Each function's waiting invocations through the `invocations_ready` index: the functions by a skip over it,
    /// then only the waiting rows of each (until session 29 this was the protocol's default, the full `statistics`
    /// over every row ever journaled: `/healthz` took 45 ms at 12,000 invocations and 450 ms at 120,000).
    public func queueDepths(now: Date) throws -> [QueueDepth] {
        try pool.read { db in
            let functions = try String.fetchAll(db, sql: Self.functionsSQL)
            return try functions.map { function in
                let row = try Row.fetchOne(db, sql: Self.waitingSQL, arguments: [function])
                let oldest: Double? = row?["oldest"]
                return QueueDepth(
                    function: function, waiting: row?["waiting"] ?? 0,
                    oldestAge: oldest.map { max(0, now.timeIntervalSince1970 - $0) } ?? 0)
            }
        }
    }

    /// The functions that have invocations, by a skip over `invocations_ready` (one look-up per function).
    static let functionsSQL = """
        WITH RECURSIVE named(function) AS (
            SELECT MIN(function) FROM invocations
            UNION ALL
            SELECT (SELECT MIN(function) FROM invocations WHERE function > named.function) FROM named
            WHERE named.function IS NOT NULL
        )
        SELECT function FROM named WHERE function IS NOT NULL
        """

    /// One function's waiting invocations and the oldest one's time, from `invocations_ready`.
    static let waitingSQL = """
        SELECT COUNT(*) AS waiting, MIN(enqueued_at) AS oldest FROM invocations
        WHERE function = ? AND state IN ('queued', 'retrying')
        """

    public func statistics(now: Date) throws -> [FunctionStatistics] {
        let bounds = FunctionStatistics.bucketBounds
        let buckets = bounds.map { "SUM(CASE WHEN duration <= \($0) THEN 1 ELSE 0 END)" }.joined(separator: ", ")
        return try pool.read { db in
            let functions = try String.fetchAll(
                db,
                sql: """
                    SELECT function FROM invocations UNION SELECT function FROM attempts
                    UNION SELECT function FROM refused_calls UNION SELECT function FROM pruned_totals ORDER BY 1
                    """)
            let pruned = try Self.prunedTotals(db)
            return try functions.map { function in
                let attempts = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) AS n, COUNT(error) AS errors, SUM(CASE WHEN attempt > 1 THEN 1 ELSE 0 END) AS retries,
                            TOTAL(duration * memory_mb / 1024.0) AS gbs, \(buckets)
                        FROM attempts WHERE function = ?
                        """,
                    arguments: [function])
                let states = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT SUM(throttled) AS throttles,
                            SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END) AS dead,
                            SUM(CASE WHEN state = 'succeeded' THEN 1 ELSE 0 END) AS succeeded,
                            SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END) AS running,
                            SUM(CASE WHEN state IN ('queued', 'retrying') THEN 1 ELSE 0 END) AS waiting,
                            MIN(CASE WHEN state IN ('queued', 'retrying') THEN enqueued_at END) AS oldest
                        FROM invocations WHERE function = ?
                        """,
                    arguments: [function])
                let count: Int = attempts?["n"] ?? 0
                let refused =
                    try Int.fetchOne(
                        db, sql: "SELECT count FROM refused_calls WHERE function = ?", arguments: [function])
                    ?? 0
                func percentile(_ p: Double) throws -> Double? {
                    guard count > 0 else { return nil }
                    return try Double.fetchOne(
                        db, sql: "SELECT duration FROM attempts WHERE function = ? ORDER BY duration LIMIT 1 OFFSET ?",
                        arguments: [function, Int((Double(count - 1) * p).rounded())])
                }
                var histogram: [FunctionStatistics.HistogramBucket] = []
                for (index, bound) in bounds.enumerated() {
                    let value: Int? = attempts?[4 + index]
                    histogram.append(.init(le: bound, count: value ?? 0))
                }
                histogram.append(.init(le: nil, count: count))
                let oldest: Double? = states?["oldest"]
                let kept = FunctionStatistics(
                    function: function, invocations: count, errors: attempts?["errors"] ?? 0,
                    retries: attempts?["retries"] ?? 0, throttles: (states?["throttles"] ?? 0) + refused,
                    deadLettered: states?["dead"] ?? 0, succeeded: states?["succeeded"] ?? 0,
                    running: states?["running"] ?? 0, queueDepth: states?["waiting"] ?? 0,
                    oldestQueuedAge: oldest.map { max(0, now.timeIntervalSince1970 - $0) } ?? 0,
                    gbSeconds: attempts?["gbs"] ?? 0, p50: try percentile(0.5), p99: try percentile(0.99),
                    histogram: histogram)
                return pruned[function]?.added(to: kept) ?? kept
            }
        }
    }

    /// The counts of pruned work, by function.
    private static func prunedTotals(_ db: Database) throws -> [String: PrunedTotals] {
        var totals: [String: PrunedTotals] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM pruned_totals") {
            var total = PrunedTotals(function: row["function"])
            total.invocations = row["invocations"]
            total.errors = row["errors"]
            total.retries = row["retries"]
            total.throttles = row["throttles"]
            total.succeeded = row["succeeded"]
            total.gbSeconds = row["gb_seconds"]
            total.buckets = PrunedTotals.buckets(fromText: row["buckets"])
            totals[total.function] = total
        }
        return totals
    }

    public func prune(before cutoff: Date, limit: Int, after: Int64) throws -> PruneBatch {
        let bounds = FunctionStatistics.bucketBounds
        let buckets = bounds.map { "SUM(CASE WHEN a.duration <= \($0) THEN 1 ELSE 0 END)" }.joined(separator: ", ")
        return try write { db in
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS pruning (id INTEGER PRIMARY KEY)")
            try db.execute(sql: "DELETE FROM pruning")
            try db.execute(
                sql: """
                    INSERT INTO pruning SELECT e.id FROM events e
                    WHERE e.id > ? AND e.created_at < ? AND NOT EXISTS (
                        SELECT 1 FROM invocations i WHERE i.event_id = e.id AND i.state <> 'succeeded')
                    ORDER BY e.id LIMIT ?
                    """, arguments: [after, cutoff.timeIntervalSince1970, limit])
            // The next batch starts after every candidate of this one, the kept ones too.
            let candidates = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, MAX(id) AS last FROM pruning")
            let next: Int64? = (candidates?["n"] ?? 0) < limit ? nil : candidates?["last"]
            // A removal stays while an older event of its key does (see the protocol).
            let kept = try Int64.fetchAll(
                db,
                sql: """
                    SELECT e.id FROM pruning p JOIN events e ON e.id = p.id
                    WHERE e.name NOT LIKE 'ObjectCreated:%' AND EXISTS (
                        SELECT 1 FROM events o WHERE o.key = e.key AND o.id < e.id
                            AND o.id NOT IN (SELECT id FROM pruning))
                    """)
            for id in kept { try db.execute(sql: "DELETE FROM pruning WHERE id = ?", arguments: [id]) }
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pruning") ?? 0
            guard count > 0 else { return PruneBatch(pruned: 0, next: next) }
            var totals = try Self.prunedTotals(db)
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT a.function, COUNT(*) AS n, COUNT(a.error) AS errors,
                        SUM(CASE WHEN a.attempt > 1 THEN 1 ELSE 0 END) AS retries,
                        TOTAL(a.duration * a.memory_mb / 1024.0) AS gbs, \(buckets)
                    FROM attempts a JOIN invocations i ON i.id = a.invocation_id
                    WHERE i.event_id IN (SELECT id FROM pruning) GROUP BY a.function
                    """)
            {
                var gone = PrunedTotals(function: row["function"])
                gone.invocations = row["n"]
                gone.errors = row["errors"]
                gone.retries = row["retries"]
                gone.gbSeconds = row["gbs"]
                gone.buckets = bounds.indices.map { row[5 + $0] ?? 0 }
                totals[gone.function] = (totals[gone.function] ?? PrunedTotals(function: gone.function)).adding(gone)
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT function, SUM(throttled) AS throttles, COUNT(*) AS n FROM invocations
                    WHERE event_id IN (SELECT id FROM pruning) GROUP BY function
                    """)
            {
                var gone = PrunedTotals(function: row["function"])
                gone.throttles = row["throttles"]
                gone.succeeded = row["n"]
                totals[gone.function] = (totals[gone.function] ?? PrunedTotals(function: gone.function)).adding(gone)
            }
            for total in totals.values {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO pruned_totals
                            (function, invocations, errors, retries, throttles, succeeded, gb_seconds, buckets)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        total.function, total.invocations, total.errors, total.retries, total.throttles,
                        total.succeeded, total.gbSeconds, total.bucketsText,
                    ])
            }
            try db.execute(
                sql: """
                    UPDATE pruned_events SET through = MAX(through, (SELECT MAX(id) FROM pruning));
                    DELETE FROM attempts WHERE invocation_id IN (
                        SELECT id FROM invocations WHERE event_id IN (SELECT id FROM pruning));
                    DELETE FROM invocations WHERE event_id IN (SELECT id FROM pruning);
                    DELETE FROM events WHERE id IN (SELECT id FROM pruning);
                    DELETE FROM pruning;
                    """)
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
