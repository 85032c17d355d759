// Migrating a store's SQLite database once when several processes open it at the same moment.
import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#endif

extension DatabaseMigrator {
    /// Runs the migrations while holding an exclusive lock on `DATABASE-migrate.lock` beside the database.
    ///
    /// GRDB reads which migrations are applied before it opens each migration's transaction, so two processes
    /// starting together on a fresh store (two `batch` runs, `serve` and `batch`) could both create the same
    /// table ("table image already exists"). The lock serialises them: the second finds the work done. SQLite
    /// mode keeps its databases on a local disk, where `flock` is reliable.
    /// - Parameters:
    ///   - writer: the database.
    ///   - path: the database file; the lock file is made beside it.
    public func migrateSerialised(_ writer: any DatabaseWriter, path: URL) throws {
        let lockPath = path.path + "-migrate.lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError.io(path: lockPath, operation: "open", errno: errno) }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw StoreError.io(path: lockPath, operation: "lock", errno: errno) }
        }
        defer { flock(descriptor, LOCK_UN) }
        try migrate(writer)
    }
}
