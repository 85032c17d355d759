// `picpipe db migrate`: a SQLite store's journal, metadata and id index copied into PostgreSQL, keeping every id,
// idempotent (a second run copies nothing new) and verified row for row.
import FetchService
import Foundation
import GRDB
import MetadataService
import PipelineCore

/// Copies what a store's SQLite databases hold into a PostgreSQL database.
public struct SQLiteImport {
    /// What was copied and found, per table.
    public struct Report: Sendable, CustomStringConvertible {
        /// Rows by table: in SQLite, newly copied, present in PostgreSQL afterwards.
        public var tables: [(name: String, source: Int, copied: Int, target: Int)] = []
        /// Rows that differ after the copy (empty when verified).
        public var mismatches: [String] = []

        public var description: String {
            var lines = tables.map {
                "\($0.name): \($0.source) in SQLite, \($0.copied) copied, \($0.target) in PostgreSQL"
            }
            lines.append(
                mismatches.isEmpty
                    ? "verified: every row matches" : "MISMATCHES:\n" + mismatches.joined(separator: "\n"))
            return lines.joined(separator: "\n")
        }
    }

    let layout: StoreLayout
    let pool: PostgresConnectionPool

    public init(layout: StoreLayout, pool: PostgresConnectionPool) {
        self.layout = layout
        self.pool = pool
    }

    /// Copies and verifies.
    public func run() throws -> Report {
        var report = Report()
        // The target schemas, migrated as every process migrates them (the journal's without opening a journal:
        // one registers as a live process, and until session 34 this command left its row behind for a day).
        try JournalSchema.migrator.migrate(pool)
        let metadata = try PostgresMetadataStore(pool: pool, root: layout.root)
        let index = try PostgresImageIndex(pool: pool)
        if FileManager.default.fileExists(atPath: layout.eventsDatabase.path) {
            try copyJournal(into: &report)
        }
        if FileManager.default.fileExists(atPath: layout.metadataDatabase.path) {
            try copyMetadata(into: metadata, report: &report)
        }
        let fetch = SQLiteImageIndex.location(in: layout)
        if FileManager.default.fileExists(atPath: fetch.path) {
            try copyIndex(from: fetch, into: index, report: &report)
        }
        return report
    }

    private func open(_ url: URL) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(30)
        return try DatabaseQueue(path: url.path, configuration: configuration)
    }

    private static func value(_ row: Row, _ column: String) -> SQLValue {
        switch (row[column] as DatabaseValue).storage {
        case .null: return .text(nil)
        case .int64(let number): return .integer(number)
        case .double(let number): return .real(number)
        case .string(let text): return .text(text)
        case .blob(let data): return .text(String(decoding: data, as: UTF8.self))
        }
    }

    private func copyJournal(into report: inout Report) throws {
        let source = try open(layout.eventsDatabase)
        let tables: [(String, [String], String)] = [
            ("events", ["id", "name", "key", "source_name", "etag", "size", "record", "created_at"], "id"),
            (
                "invocations",
                [
                    "id", "event_id", "function", "type", "state", "attempt", "enqueued_at", "not_before", "started_at",
                    "finished_at", "duration", "error", "result", "throttled", "lease_until",
                ], "id"
            ),
            (
                "attempts",
                ["id", "invocation_id", "function", "attempt", "started_at", "duration", "memory_mb", "error"], "id"
            ),
        ]
        // Rows the database made itself (a process ran on it before the move) under ids SQLite uses are refused
        // before anything is copied: `ON CONFLICT DO NOTHING` would keep them and drop the SQLite rows.
        for (table, identity) in Self.identities {
            let rows = try source.read { db in try Row.fetchAll(db, sql: "SELECT * FROM \(table)") }
            let present = try Self.identities(of: table, in: pool, columns: identity)
            let clashing = rows.compactMap { row -> Int64? in
                let id: Int64 = row["id"]
                guard let there = present[id] else { return nil }
                return there == identity.map({ Self.text(row, $0) }) ? nil : id
            }
            if !clashing.isEmpty { throw DatabaseError.migrationConflict(table: table, ids: clashing.sorted()) }
        }
        for (table, columns, key) in tables {
            let rows = try source.read { db in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(key)") }
            var copied = 0
            try pool.transaction { connection in
                for row in rows {
                    let values = columns.map { column -> SQLValue in
                        if column == "throttled" { return .bool((row[column] as Int64? ?? 0) != 0) }
                        if table == "invocations", column == "attempt" { return .integer(row[column] as Int64? ?? 0) }
                        return Self.value(row, column)
                    }
                    let placeholders = columns.indices.map { index -> String in
                        let cast: String
                        switch columns[index] {
                        case "id", "event_id", "invocation_id", "size": cast = "::bigint"
                        case "attempt", "memory_mb": cast = "::integer"
                        case "created_at", "enqueued_at", "not_before", "started_at", "finished_at", "duration",
                            "lease_until":
                            cast = "::float8"
                        case "throttled": cast = "::boolean"
                        default: cast = "::text"
                        }
                        return "$\(index + 1)\(cast)"
                    }
                    copied += try connection.execute(
                        """
                        INSERT INTO picpipe_journal.\(table) (\(columns.joined(separator: ", ")))
                        VALUES (\(placeholders.joined(separator: ", "))) ON CONFLICT (\(key)) DO NOTHING
                        """, values)
                }
            }
            let target =
                try pool.run("SELECT COUNT(*) AS n FROM picpipe_journal.\(table)").first?.value("n", as: Int.self) ?? 0
            report.tables.append((table, rows.count, copied, target))
            // Row for row: every id of SQLite is in PostgreSQL naming the same thing (and, for an invocation, in
            // the same state).
            let check =
                (Self.identities.first { $0.table == table }?.columns ?? []) + (table == "invocations" ? ["state"] : [])
            let present = try Self.identities(of: table, in: pool, columns: check)
            for row in rows {
                let id: Int64 = row[key]
                let expected = check.map { Self.text(row, $0) }
                if present[id] != expected {
                    let found = present[id].map { $0.joined(separator: " ") } ?? "missing"
                    report.mismatches.append(
                        "\(table) \(id): \(check.joined(separator: ",")) \(found) instead of \(expected.joined(separator: " "))"
                    )
                }
            }
        }
        // The counts kept beside the rows (calls refused with 429, pruned work): a function's counts are copied
        // once (a second db migrate finds them there and leaves them).
        try source.read { db in
            for row in try Row.fetchAll(db, sql: "SELECT function, count FROM refused_calls") {
                try pool.run(
                    """
                    INSERT INTO picpipe_journal.refused_calls (function, count) VALUES ($1, $2::bigint)
                    ON CONFLICT (function) DO NOTHING
                    """, [Self.value(row, "function"), Self.value(row, "count")])
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM pruned_totals") {
                try pool.run(
                    """
                    INSERT INTO picpipe_journal.pruned_totals
                        (function, invocations, errors, retries, throttles, succeeded, gb_seconds, buckets)
                    VALUES ($1, $2::bigint, $3::bigint, $4::bigint, $5::bigint, $6::bigint, $7::float8, $8)
                    ON CONFLICT (function) DO NOTHING
                    """,
                    [
                        "function", "invocations", "errors", "retries", "throttles", "succeeded", "gb_seconds",
                        "buckets",
                    ].map { Self.value(row, $0) })
            }
        }
        // The newest pruned id comes along (the event stream compares a resuming client's id with it); a journal
        // that never opened with session 34's version kept none: its highest gap stands for it.
        let pruned = try source.read { db -> Int64 in
            if try db.tableExists("pruned_events") {
                return try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(through), 0) FROM pruned_events") ?? 0
            }
            return try Int64.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(MAX(e.id - 1), 0) FROM events e
                    WHERE e.id > 1 AND NOT EXISTS (SELECT 1 FROM events p WHERE p.id = e.id - 1)
                    """) ?? 0
        }
        try pool.run(
            "UPDATE picpipe_journal.pruned_events SET through = GREATEST(through, $1)", [.integer(pruned)])
        // New ids continue after the copied ones, and after the pruned ones.
        try pool.run(
            """
            SELECT setval('picpipe_journal.event_ids', GREATEST((SELECT COALESCE(MAX(id), 0) FROM picpipe_journal.events),
                (SELECT COALESCE(MAX(through), 0) FROM picpipe_journal.pruned_events), 1))
            """
        )
        for table in ["invocations", "attempts"] {
            try pool.run(
                """
                SELECT setval(pg_get_serial_sequence('picpipe_journal.\(table)', 'id'),
                    GREATEST((SELECT COALESCE(MAX(id), 0) FROM picpipe_journal.\(table)), 1))
                """)
        }
    }

    /// The columns that say what a journal row is (not how far it got), compared by id.
    static let identities: [(table: String, columns: [String])] = [
        ("events", ["name", "key", "etag", "record"]),
        ("invocations", ["event_id", "function", "type"]),
        ("attempts", ["invocation_id", "function", "attempt"]),
    ]

    /// A SQLite row's column as text, as `identities(of:in:columns:)` reads it from PostgreSQL.
    static func text(_ row: Row, _ column: String) -> String {
        switch (row[column] as DatabaseValue).storage {
        case .null: return ""
        case .int64(let number): return String(number)
        case .double(let number): return String(number)
        case .string(let text): return text
        case .blob(let data): return String(decoding: data, as: UTF8.self)
        }
    }

    /// The rows of a journal table in PostgreSQL by id, each as the text of `columns`.
    static func identities(of table: String, in pool: PostgresConnectionPool, columns: [String]) throws
        -> [Int64: [String]]
    {
        let selected = columns.map { "COALESCE(\($0)::text, '') AS \($0)" }.joined(separator: ", ")
        var found: [Int64: [String]] = [:]
        for row in try pool.run("SELECT id, \(selected) FROM picpipe_journal.\(table)") {
            guard let id = row.value("id", as: Int64.self) else { continue }
            found[id] = columns.map { row.value($0, as: String.self) ?? "" }
        }
        return found
    }

    private func copyMetadata(into target: PostgresMetadataStore, report: inout Report) throws {
        let source = try SQLiteMetadataStore(url: layout.metadataDatabase)
        let images = try source.query(MetadataQuery())
        var copied = 0
        for listed in images {
            guard let full = try source.image(sha256: listed.id) else { continue }
            if try target.image(sha256: listed.id) == nil { copied += 1 }
            try target.upsert(
                full.metadata, originalPath: full.metadata.file, sourceName: full.sourceName, addedAt: full.addedAt)
        }
        for listed in images {
            let expected = try source.image(sha256: listed.id)
            let found = try target.image(sha256: listed.id)
            if expected != found { report.mismatches.append("metadata \(listed.id): differs after the copy") }
        }
        report.tables.append(("metadata images", images.count, copied, try target.count()))
    }

    private func copyIndex(from url: URL, into target: PostgresImageIndex, report: inout Report) throws {
        let source = SQLiteImageIndexReader(url: url)
        let entries = try source.all()
        var copied = 0
        for entry in entries {
            if try target.entry(for: entry.id) == nil { copied += 1 }
            try target.upsert(entry)
        }
        for entry in entries where try target.entry(for: entry.id) != entry {
            report.mismatches.append("image id \(entry.id): differs after the copy")
        }
        report.tables.append(("image ids", entries.count, copied, try target.all().count))
    }
}

/// Reads every id of a store's `fetch.sqlite`.
struct SQLiteImageIndexReader {
    let url: URL

    func all() throws -> [IndexedImage] {
        let index = try SQLiteImageIndex(url: url)
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: url.path, configuration: configuration)
        let ids = try queue.read { db in try String.fetchAll(db, sql: "SELECT id FROM image_id ORDER BY id") }
        return ids.compactMap { index.entry(for: $0) }
    }
}
