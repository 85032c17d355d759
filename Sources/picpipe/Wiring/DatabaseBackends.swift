import ArgumentParser
// Which databases a command works on: SQLite files in the store (the default), or one shared PostgreSQL database.
import FetchService
import Foundation
import Logging
import MetadataService
import PipelineCore
import PostgresBackend

/// The journal, the metadata store and the id index of one process, opened once.
struct DatabaseBackends {
    /// The journal.
    let journal: any InvocationJournal
    /// The shared metadata store; `nil` in SQLite mode (the metadata function opens the store's file).
    let metadata: (any MetadataStore)?
    /// The PostgreSQL pool; `nil` in SQLite mode.
    let pool: PostgresConnectionPool?

    /// Whether the databases are shared (PostgreSQL): many processes may serve one store.
    var isShared: Bool { pool != nil }

    /// Opens the databases a URL names (`nil`: the store's SQLite files).
    static func open(url: String?, layout: StoreLayout, logger: Logger = Logger(label: "picpipe.database")) throws
        -> DatabaseBackends
    {
        guard let url else {
            try refuseSQLiteIfShared(layout)
            let journal = try StoreOptions.openDatabase(at: layout.eventsDatabase) {
                try SQLiteInvocationJournal(layout: layout)
            }
            return DatabaseBackends(journal: journal, metadata: nil, pool: nil)
        }
        let pool = try connect(DatabaseURL(parsing: url), layout: layout, maxConnections: 10, logger: logger)
        // The queue's claims and outcomes on sessions that do not wait for the disk (see PostgresInvocationJournal).
        let queue = try pool.sibling(maxConnections: 10, settings: [("synchronous_commit", "off")])
        return DatabaseBackends(
            journal: try PostgresInvocationJournal(pool: pool, queue: queue, logger: logger),
            metadata: try PostgresMetadataStore(pool: pool, root: layout.root), pool: pool)
    }

    /// A pool on the PostgreSQL database `url` names, once the database is known to serve this store (bound to it
    /// now if it serves none yet; see `StoreBinding`). Every command that opens a shared database goes through here.
    static func connect(
        _ url: DatabaseURL, layout: StoreLayout, maxConnections: Int = 8,
        logger: Logger = Logger(label: "picpipe.database")
    ) throws -> PostgresConnectionPool {
        let pool = try PostgresConnectionPool(url: url, maxConnections: maxConnections, logger: logger)
        try StoreBinding.bind(pool, to: StoreIdentity.of(layout), path: layout.root.path)
        try SharedDatabaseMark.record(url.description, in: layout)
        return pool
    }

    /// Ends this process's part in the databases, once nothing of it runs any more (every command, as it exits):
    /// on PostgreSQL its heartbeat stops and its row in `picpipe_journal.processes` goes, so other processes and
    /// the operator see it gone at once. A process that crashes leaves the row: it counts as dead once its last beat
    /// is 10 s old, and goes a day later.
    func close() {
        (journal as? PostgresInvocationJournal)?.abandon()
    }

    /// Refuses to open with SQLite a store whose databases are in PostgreSQL (`SharedDatabaseMark`).
    static func refuseSQLiteIfShared(_ layout: StoreLayout) throws {
        if let refusal = SharedDatabaseMark.refusal(for: layout) { throw ValidationError(refusal) }
    }

    /// The metadata store for reading (`query`): the shared one, or the store's SQLite file.
    func metadataStore(layout: StoreLayout) throws -> any MetadataStore {
        if let metadata { return metadata }
        let database = layout.metadataDatabase
        return try StoreOptions.openDatabase(at: database) { try SQLiteMetadataStore(url: database) }
    }

    /// The usage-plan counter when shared, so several API processes enforce one limit; `nil`: in-process counts.
    func usageCounter() throws -> (any UsageCounter)? {
        guard let pool else { return nil }
        return try PostgresUsageCounter(pool: pool)
    }

    /// The fetch service's id index when shared; `nil`: its SQLite file.
    func imageIndex() throws -> (any ImageIndex)? {
        guard let pool else { return nil }
        return try PostgresImageIndex(pool: pool)
    }

    /// The content locks when shared, so a PUT in one API process waits for a DELETE in another; `nil`: this
    /// process's.
    func contentLocks() throws -> (any ContentLocks)? {
        guard let pool else { return nil }
        return try PostgresContentLocks(pool: pool)
    }

    /// The HTTP API's id index and content locks, opened once for the process: the shared ones, else (when `local`)
    /// the store's SQLite index and this process's locks, else `nil`.
    func contentTurn(layout: StoreLayout, local: Bool) throws -> ContentTurn? {
        if let index = try imageIndex(), let locks = try contentLocks() {
            return ContentTurn(index: index, locks: locks)
        }
        guard local else { return nil }
        return ContentTurn(
            index: try SQLiteImageIndex(url: SQLiteImageIndex.location(in: layout)), locks: LocalContentLocks())
    }
}

/// What names a content and who may change it: the HTTP API and the ways in that take a dropped file's path (the
/// watcher, the fetch function) share one of each, so a dropped picture is named in the same turn as a DELETE.
struct ContentTurn {
    /// The id index.
    let index: any ImageIndex
    /// The content locks.
    let locks: any ContentLocks

    /// The watcher's and the fetch function's naming over them.
    var naming: IndexedContentNaming { IndexedContentNaming(index: index, locks: locks) }
}
