// The metadata service's tables in PostgreSQL (schema picpipe_metadata): the columns of metadata.sqlite, text
// compared bytewise (COLLATE "C", as SQLite does) and a GiST index on the GPS position for bbox/near.
import MetadataService
import PostgresNIO

enum MetadataTables {
    static let migrator = SchemaMigrator(
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
        ])
}
