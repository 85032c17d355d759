// What can go wrong between picpipe and its PostgreSQL database, in words a user can act on.
import Foundation
import PipelineCore

/// A PostgreSQL backend failure.
public enum DatabaseError: Error, Sendable, CustomStringConvertible {
    /// The database URL cannot be used.
    case invalidURL(String, reason: String)
    /// The server could not be reached or refused the connection.
    case unreachable(url: String, reason: String)
    /// Every connection of the pool stayed busy for too long.
    case poolExhausted(url: String, waited: Double)
    /// A statement failed.
    case statementFailed(sql: String, reason: String)
    /// A migration failed; the schema stays at the previous version.
    case migrationFailed(name: String, reason: String)
    /// The database serves another store (see `StoreBinding`).
    case boundToAnotherStore(
        url: String, boundID: String, boundPath: String, boundAt: String, storeID: String, storePath: String)
    /// Another process held a lock this one waits for (a content's, see `PostgresContentLocks`) for too long.
    case lockBusy(name: String, waited: Double)
    /// `db migrate` found rows of the database's own under ids the SQLite journal uses.
    case migrationConflict(table: String, ids: [Int64])

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason): return "database URL \(url): \(reason)"
        case .unreachable(let url, let reason):
            return "cannot connect to the database \(url): \(reason) (is PostgreSQL running, and the URL right?)"
        case .poolExhausted(let url, let waited):
            return "no free connection to \(url) after \(Int(waited)) s (every pooled connection is busy)"
        case .statementFailed(let sql, let reason):
            let head = sql.split(separator: "\n").first.map(String.init) ?? sql
            return "database statement failed: \(reason) (in: \(head.trimmingCharacters(in: .whitespaces)))"
        case .migrationFailed(let name, let reason): return "database migration \"\(name)\" failed: \(reason)"
        case .lockBusy(let name, let waited):
            return "\(name) stayed locked by another picpipe process for \(Int(waited)) s; try again"
        case .boundToAnotherStore(let url, let boundID, let boundPath, let boundAt, let storeID, let storePath):
            return "the database \(url) serves another store (id \(boundID), first opened at \(boundPath) on \(boundAt)); "
                + "the store at \(storePath) (id \(storeID), in its db/store-id) needs a database of its own: two stores "
                + "in one database would take each other's uploads for duplicates"
        case .migrationConflict(let table, let ids):
            let shown = ids.prefix(10).map(String.init).joined(separator: ", ") + (ids.count > 10 ? ", …" : "")
            return "the database's journal already has \(table) of its own under ids the SQLite journal uses "
                + "(\(ids.count): \(shown)): a process ran on the database before the move, so copying would drop "
                + "the SQLite rows under those ids (and `replay ID` would name another picture); nothing was copied. "
                + "db migrate copies into a database that holds nothing, or only what an earlier db migrate of this "
                + "store copied"
        }
    }
}

extension DatabaseError: TransientFailure {
    /// A lost or busy server may be back in a moment (a restart, a failover); a bad URL, statement or migration not.
    public var mayPassIfRetried: Bool {
        switch self {
        case .unreachable, .poolExhausted, .lockBusy: return true
        case .invalidURL, .statementFailed, .migrationFailed, .boundToAnotherStore, .migrationConflict: return false
        }
    }
}
