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
        ])
}
