// A metadata.sqlite of an earlier version: the first migrations only, with rows in the columns those had, made
// through the schema's own migrator.
import Foundation
import GRDB
import MetadataService

enum EarlierMetadataDatabase {
    /// Makes the database at `url` with the first `migrations` migrations and `rows` (Canon pictures 10 wide).
    static func make(
        at url: URL, root: URL, migrations: Int, rows: [(sha256: String, file: String, takenAt: String?)]
    ) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: url.path)
        let migrator = MetadataSchema.migrator(root: root)
        try migrator.migrate(queue, upTo: migrator.migrations[migrations - 1])
        try queue.write { db in
            for row in rows {
                try db.execute(
                    sql: "INSERT INTO image (sha256, file, taken_at, make, width) VALUES (?, ?, ?, 'Canon', 10)",
                    arguments: [row.sha256, row.file, row.takenAt])
            }
        }
        try queue.close()
    }
}
