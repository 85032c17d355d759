// Versioned, named, append-only migrations for one service's schema, applied once under an advisory lock.
import Foundation
import PostgresNIO

/// One service's schema (`picpipe_journal`, `picpipe_metadata`, `picpipe_fetch`) and its migrations.
///
/// `migrate` takes a session-level advisory lock, so two processes starting together apply each migration once:
/// the second waits, then finds them applied. Each migration runs in its own transaction with its record in
/// `SCHEMA.migrations`; never edit a registered migration, append a new one.
public struct SchemaMigrator: Sendable {
    /// A named migration: its statements, run in order in one transaction.
    public struct Migration: Sendable {
        public var name: String
        public var statements: [String]
        /// Work SQL cannot do (values computed in Swift), run after the statements in the same transaction.
        public var fill: (@Sendable (PostgresConnection) throws -> Void)?

        public init(
            _ name: String, _ statements: [String], fill: (@Sendable (PostgresConnection) throws -> Void)? = nil
        ) {
            self.name = name
            self.statements = statements
            self.fill = fill
        }
    }

    /// The schema the migrations create and change.
    public let schema: String
    /// The migrations, in order.
    public let migrations: [Migration]

    public init(schema: String, migrations: [Migration]) {
        self.schema = schema
        self.migrations = migrations
    }

    /// The advisory lock key every picpipe migration takes (one key for all schemas: migrations are rare).
    static let lockKey: Int64 = 0x7069_6370_6970_6501  // "picpipe" + 1

    /// Applies the migrations not applied yet. - Returns: the names applied by this call.
    @discardableResult
    public func migrate(_ pool: PostgresConnectionPool) throws -> [String] {
        try pool.withConnection { connection in
            try connection.run("SELECT pg_advisory_lock($1)", [.integer(Self.lockKey)])
            defer { _ = try? connection.run("SELECT pg_advisory_unlock($1)", [.integer(Self.lockKey)]) }
            try connection.run("CREATE SCHEMA IF NOT EXISTS \(schema)")
            try connection.run(
                """
                CREATE TABLE IF NOT EXISTS \(schema).migrations (
                    name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """)
            let done = Set(
                try connection.run("SELECT name FROM \(schema).migrations").compactMap {
                    $0.value("name", as: String.self)
                })
            var applied: [String] = []
            for migration in migrations where !done.contains(migration.name) {
                try connection.run("BEGIN")
                do {
                    for statement in migration.statements { try connection.run(statement) }
                    try migration.fill?(connection)
                    try connection.run(
                        "INSERT INTO \(schema).migrations (name) VALUES ($1)", [.text(migration.name)])
                    try connection.run("COMMIT")
                } catch {
                    _ = try? connection.run("ROLLBACK")
                    throw DatabaseError.migrationFailed(
                        name: migration.name, reason: PostgresConnectionPool.reason(error))
                }
                applied.append(migration.name)
            }
            return applied
        }
    }

    /// The names of the migrations applied so far.
    public func applied(_ pool: PostgresConnectionPool) throws -> [String] {
        try pool.run("SELECT name FROM \(schema).migrations ORDER BY applied_at, name").compactMap {
            $0.value("name", as: String.self)
        }
    }
}
