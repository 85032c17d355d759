// The journal's tables in PostgreSQL (schema picpipe_journal): the same columns as events.sqlite, plus the owner
// of each running claim and the processes' heartbeats.

enum JournalSchema {
    static let schema = "picpipe_journal"

    static let migrator = SchemaMigrator(
        schema: schema,
        migrations: [
            .init(
                "v1: events, invocations, attempts, leases, worker heartbeats",
                [
                    """
                    CREATE TABLE picpipe_journal.events (
                        id BIGINT PRIMARY KEY,
                        name TEXT NOT NULL,
                        key TEXT NOT NULL,
                        source_name TEXT,
                        etag TEXT NOT NULL,
                        size BIGINT NOT NULL,
                        record TEXT NOT NULL,
                        created_at DOUBLE PRECISION NOT NULL)
                    """,
                    "CREATE SEQUENCE picpipe_journal.event_ids OWNED BY picpipe_journal.events.id",
                    "CREATE INDEX events_by_key ON picpipe_journal.events (key, id)",
                    """
                    CREATE TABLE picpipe_journal.invocations (
                        id BIGSERIAL PRIMARY KEY,
                        event_id BIGINT NOT NULL REFERENCES picpipe_journal.events (id),
                        function TEXT NOT NULL,
                        type TEXT NOT NULL,
                        state TEXT NOT NULL,
                        attempt INTEGER NOT NULL DEFAULT 0,
                        enqueued_at DOUBLE PRECISION NOT NULL,
                        not_before DOUBLE PRECISION NOT NULL,
                        started_at DOUBLE PRECISION,
                        finished_at DOUBLE PRECISION,
                        duration DOUBLE PRECISION,
                        error TEXT,
                        result TEXT,
                        throttled BOOLEAN NOT NULL DEFAULT false,
                        owner TEXT,
                        lease_until DOUBLE PRECISION,
                        lease_seconds DOUBLE PRECISION)
                    """,
                    // Only waiting invocations are in the claim index: it stays small however long the history.
                    """
                    CREATE INDEX invocations_ready ON picpipe_journal.invocations (function, not_before, id)
                        WHERE state IN ('queued', 'retrying')
                    """,
                    "CREATE INDEX invocations_running ON picpipe_journal.invocations (owner) WHERE state = 'running'",
                    "CREATE INDEX invocations_by_event ON picpipe_journal.invocations (event_id)",
                    "CREATE INDEX invocations_by_function ON picpipe_journal.invocations (function, state)",
                    """
                    CREATE TABLE picpipe_journal.attempts (
                        id BIGSERIAL PRIMARY KEY,
                        invocation_id BIGINT NOT NULL REFERENCES picpipe_journal.invocations (id),
                        function TEXT NOT NULL,
                        attempt INTEGER NOT NULL,
                        started_at DOUBLE PRECISION NOT NULL,
                        duration DOUBLE PRECISION NOT NULL,
                        memory_mb INTEGER NOT NULL,
                        error TEXT)
                    """,
                    "CREATE INDEX attempts_by_function ON picpipe_journal.attempts (function, duration)",
                    // Every process with the journal open beats here; a claim whose owner stopped beating is
                    // taken again without waiting for its whole lease.
                    """
                    CREATE TABLE picpipe_journal.processes (
                        owner TEXT PRIMARY KEY,
                        host TEXT NOT NULL,
                        pid INTEGER NOT NULL,
                        started_at DOUBLE PRECISION NOT NULL,
                        beat_at DOUBLE PRECISION NOT NULL)
                    """,
                ]),
            .init(
                "v2: claims under a reserved concurrency across processes",
                [
                    // One call is one transaction: the function's claims take turns (an advisory lock held to the
                    // end of it), and each statement of a plpgsql function sees what the turns before committed,
                    // so the count of live claims cannot be passed by two claimers at once.
                    claimLimited(create: "CREATE FUNCTION", counted: " AND i.type = 'Event'")
                ]),
            .init(
                "v3: a reserved concurrency counts synchronous invocations too",
                [
                    // Lambda's reserved concurrency caps every running invocation of a function, RequestResponse
                    // calls included (they take the same advisory lock before they start: see `appendRunning`).
                    claimLimited(create: "CREATE OR REPLACE FUNCTION", counted: "")
                ]),
            .init(
                "v4: the hot queue statements as functions with cached plans",
                [
                    // A plpgsql function's statements are parsed and planned once per session: the busiest
                    // statements (a claim; a success with the next claim) then cost the server a function call,
                    // not a parse and plan of a four-table statement each time (they were most of its CPU).
                    """
                    CREATE FUNCTION picpipe_journal.claim_next(
                        wanted TEXT, now_at DOUBLE PRECISION, claimer TEXT, lease DOUBLE PRECISION)
                    RETURNS TABLE (id BIGINT, type TEXT, attempt INTEGER, enqueued_at DOUBLE PRECISION,
                        not_before DOUBLE PRECISION, event_id BIGINT, record TEXT, created_at DOUBLE PRECISION)
                    LANGUAGE plpgsql AS $$
                    #variable_conflict use_column
                    BEGIN
                        RETURN QUERY
                        \(claimOldestReady)
                    END
                    $$
                    """,
                    // The success is written only while the invocation is still this claim (see `succeed`), its
                    // attempt row only then, and the next claim follows in the same call.
                    """
                    CREATE FUNCTION picpipe_journal.succeed_and_claim(
                        done BIGINT, claimer TEXT, done_attempt INTEGER, finished DOUBLE PRECISION,
                        took DOUBLE PRECISION, outcome TEXT, done_function TEXT, done_started DOUBLE PRECISION,
                        memory INTEGER, wanted TEXT, now_at DOUBLE PRECISION, lease DOUBLE PRECISION)
                    RETURNS TABLE (id BIGINT, type TEXT, attempt INTEGER, enqueued_at DOUBLE PRECISION,
                        not_before DOUBLE PRECISION, event_id BIGINT, record TEXT, created_at DOUBLE PRECISION)
                    LANGUAGE plpgsql AS $$
                    #variable_conflict use_column
                    BEGIN
                        UPDATE picpipe_journal.invocations i
                        SET state = 'succeeded', finished_at = finished, duration = took, error = NULL,
                            result = outcome, lease_until = NULL
                        WHERE i.id = done AND i.state = 'running' AND i.owner = claimer AND i.attempt = done_attempt;
                        IF FOUND THEN
                            INSERT INTO picpipe_journal.attempts (invocation_id, function, attempt, started_at,
                                duration, memory_mb, error)
                            VALUES (done, done_function, done_attempt, done_started, took, memory, NULL);
                        END IF;
                        RETURN QUERY SELECT * FROM picpipe_journal.claim_next(wanted, now_at, claimer, lease);
                    END
                    $$
                    """,
                ]),
            .init(
                "v5: refused synchronous calls",
                [
                    // A call refused with 429 journals no invocation; Lambda still counts it as a throttle.
                    "CREATE TABLE picpipe_journal.refused_calls (function TEXT PRIMARY KEY, count BIGINT NOT NULL)"
                ]),
            .init(
                "v6: the counts of pruned work",
                [
                    // What `prune` forgot, per function (see `PrunedTotals`); the index lets it find an event's
                    // attempts.
                    """
                    CREATE TABLE picpipe_journal.pruned_totals (
                        function TEXT PRIMARY KEY,
                        invocations BIGINT NOT NULL,
                        errors BIGINT NOT NULL,
                        retries BIGINT NOT NULL,
                        throttles BIGINT NOT NULL,
                        succeeded BIGINT NOT NULL,
                        gb_seconds DOUBLE PRECISION NOT NULL,
                        buckets TEXT NOT NULL)
                    """,
                    "CREATE INDEX attempts_by_invocation ON picpipe_journal.attempts (invocation_id)",
                ]),
            .init(
                "v7: the newest pruned event, the unfinished events",
                [
                    // The event stream tells a client that resumes below the newest pruned id that events may be
                    // gone. A journal pruned before kept no mark: the highest id missing below a kept one stands for
                    // it (a rolled-back append's id is a gap too: a client resuming below it is told once too often).
                    "CREATE TABLE picpipe_journal.pruned_events (through BIGINT NOT NULL)",
                    """
                    INSERT INTO picpipe_journal.pruned_events (through)
                    SELECT CASE WHEN EXISTS (SELECT 1 FROM picpipe_journal.pruned_totals)
                        THEN (SELECT COALESCE(MAX(e.id - 1), 0) FROM picpipe_journal.events e
                            WHERE e.id > 1 AND NOT EXISTS (
                                SELECT 1 FROM picpipe_journal.events p WHERE p.id = e.id - 1))
                        ELSE 0 END
                    """,
                    """
                    CREATE INDEX invocations_unfinished ON picpipe_journal.invocations (event_id)
                        WHERE state IN ('queued', 'running', 'retrying')
                    """,
                ]),
        ])

    /// The claim under a reserved concurrency (see v2), as each migration created it: `counted` narrows the running
    /// invocations counted against the limit (v2 counted only queued-event ones, v3 every one).
    private static func claimLimited(create: String, counted: String) -> String {
        return """
            \(create) picpipe_journal.claim_limited(
                wanted TEXT, now_at DOUBLE PRECISION, claimer TEXT, lease DOUBLE PRECISION, reserved INTEGER,
                dead_after DOUBLE PRECISION)
            RETURNS TABLE (id BIGINT, type TEXT, attempt INTEGER, enqueued_at DOUBLE PRECISION,
                not_before DOUBLE PRECISION, event_id BIGINT, record TEXT, created_at DOUBLE PRECISION)
            LANGUAGE plpgsql AS $$
            #variable_conflict use_column
            DECLARE
                live INTEGER;
            BEGIN
                PERFORM pg_advisory_xact_lock(hashtext('picpipe.claim:' || wanted));
                SELECT count(*) INTO live FROM picpipe_journal.invocations i
                WHERE i.function = wanted AND i.state = 'running'\(counted)
                    AND i.owner IN (SELECT p.owner FROM picpipe_journal.processes p
                        WHERE p.beat_at >= extract(epoch FROM clock_timestamp()) - dead_after);
                IF live >= reserved THEN
                    -- Every reserved slot is busy: what is ready waits, and that wait is a throttle.
                    UPDATE picpipe_journal.invocations i SET throttled = true
                    WHERE i.function = wanted AND i.state IN ('queued', 'retrying') AND i.not_before <= now_at
                        AND NOT i.throttled;
                    RETURN;
                END IF;
                RETURN QUERY
                \(claimOldestReady)
            END
            $$
            """
    }

    /// The claim of the oldest ready invocation of `wanted` for `claimer` (after `RETURN QUERY` in a plpgsql function
    /// with those parameters): the one text every claim function runs.
    private static let claimOldestReady = """
        WITH next AS (
            SELECT n.id FROM picpipe_journal.invocations n
            WHERE n.function = wanted AND n.state IN ('queued', 'retrying') AND n.not_before <= now_at
            ORDER BY n.not_before, n.id LIMIT 1
            FOR UPDATE SKIP LOCKED),
        claimed AS (
            UPDATE picpipe_journal.invocations i
            SET state = 'running', attempt = i.attempt + 1, started_at = now_at, owner = claimer,
                lease_until = now_at + lease, lease_seconds = lease
            FROM next
            WHERE i.id = next.id
            RETURNING i.id, i.type, i.attempt, i.enqueued_at, i.not_before, i.event_id)
        SELECT c.id, c.type, c.attempt, c.enqueued_at, c.not_before, e.id, e.record, e.created_at
        FROM claimed c JOIN picpipe_journal.events e ON e.id = c.event_id;
        """
}
