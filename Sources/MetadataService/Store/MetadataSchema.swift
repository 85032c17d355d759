// The metadata database's schema: named, append-only migrations.
import Foundation
import GRDB

/// The versioned schema of `metadata.sqlite` (package-wide: tests make a database of an earlier version).
package enum MetadataSchema {
    /// Every migration, in order. Never edit a registered migration: append a new one.
    /// - Parameter root: the store's folder, which rows' `file` paths are relative to (v4 reads the originals).
    package static func migrator(root: URL) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: images, raw tags, time/camera indexes, GPS R*Tree") { db in
            try db.execute(
                sql: """
                    CREATE TABLE image (
                        id INTEGER PRIMARY KEY,
                        sha256 TEXT NOT NULL UNIQUE,
                        file TEXT NOT NULL,
                        make TEXT, model TEXT, lens_model TEXT,
                        taken_at TEXT, taken_at_offset TEXT,
                        exposure_time REAL, f_number REAL, iso INTEGER,
                        focal_length REAL, focal_length_35mm INTEGER, orientation INTEGER,
                        gps_latitude REAL, gps_longitude REAL, gps_altitude REAL,
                        width INTEGER, height INTEGER, format TEXT, bytes INTEGER,
                        exif_error TEXT
                    );
                    CREATE INDEX image_taken_at ON image(taken_at DESC, sha256);
                    CREATE INDEX image_make_model ON image(make COLLATE NOCASE, model COLLATE NOCASE);
                    CREATE TABLE exif_tag (
                        image_id INTEGER NOT NULL REFERENCES image(id) ON DELETE CASCADE,
                        ifd TEXT NOT NULL,
                        tag_id INTEGER NOT NULL,
                        position INTEGER NOT NULL,
                        name TEXT NOT NULL,
                        value,
                        PRIMARY KEY (image_id, ifd, tag_id)
                    ) WITHOUT ROWID;
                    CREATE VIRTUAL TABLE image_geo USING rtree(id, min_lat, max_lat, min_lon, max_lon);
                    """)
        }
        migrator.registerMigration("v2: the name an image arrived under") { db in
            try db.execute(sql: "ALTER TABLE image ADD COLUMN source_name TEXT")
        }
        migrator.registerMigration("v3: make and model case-folded in Swift, for matching without case") { db in
            // COLLATE NOCASE folds ASCII only; the keys (MetadataQuery.caseKey) fold every script.
            try db.execute(
                sql: """
                    ALTER TABLE image ADD COLUMN make_key TEXT;
                    ALTER TABLE image ADD COLUMN model_key TEXT;
                    DROP INDEX image_make_model;
                    CREATE INDEX image_make_model_key ON image(make_key, model_key);
                    """)
            for column in ["make", "model"] {
                let values = try String.fetchAll(
                    db, sql: "SELECT DISTINCT \(column) FROM image WHERE \(column) IS NOT NULL")
                for value in values {
                    try db.execute(
                        sql: "UPDATE image SET \(column)_key = ? WHERE \(column) = ?",
                        arguments: [MetadataQuery.caseKey(value), value])
                }
            }
        }
        migrator.registerMigration("v4: when each image was added; the listing orders by taken_at, else added_at") {
            db in
            // The listing's order (MetadataQueryPlan.listedAt) has an index of its own; image_taken_at stays for the
            // taken_after/taken_before ranges.
            try db.execute(
                sql: """
                    ALTER TABLE image ADD COLUMN added_at TEXT;
                    CREATE INDEX image_listed_at ON image(COALESCE(taken_at, added_at) DESC, sha256);
                    """)
            // A row stored before has no time of adding: its original's modification time is the best there is (the
            // time it was written; a PUT that moved an id to it since dated it anew). A gone original leaves it null.
            let rows = try Row.fetchAll(db, sql: "SELECT id, file FROM image")
            let update = try db.makeStatement(sql: "UPDATE image SET added_at = ? WHERE id = ?")
            for row in rows {
                guard let added = AddedTime.ofOriginal(row["file"], root: root) else { continue }
                try update.execute(arguments: [added, row["id"] as Int64])
            }
        }
        return migrator
    }
}
