// `ImageIndex` in STORE/db/fetch.sqlite (GRDB, WAL), mirrored in memory so a request never waits on SQLite.
import Foundation
import GRDB
import ImageCore
import Locking
import PipelineCore
import Synchronization

/// The ids of the HTTP API in SQLite, with an in-memory copy.
///
/// Only one `serve` runs per store (its lock), and only its fetch service writes this database, so the
/// copy loaded at start and updated on each write stays exact. Writes go to SQLite first, then to memory, while
/// SQLite's one writer is held (so memory sees them in the database's order).
public final class SQLiteImageIndex: ImageIndex {
    private let pool: DatabasePool
    private let cache: Locked<Cache>
    /// Bumped with every change of `cache`, inside its lock.
    private let changes = Atomic<UInt64>(0)

    private struct Cache {
        var byID: [String: IndexedImage] = [:]
        var byHash: [ContentHash: Set<String>] = [:]

        mutating func insert(_ entry: IndexedImage) {
            byID[entry.id] = entry
            byHash[entry.hash, default: []].insert(entry.id)
        }

        mutating func remove(_ id: String) -> IndexedImage? {
            guard let entry = byID.removeValue(forKey: id) else { return nil }
            byHash[entry.hash]?.remove(id)
            if byHash[entry.hash]?.isEmpty == true { byHash[entry.hash] = nil }
            return entry
        }
    }

    /// The database's location in a store.
    public static func location(in layout: StoreLayout) -> URL {
        layout.databases.appendingPathComponent("fetch.sqlite")
    }

    /// Opens (creating and migrating) the database at `url` and loads every id into memory.
    public init(url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        pool = try Self.migrator.openPoolSerialised(path: url, configuration: configuration)
        var loaded = Cache()
        let rows = try pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM image_id") }
        for row in rows {
            if let entry = Self.entry(row) { loaded.insert(entry) }
        }
        cache = Locked(loaded)
    }

    /// The schema: named, append-only migrations.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: image ids") { db in
            try db.execute(
                sql: """
                    CREATE TABLE image_id (
                        id TEXT PRIMARY KEY NOT NULL,
                        sha256 TEXT NOT NULL,
                        format TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        name TEXT,
                        updated_at REAL NOT NULL
                    );
                    CREATE INDEX image_id_sha256 ON image_id(sha256);
                    """)
        }
        return migrator
    }

    public func entry(for id: String) -> IndexedImage? { cache.withLock { $0.byID[id] } }

    /// Only this process writes the index (one `serve` per store), so every change is counted here.
    public var revision: UInt64? { changes.load(ordering: .acquiring) }

    public func ids(using hash: ContentHash) -> [String] { cache.withLock { ($0.byHash[hash] ?? []).sorted() } }

    public func namedContents() -> [ContentHash: Int] { cache.withLock { $0.byHash.mapValues(\.count) } }

    @discardableResult
    public func upsert(_ entry: IndexedImage) throws -> IndexedImage? {
        // Memory is updated while SQLite's one writer is still held, so changes reach it in the database's order.
        try pool.writeWithoutTransaction { db in
            try Self.write(entry, in: db)
            return remember(entry)
        }
    }

    /// Puts an entry written to the database in memory. - Returns: the entry it replaced.
    private func remember(_ entry: IndexedImage) -> IndexedImage? {
        cache.withLock { cache in
            let previous = cache.remove(entry.id)
            cache.insert(entry)
            changes.wrappingAdd(1, ordering: .releasing)
            return previous
        }
    }

    /// Takes an id removed from the database out of memory. - Returns: its entry.
    private func forget(_ id: String) -> IndexedImage? {
        cache.withLock { cache in
            changes.wrappingAdd(1, ordering: .releasing)
            return cache.remove(id)
        }
    }

    private static func write(_ entry: IndexedImage, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO image_id (id, sha256, format, size, name, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET sha256 = excluded.sha256, format = excluded.format,
                    size = excluded.size, name = excluded.name, updated_at = excluded.updated_at
                """,
            arguments: [
                entry.id, entry.hash.hex, entry.format.rawValue, entry.size, entry.name,
                entry.updatedAt.timeIntervalSince1970,
            ])
    }

    @discardableResult
    public func remove(id: String) throws -> IndexedImage? {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "DELETE FROM image_id WHERE id = ?", arguments: [id])
            return forget(id)
        }
    }

    public func upsert(_ entry: IndexedImage, ifNaming expected: ContentHash?) throws -> IndexChange {
        // The check and the write while SQLite's one writer is held: no other change comes between them.
        try pool.writeWithoutTransaction { db in
            let current = try String.fetchOne(
                db, sql: "SELECT sha256 FROM image_id WHERE id = ?", arguments: [entry.id])
            guard current == expected?.hex else { return .stale }
            try Self.write(entry, in: db)
            return .made(previous: remember(entry))
        }
    }

    public func remove(id: String, ifNaming expected: ContentHash) throws -> IndexChange {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "DELETE FROM image_id WHERE id = ? AND sha256 = ?", arguments: [id, expected.hex])
            guard db.changesCount > 0 else { return .stale }
            return .made(previous: forget(id))
        }
    }

    private static func entry(_ row: Row) -> IndexedImage? {
        guard let hash = ContentHash(hex: row["sha256"]), let format = ImageFormat(rawValue: row["format"]) else {
            return nil
        }
        return IndexedImage(
            id: row["id"], hash: hash, format: format, size: row["size"], name: row["name"],
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
    }
}
