// The fetch service's id index in PostgreSQL (schema picpipe_fetch), shared by every API process: no memory copy,
// since another process may change it at any time.
import FetchService
import Foundation
import ImageCore
import PipelineCore
import PostgresNIO

/// `ImageIndex` in PostgreSQL. Lookups read the table, and throw, as writes do, when the database cannot answer.
public final class PostgresImageIndex: ImageIndex {
    let pool: PostgresConnectionPool

    static let migrator = SchemaMigrator(
        schema: "picpipe_fetch",
        migrations: [
            .init(
                "v1: image ids",
                [
                    """
                    CREATE TABLE picpipe_fetch.image_id (
                        id TEXT COLLATE "C" PRIMARY KEY,
                        sha256 TEXT NOT NULL,
                        format TEXT NOT NULL,
                        size BIGINT NOT NULL,
                        name TEXT,
                        updated_at DOUBLE PRECISION NOT NULL)
                    """,
                    "CREATE INDEX image_id_sha256 ON picpipe_fetch.image_id (sha256)",
                ])
        ])

    /// Migrates (once across processes) and returns the index.
    public init(pool: PostgresConnectionPool) throws {
        self.pool = pool
        try Self.migrator.migrate(pool)
    }

    public func entry(for id: String) throws -> IndexedImage? {
        try pool.run("SELECT * FROM picpipe_fetch.image_id WHERE id = $1", [.text(id)]).first.flatMap(Self.entry)
    }

    public func namedContents() throws -> [ContentHash: Int] {
        var named: [ContentHash: Int] = [:]
        for row in try pool.run("SELECT sha256, COUNT(*) AS n FROM picpipe_fetch.image_id GROUP BY sha256", []) {
            if let hex = row.value("sha256", as: String.self), let hash = ContentHash(hex: hex),
                let count = row.value("n", as: Int.self)
            {
                named[hash] = count
            }
        }
        return named
    }

    public func ids(using hash: ContentHash) throws -> [String] {
        try pool.run("SELECT id FROM picpipe_fetch.image_id WHERE sha256 = $1 ORDER BY id", [.text(hash.hex)])
            .compactMap { $0.value("id", as: String.self) }
    }

    @discardableResult
    public func upsert(_ entry: IndexedImage) throws -> IndexedImage? {
        try pool.transaction { connection in
            let previous = try connection.run(
                "SELECT * FROM picpipe_fetch.image_id WHERE id = $1 FOR UPDATE", [.text(entry.id)]
            ).first.flatMap(Self.entry)
            try connection.run(
                """
                INSERT INTO picpipe_fetch.image_id (id, sha256, format, size, name, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (id) DO UPDATE SET sha256 = excluded.sha256, format = excluded.format,
                    size = excluded.size, name = excluded.name, updated_at = excluded.updated_at
                """,
                [
                    .text(entry.id), .text(entry.hash.hex), .text(entry.format.rawValue), .int(entry.size),
                    .text(entry.name), .real(entry.updatedAt.timeIntervalSince1970),
                ])
            return previous
        }
    }

    public func upsert(_ entry: IndexedImage, ifNaming expected: ContentHash?) throws -> IndexChange {
        try pool.transaction { connection in
            guard let expected else {
                // Created only if no process has the id: the insert that loses a race conflicts and inserts nothing.
                let created = try connection.execute(
                    """
                    INSERT INTO picpipe_fetch.image_id (id, sha256, format, size, name, updated_at)
                    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING
                    """, Self.values(entry))
                return created == 1 ? .made(previous: nil) : .stale
            }
            // The row stays locked from this read to the commit: no other process changes it in between.
            let previous = try connection.run(
                "SELECT * FROM picpipe_fetch.image_id WHERE id = $1 FOR UPDATE", [.text(entry.id)]
            ).first.flatMap(Self.entry)
            guard let previous, previous.hash == expected else { return .stale }
            try connection.run(
                """
                UPDATE picpipe_fetch.image_id SET sha256 = $2, format = $3, size = $4, name = $5, updated_at = $6
                WHERE id = $1
                """, Self.values(entry))
            return .made(previous: previous)
        }
    }

    public func remove(id: String, ifNaming expected: ContentHash) throws -> IndexChange {
        let removed = try pool.run(
            "DELETE FROM picpipe_fetch.image_id WHERE id = $1 AND sha256 = $2 RETURNING *",
            [.text(id), .text(expected.hex)]
        ).first.flatMap(Self.entry)
        return removed.map { .made(previous: $0) } ?? .stale
    }

    /// An entry's columns in the table's order.
    private static func values(_ entry: IndexedImage) -> [SQLValue] {
        [
            .text(entry.id), .text(entry.hash.hex), .text(entry.format.rawValue), .int(entry.size), .text(entry.name),
            .real(entry.updatedAt.timeIntervalSince1970),
        ]
    }

    @discardableResult
    public func remove(id: String) throws -> IndexedImage? {
        try pool.run("DELETE FROM picpipe_fetch.image_id WHERE id = $1 RETURNING *", [.text(id)]).first.flatMap(
            Self.entry)
    }

    /// Every entry (for `db migrate`'s verification).
    public func all() throws -> [IndexedImage] {
        try pool.run("SELECT * FROM picpipe_fetch.image_id ORDER BY id").compactMap(Self.entry)
    }

    static func entry(_ row: PostgresRandomAccessRow) -> IndexedImage? {
        guard let id = row.value("id", as: String.self), let hash = ContentHash(hex: row.value("sha256") ?? ""),
            let format = ImageFormat(rawValue: row.value("format") ?? "")
        else { return nil }
        return IndexedImage(
            id: id, hash: hash, format: format, size: row.value("size") ?? 0, name: row.value("name"),
            updatedAt: Date(timeIntervalSince1970: row.value("updated_at") ?? 0))
    }
}
