// The metadata service's database in PostgreSQL, shared by every worker and API process.
import Foundation
import MetadataService
import PostgresNIO

/// `MetadataStore` in PostgreSQL: the same rows, order and cursors as `SQLiteMetadataStore`; a GiST index on the
/// GPS point prefilters `bbox` and `near`, the typed columns decide (and the haversine distance for `near`).
public final class PostgresMetadataStore: MetadataStore {
    let pool: PostgresConnectionPool
    /// The store's folder as this process sees it.
    private let root: URL

    /// Migrates (once across processes) and returns the store.
    /// - Parameter root: the store's folder as this process sees it, which rows' `file` paths are relative to (a
    ///   migration reads the originals' modification times).
    public init(pool: PostgresConnectionPool, root: URL) throws {
        self.pool = pool
        self.root = root
        try MetadataTables.migrator(root: root).migrate(pool)
    }

    /// The names of the migrations applied so far.
    public func appliedMigrations() throws -> [String] {
        try MetadataTables.migrator(root: root).applied(pool)
    }

    public func upsert(
        _ metadata: ImageMetadata, originalPath: String, sourceName: String?, addedAt: String?,
        committingOnlyIf check: () throws -> Void
    ) throws {
        guard let sha256 = metadata.sha256 else { throw MetadataError.missingSHA256(path: metadata.file) }
        let row =
            Self.columns(metadata, sha256: sha256, file: originalPath) + [
                ("source_name", .text(sourceName)), ("added_at", .text(addedAt)),
            ]
        let names = row.map(\.0)
        // The first name a picture arrived under stays its name, and the first time it was added its time.
        let updates = names.dropFirst().map {
            ["source_name", "added_at"].contains($0)
                ? "\($0) = COALESCE(image.\($0), excluded.\($0))" : "\($0) = excluded.\($0)"
        }.joined(separator: ", ")
        try pool.transaction { connection in
            guard
                let id = try connection.run(
                    """
                    INSERT INTO picpipe_metadata.image AS image (\(names.joined(separator: ", ")))
                    VALUES (\(names.indices.map { "$\($0 + 1)" }.joined(separator: ", ")))
                    ON CONFLICT (sha256) DO UPDATE SET \(updates)
                    RETURNING id
                    """, row.map(\.1)
                ).first?.value("id", as: Int64.self)
            else { return try check() }
            guard let exif = metadata.exif else { return try check() }
            try connection.run("DELETE FROM picpipe_metadata.exif_tag WHERE image_id = $1", [.integer(id)])
            // One row per (group, tag): the last one read wins, as SQLite's INSERT OR REPLACE does.
            var last: [String: Int] = [:]
            for (position, tag) in exif.tags.enumerated() { last["\(tag.group.rawValue)/\(tag.id)"] = position }
            let kept = exif.tags.enumerated().filter {
                last["\($0.element.group.rawValue)/\($0.element.id)"] == $0.offset
            }
            guard !kept.isEmpty else { return try check() }
            try connection.run(
                """
                INSERT INTO picpipe_metadata.exif_tag (image_id, ifd, tag_id, position, name, integer_value,
                    real_value, text_value)
                SELECT $1, t.ifd, t.tag_id, t.position, t.name,
                    CASE t.kind WHEN 'i' THEN t.value::bigint END,
                    CASE t.kind WHEN 'r' THEN t.value::float8 END,
                    CASE t.kind WHEN 't' THEN t.value END
                FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[])
                    AS t (ifd, tag_id, position, name, kind, value)
                """,
                [
                    .integer(id), .texts(kept.map { $0.element.group.rawValue }),
                    .integers(kept.map { Int64($0.element.id) }), .integers(kept.map { Int64($0.offset) }),
                    .texts(kept.map { $0.element.name }), .texts(kept.map { Self.kind($0.element.value) }),
                    .texts(kept.map { Self.text($0.element.value) }),
                ])
            try check()  // the last thing before the commit: a refusal rolls the row back
        }
    }

    public func image(sha256: String) throws -> StoredImage? {
        try pool.withConnection { connection in
            guard
                let row = try connection.run(
                    "SELECT * FROM picpipe_metadata.image WHERE sha256 = $1", [.text(sha256)]
                ).first, let id = row.value("id", as: Int64.self)
            else { return nil }
            var image = Self.storedImage(row)
            let tags = try connection.run(
                """
                SELECT ifd, tag_id, name, integer_value, real_value, text_value FROM picpipe_metadata.exif_tag
                WHERE image_id = $1 ORDER BY position
                """, [.integer(id)])
            if !tags.isEmpty {
                image.metadata.exif = ExifTags(
                    tags: tags.compactMap { tag in
                        guard let group = ExifGroup(rawValue: tag.value("ifd") ?? ""),
                            let number = tag.value("tag_id", as: Int.self)
                        else { return nil }
                        let value: ExifValue
                        if let integer = tag.value("integer_value", as: Int64.self) {
                            value = .integer(integer)
                        } else if let real = tag.value("real_value", as: Double.self) {
                            value = .real(real)
                        } else {
                            value = .text(tag.value("text_value") ?? "")
                        }
                        return ExifTag(
                            group: group, id: UInt16(truncatingIfNeeded: number), name: tag.value("name") ?? "",
                            value: value)
                    })
            }
            return image
        }
    }

    public func query(_ query: MetadataQuery) throws -> [StoredImage] {
        let plan = try PostgresMetadataQueryPlan(query)
        var images: [StoredImage] = []
        for row in try pool.run(plan.sql, plan.values) {
            if let limit = query.limit, images.count >= limit { break }
            let image = Self.storedImage(row)
            if let near = query.near {
                guard let latitude = image.metadata.gpsLatitude, let longitude = image.metadata.gpsLongitude,
                    near.distance(latitude: latitude, longitude: longitude) <= near.kilometres
                else { continue }
            }
            images.append(image)
        }
        return images
    }

    public func delete(sha256: String) throws {
        try pool.execute("DELETE FROM picpipe_metadata.image WHERE sha256 = $1", [.text(sha256)])
    }

    public func count() throws -> Int {
        try pool.run("SELECT COUNT(*) AS n FROM picpipe_metadata.image").first?.value("n", as: Int.self) ?? 0
    }

    /// One query over the four columns it needs, as the SQLite store does (the protocol's default would page
    /// through whole rows); the spellings of one camera are then merged as the filters match them.
    public func cameras(counting listed: (_ sha256: String, _ file: String) -> Int) throws -> [CameraCount] {
        CameraCount.grouped(
            try pool.run("SELECT sha256, file, make, model FROM picpipe_metadata.image").map {
                CameraCount(
                    make: $0.value("make", as: String.self), model: $0.value("model", as: String.self),
                    count: listed($0.value("sha256") ?? "", $0.value("file") ?? ""))
            })
    }

    /// The typed columns of a row, `sha256` first (it is the conflict key and never updated).
    private static func columns(_ metadata: ImageMetadata, sha256: String, file: String) -> [(String, SQLValue)] {
        [
            ("sha256", .text(sha256)), ("file", .text(file)), ("make", .text(metadata.make)),
            ("model", .text(metadata.model)), ("make_key", .text(metadata.make.map(MetadataQuery.caseKey))),
            ("model_key", .text(metadata.model.map(MetadataQuery.caseKey))), ("lens_model", .text(metadata.lensModel)),
            ("taken_at", .text(metadata.takenAt)), ("taken_at_offset", .text(metadata.takenAtOffset)),
            ("exposure_time", .real(metadata.exposureTime)), ("f_number", .real(metadata.fNumber)),
            ("iso", .int(metadata.iso)), ("focal_length", .real(metadata.focalLength)),
            ("focal_length_35mm", .int(metadata.focalLength35mm)), ("orientation", .int(metadata.orientation)),
            ("gps_latitude", .real(metadata.gpsLatitude)), ("gps_longitude", .real(metadata.gpsLongitude)),
            ("gps_altitude", .real(metadata.gpsAltitude)), ("width", .int(metadata.width)),
            ("height", .int(metadata.height)), ("format", .text(metadata.format)), ("bytes", .int(metadata.bytes)),
            ("exif_error", .text(metadata.exifError)),
        ]
    }

    static func storedImage(_ row: PostgresRandomAccessRow) -> StoredImage {
        var metadata = ImageMetadata(file: row.value("file") ?? "")
        metadata.make = row.value("make")
        metadata.model = row.value("model")
        metadata.lensModel = row.value("lens_model")
        metadata.takenAt = row.value("taken_at")
        metadata.takenAtOffset = row.value("taken_at_offset")
        metadata.exposureTime = row.value("exposure_time")
        metadata.fNumber = row.value("f_number")
        metadata.iso = row.value("iso")
        metadata.focalLength = row.value("focal_length")
        metadata.focalLength35mm = row.value("focal_length_35mm")
        metadata.orientation = row.value("orientation")
        metadata.gpsLatitude = row.value("gps_latitude")
        metadata.gpsLongitude = row.value("gps_longitude")
        metadata.gpsAltitude = row.value("gps_altitude")
        metadata.width = row.value("width")
        metadata.height = row.value("height")
        metadata.format = row.value("format")
        metadata.bytes = row.value("bytes")
        metadata.sha256 = row.value("sha256")
        metadata.exifError = row.value("exif_error")
        return StoredImage(
            id: row.value("sha256") ?? "", metadata: metadata, sourceName: row.value("source_name"),
            addedAt: row.value("added_at"))
    }

    private static func kind(_ value: ExifValue) -> String {
        switch value {
        case .integer: return "i"
        case .real: return "r"
        case .text: return "t"
        }
    }

    private static func text(_ value: ExifValue) -> String {
        switch value {
        case .integer(let number): return String(number)
        // Swift prints the shortest text that reads back as the same double.
        case .real(let number): return "\(number)"
        case .text(let text): return text
        }
    }
}
