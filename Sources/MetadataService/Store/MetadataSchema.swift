// The metadata database's schema: named, append-only migrations.
import GRDB

/// The versioned schema of `metadata.sqlite`.
enum MetadataSchema {
    /// Every migration, in order. Never edit a registered migration: append a new one.
    static var migrator: DatabaseMigrator {
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
        return migrator
    }
}
