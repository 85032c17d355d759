// Migrating a store's SQLite database once when several processes open it at the same moment.
import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#endif

extension DatabaseMigrator {
    /// Opens a `DatabasePool` on `path` and migrates it while holding an exclusive lock on `DATABASE-migrate.lock`
    /// beside the database.
    ///
    /// GRDB reads which migrations are applied before it opens each migration's transaction, so two processes
    /// starting together on a fresh store (two `batch` runs, `serve` and `batch`) could both create the same
    /// table ("table image already exists"); and opening a pool switches a fresh file to WAL, which two processes
    /// doing at once could fail with "database is locked" (SQLite returns SQLITE_BUSY there without calling the
    /// busy handler: one of two `batch` runs started together failed so). The lock serialises both: the second
    /// finds the work done. SQLite mode keeps its databases on a local disk, where `flock` is reliable.
    public func openPoolSerialised(path: URL, configuration: Configuration) throws -> DatabasePool {
        try Self.serialised(path: path) {
            let pool = try DatabasePool(path: path.path, configuration: configuration)
            try migrate(pool)
            return pool
        }
    }

    /// Runs `body` while holding an exclusive lock on `DATABASE-migrate.lock` beside the database.
    private static func serialised<T>(path: URL, _ body: () throws -> T) throws -> T {
        let lockPath = path.path + "-migrate.lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError.io(path: lockPath, operation: "open", errno: errno) }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw StoreError.io(path: lockPath, operation: "lock", errno: errno) }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
}
