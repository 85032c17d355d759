// The metadata store in one SQLite file (STORE/db/metadata.sqlite), through a GRDB pool in WAL mode.
import Foundation
import GRDB

/// `MetadataStore` in SQLite. Several processes may share the file (WAL, busy timeout); within a process a
/// `DatabasePool` serialises writes and runs reads concurrently, so one instance serves many threads.
public final class SQLiteMetadataStore: MetadataStore {
    private let pool: DatabasePool
    /// The store's folder: the database is `STORE/db/metadata.sqlite`, and rows' `file` paths are relative to it.
    private let root: URL

    /// Opens (creating the folder and file if needed) and migrates the database at `url`.
    public init(url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.foreignKeysEnabled = true
        root = url.deletingLastPathComponent().deletingLastPathComponent()
        pool = try MetadataSchema.migrator(root: root).openPoolSerialised(path: url, configuration: configuration)
    }

    /// The names of the migrations applied so far (for tests and `picpipe config`).
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try MetadataSchema.migrator(root: root).appliedMigrations(db) }
    }

    public func upsert(
        _ metadata: ImageMetadata, originalPath: String, sourceName: String?, addedAt: String?,
        committingOnlyIf check: () throws -> Void
    ) throws {
        guard let sha256 = metadata.sha256 else {
            throw MetadataError.missingSHA256(path: metadata.file)
        }
        try pool.write { db in
            let row =
                Self.columns(metadata, sha256: sha256, file: originalPath) + [
                    ("source_name", sourceName), ("added_at", addedAt),
                ]
            let names = row.map(\.0)
            let values = StatementArguments(row.map(\.1))
            // The first name a picture arrived under stays its name, and the first time it was added its time.
            let updates = names.dropFirst().map {
                ["source_name", "added_at"].contains($0)
                    ? "\($0) = COALESCE(image.\($0), excluded.\($0))" : "\($0) = excluded.\($0)"
            }.joined(separator: ", ")
            try db.execute(
                sql: """
                    INSERT INTO image (\(names.joined(separator: ", ")))
                    VALUES (\(names.map { _ in "?" }.joined(separator: ", ")))
                    ON CONFLICT(sha256) DO UPDATE SET \(updates)
                    """, arguments: values)
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM image WHERE sha256 = ?", arguments: [sha256])
            else { return try check() }
            try db.execute(sql: "DELETE FROM image_geo WHERE id = ?", arguments: [id])
            if let latitude = metadata.gpsLatitude, let longitude = metadata.gpsLongitude {
                try db.execute(
                    sql: "INSERT INTO image_geo (id, min_lat, max_lat, min_lon, max_lon) VALUES (?, ?, ?, ?, ?)",
                    arguments: [id, latitude, latitude, longitude, longitude])
            }
            if let exif = metadata.exif {
                try db.execute(sql: "DELETE FROM exif_tag WHERE image_id = ?", arguments: [id])
                let insert = try db.cachedStatement(
                    sql: """
                        INSERT OR REPLACE INTO exif_tag (image_id, ifd, tag_id, position, name, value)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """)
                for (position, tag) in exif.tags.enumerated() {
                    try insert.execute(arguments: [
                        id, tag.group.rawValue, Int(tag.id), position, tag.name, tag.value.databaseValue,
                    ])
                }
            }
            try check()  // the last thing before the commit: a refusal rolls the row back
        }
    }

    public func image(sha256: String) throws -> StoredImage? {
        try pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM image WHERE sha256 = ?", arguments: [sha256])
            else { return nil }
            var image = Self.storedImage(row)
            let tags = try Row.fetchAll(
                db, sql: "SELECT ifd, tag_id, name, value FROM exif_tag WHERE image_id = ? ORDER BY position",
                arguments: [row["id"] as Int64])
            if !tags.isEmpty {
                image.metadata.exif = ExifTags(
                    tags: tags.compactMap { tag in
                        guard let group = ExifGroup(rawValue: tag["ifd"]) else { return nil }
                        return ExifTag(
                            group: group, id: UInt16(truncatingIfNeeded: tag["tag_id"] as Int), name: tag["name"],
                            value: ExifValue(tag["value"] as DatabaseValue))
                    })
            }
            return image
        }
    }

    public func query(_ query: MetadataQuery) throws -> [StoredImage] {
        let plan = try MetadataQueryPlan(query)
        return try pool.read { db in
            let rows = try Row.fetchCursor(db, sql: plan.sql, arguments: plan.arguments)
            var images: [StoredImage] = []
            while query.limit.map({ images.count < $0 }) ?? true, let row = try rows.next() {
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
    }

    public func delete(sha256: String) throws {
        try pool.write { db in
            if let id = try Int64.fetchOne(db, sql: "SELECT id FROM image WHERE sha256 = ?", arguments: [sha256]) {
                try db.execute(sql: "DELETE FROM image_geo WHERE id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM image WHERE id = ?", arguments: [id])
            }
        }
    }

    public func count() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM image") ?? 0 }
    }

    public func cameras(counting listed: (_ sha256: String, _ file: String) -> Int) throws -> [CameraCount] {
        // One pass over the rows (whether and how often an image counts is the caller's rule, so no GROUP BY); the
        // spellings of one camera are then merged as the filters match them.
        try pool.read { db in
            var spellings: [CameraCount] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT sha256, file, make, model FROM image")
            while let row = try rows.next() {
                spellings.append(
                    CameraCount(make: row["make"], model: row["model"], count: listed(row["sha256"], row["file"])))
            }
            return CameraCount.grouped(spellings)
        }
    }

    /// The typed columns of a row, `sha256` first (it is the conflict key and never updated).
    private static func columns(_ metadata: ImageMetadata, sha256: String, file: String)
        -> [(String, (any DatabaseValueConvertible)?)]
    {
        [
            ("sha256", sha256), ("file", file), ("make", metadata.make), ("model", metadata.model),
            ("make_key", metadata.make.map(MetadataQuery.caseKey)),
            ("model_key", metadata.model.map(MetadataQuery.caseKey)),
            ("lens_model", metadata.lensModel), ("taken_at", metadata.takenAt),
            ("taken_at_offset", metadata.takenAtOffset), ("exposure_time", metadata.exposureTime),
            ("f_number", metadata.fNumber), ("iso", metadata.iso), ("focal_length", metadata.focalLength),
            ("focal_length_35mm", metadata.focalLength35mm), ("orientation", metadata.orientation),
            ("gps_latitude", metadata.gpsLatitude), ("gps_longitude", metadata.gpsLongitude),
            ("gps_altitude", metadata.gpsAltitude), ("width", metadata.width), ("height", metadata.height),
            ("format", metadata.format), ("bytes", metadata.bytes), ("exif_error", metadata.exifError),
        ]
    }

    private static func storedImage(_ row: Row) -> StoredImage {
        var metadata = ImageMetadata(file: row["file"])
        metadata.make = row["make"]
        metadata.model = row["model"]
        metadata.lensModel = row["lens_model"]
        metadata.takenAt = row["taken_at"]
        metadata.takenAtOffset = row["taken_at_offset"]
        metadata.exposureTime = row["exposure_time"]
        metadata.fNumber = row["f_number"]
        metadata.iso = row["iso"]
        metadata.focalLength = row["focal_length"]
        metadata.focalLength35mm = row["focal_length_35mm"]
        metadata.orientation = row["orientation"]
        metadata.gpsLatitude = row["gps_latitude"]
        metadata.gpsLongitude = row["gps_longitude"]
        metadata.gpsAltitude = row["gps_altitude"]
        metadata.width = row["width"]
        metadata.height = row["height"]
        metadata.format = row["format"]
        metadata.bytes = row["bytes"]
        metadata.sha256 = row["sha256"]
        metadata.exifError = row["exif_error"]
        return StoredImage(
            id: row["sha256"], metadata: metadata, sourceName: row["source_name"], addedAt: row["added_at"])
    }
}

extension ExifValue {
    /// The value as SQLite stores it: INTEGER, REAL or TEXT.
    var databaseValue: DatabaseValue {
        switch self {
        case .integer(let value): return value.databaseValue
        case .real(let value): return value.databaseValue
        case .text(let value): return value.databaseValue
        }
    }

    init(_ value: DatabaseValue) {
        switch value.storage {
        case .int64(let integer): self = .integer(integer)
        case .double(let real): self = .real(real)
        case .string(let text): self = .text(text)
        case .blob(let data): self = .text("(Binary data \(data.count) bytes, use -b option to extract)")
        case .null: self = .text("")
        }
    }
}
