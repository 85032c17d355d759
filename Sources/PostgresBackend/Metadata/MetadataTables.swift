// The metadata service's tables in PostgreSQL (schema picpipe_metadata): the columns of metadata.sqlite, text
// compared bytewise (COLLATE "C", as SQLite does) and a GiST index on the GPS position for bbox/near.
import Foundation
import MetadataService
import PostgresNIO

/// The metadata schema (package-wide: tests make a database of an earlier version).
package enum MetadataTables {
    /// Every migration, in order. Never edit a registered migration: append a new one.
    /// - Parameter root: the store's folder, which rows' `file` paths are relative to (v3 reads the originals).
    package static func migrator(root: URL) -> SchemaMigrator {
        SchemaMigrator(
            schema: "picpipe_metadata",
            migrations: [
                .init(
                    "v1: images, raw tags, time/camera indexes, GiST index on the GPS point",
                    [
                        """
                        CREATE TABLE picpipe_metadata.image (
                            id BIGSERIAL PRIMARY KEY,
                            sha256 TEXT COLLATE "C" NOT NULL UNIQUE,
                            file TEXT NOT NULL,
                            make TEXT, model TEXT, lens_model TEXT,
                            taken_at TEXT COLLATE "C", taken_at_offset TEXT,
                            exposure_time DOUBLE PRECISION, f_number DOUBLE PRECISION, iso BIGINT,
                            focal_length DOUBLE PRECISION, focal_length_35mm BIGINT, orientation BIGINT,
                            gps_latitude DOUBLE PRECISION, gps_longitude DOUBLE PRECISION, gps_altitude DOUBLE PRECISION,
                            width BIGINT, height BIGINT, format TEXT, bytes BIGINT,
                            exif_error TEXT,
                            source_name TEXT)
                        """,
                        "CREATE INDEX image_taken_at ON picpipe_metadata.image (taken_at DESC NULLS LAST, sha256)",
                        "CREATE INDEX image_make_model ON picpipe_metadata.image (lower(make), lower(model))",
                        // x = longitude, y = latitude; only rows with a position are indexed.
                        """
                        CREATE INDEX image_position ON picpipe_metadata.image USING gist (point(gps_longitude, gps_latitude))
                            WHERE gps_latitude IS NOT NULL AND gps_longitude IS NOT NULL
                        """,
                        """
                        CREATE TABLE picpipe_metadata.exif_tag (
                            image_id BIGINT NOT NULL REFERENCES picpipe_metadata.image (id) ON DELETE CASCADE,
                            ifd TEXT NOT NULL,
                            tag_id INTEGER NOT NULL,
                            position INTEGER NOT NULL,
                            name TEXT NOT NULL,
                            integer_value BIGINT,
                            real_value DOUBLE PRECISION,
                            text_value TEXT,
                            PRIMARY KEY (image_id, ifd, tag_id))
                        """,
                    ]),
                .init(
                    "v2: make and model case-folded in Swift, for matching without case",
                    [
                        // lower() folds ASCII only under the C locale; the keys (MetadataQuery.caseKey) fold every
                        // script, the same way as in SQLite.
                        "ALTER TABLE picpipe_metadata.image ADD COLUMN make_key TEXT COLLATE \"C\"",
                        "ALTER TABLE picpipe_metadata.image ADD COLUMN model_key TEXT COLLATE \"C\"",
                        "DROP INDEX picpipe_metadata.image_make_model",
                        "CREATE INDEX image_make_model_key ON picpipe_metadata.image (make_key, model_key)",
                    ],
                    fill: { connection in
                        for column in ["make", "model"] {
                            let rows = try connection.run(
                                "SELECT DISTINCT \(column) AS value FROM picpipe_metadata.image WHERE \(column) IS NOT NULL"
                            )
                            for value in rows.compactMap({ $0.value("value", as: String.self) }) {
                                try connection.run(
                                    "UPDATE picpipe_metadata.image SET \(column)_key = $1 WHERE \(column) = $2",
                                    [.text(MetadataQuery.caseKey(value)), .text(value)])
                            }
                        }
                    }),
                .init(
                    "v3: when each image was added; the listing orders by taken_at, else added_at",
                    [
                        "ALTER TABLE picpipe_metadata.image ADD COLUMN added_at TEXT COLLATE \"C\"",
                        // The listing's order (PostgresMetadataQueryPlan.listedAt); image_taken_at stays for the
                        // taken_after/taken_before ranges.
                        """
                        CREATE INDEX image_listed_at ON picpipe_metadata.image
                            (COALESCE(taken_at, added_at) DESC NULLS LAST, sha256)
                        """,
                    ],
                    fill: { connection in
                        // A row stored before has no time of adding: its original's modification time is the best
                        // there is (see MetadataSchema's v4). A gone original leaves it null.
                        let rows = try connection.run("SELECT id, file FROM picpipe_metadata.image")
                        var ids: [Int64] = []
                        var times: [String] = []
                        for row in rows {
                            guard let id = row.value("id", as: Int64.self),
                                let file = row.value("file", as: String.self),
                                let added = AddedTime.ofOriginal(file, root: root)
                            else { continue }
                            ids.append(id)
                            times.append(added)
                        }
                        guard !ids.isEmpty else { return }
                        try connection.run(
                            """
                            UPDATE picpipe_metadata.image AS image SET added_at = t.added_at
                            FROM unnest($1::bigint[], $2::text[]) AS t (id, added_at) WHERE image.id = t.id
                            """, [.integers(ids), .texts(times)])
                    }),
                .init(
                    "v4: make and model keys indexed by their md5, so a key of any length is stored",
                    [
                        // A btree index entry holds at most 2,704 bytes: a row whose Make or Model is longer (2,800
                        // random letters, which any upload can carry) could not be stored at all. The md5 of each
                        // key is 32 characters; queries name md5(key) = md5($n) AND key = $n
                        // (PostgresMetadataQueryPlan).
                        "DROP INDEX picpipe_metadata.image_make_model_key",
                        """
                        CREATE INDEX image_make_model_key_md5
                            ON picpipe_metadata.image (md5(make_key), md5(model_key))
                        """,
                    ]),
            ])
    }
}
