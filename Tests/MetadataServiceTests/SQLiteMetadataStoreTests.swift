// The metadata stores (SQLite, and PostgreSQL when its test server is given): migrations from an empty database,
// idempotent upserts, filters, bbox, order, paging.
import Foundation
import Locking
import MetadataService
import PostgresBackend
import Testing

/// The backends of `MetadataStore` every test runs against.
enum MetadataBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    /// PostgreSQL only when its server is given ($PICPIPE_TEST_DATABASE_URL), or CI demands it.
    static var available: [MetadataBackend] { ScratchDatabase.enabled ? [.sqlite, .postgres] : [.sqlite] }

    var testDescription: String { rawValue }

    /// Runs `body` with a fresh store and a way to open it again (another process's view).
    func withStore(_ body: (any MetadataStore, () throws -> any MetadataStore) throws -> Void) throws {
        try withEarlierVersion(migrations: nil) { _, open in try body(try open(), open) }
    }

    /// Runs `body` with a store folder and a way to open its metadata store, whose database holds only the first
    /// `migrations` migrations (all: nil) until it is opened, with a way to add rows in the columns those had.
    /// - Parameter body: gets the store's folder and the store's opener; `insert(sha256, file, taken_at)` adds a
    ///   row to the database of the earlier version, before it is opened.
    func withEarlierVersion(
        migrations: Int?, rows: [(sha256: String, file: String, takenAt: String?)] = [],
        _ body: (URL, @escaping () throws -> any MetadataStore) throws -> Void
    ) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("metastore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        switch self {
        case .sqlite:
            let url = folder.appendingPathComponent("db/metadata.sqlite")
            if let migrations {
                try EarlierMetadataDatabase.make(at: url, root: folder, migrations: migrations, rows: rows)
            }
            try body(folder) { try SQLiteMetadataStore(url: url) }
        case .postgres:
            try ScratchDatabase.with { url in
                let pool = { try PostgresConnectionPool(url: DatabaseURL(parsing: url)) }
                if let migrations {
                    let earlier = try pool()
                    let all = MetadataTables.migrator(root: folder)
                    try SchemaMigrator(schema: all.schema, migrations: Array(all.migrations.prefix(migrations)))
                        .migrate(earlier)
                    for row in rows {
                        _ = try earlier.execute(
                            "INSERT INTO picpipe_metadata.image (sha256, file, taken_at, make, width) "
                                + "VALUES ($1, $2, $3, 'Canon', 10)",
                            [.text(row.sha256), .text(row.file), .text(row.takenAt)])
                    }
                }
                try body(folder) { try PostgresMetadataStore(pool: pool(), root: folder) }
            }
        }
    }

    /// How many migrations a new database gets.
    var migrationCount: Int { 4 }

    /// The migrations of the version before session 32 (no `added_at`).
    var migrationsBeforeAddedAt: Int { self == .sqlite ? 3 : 2 }

    /// The migrations of the version before session 34: PostgreSQL's btree index on the whole case-folded make and
    /// model keys (SQLite indexes a key of any length and has no such migration: all of them).
    var migrationsBeforeBoundedKeys: Int { self == .sqlite ? 4 : 3 }
}

/// Named after the first backend; every test runs against each.
struct SQLiteMetadataStoreTests {

    static func image(
        _ sha: Character, make: String? = "Canon", model: String? = "EOS", takenAt: String? = nil,
        latitude: Double? = nil, longitude: Double? = nil
    ) -> ImageMetadata {
        var metadata = ImageMetadata(file: "upload-\(sha).jpg")
        metadata.sha256 = String(repeating: sha, count: 64)
        metadata.make = make
        metadata.model = model
        metadata.takenAt = takenAt
        metadata.gpsLatitude = latitude
        metadata.gpsLongitude = longitude
        metadata.width = 10
        metadata.height = 20
        metadata.format = "jpeg"
        metadata.bytes = 1234
        return metadata
    }

    @Test(arguments: MetadataBackend.available)
    func thePictureKeepsTheFirstNameItArrivedUnder(backend: MetadataBackend) throws {
        try backend.withStore { store, _ in
            try store.upsert(Self.image("a"), originalPath: "originals/aa/a.jpg", sourceName: "2024/trip/harbour.jpg")
            try store.upsert(Self.image("a"), originalPath: "originals/aa/a.jpg", sourceName: "copy of harbour.jpg")
            let stored = try #require(try store.image(sha256: Self.image("a").sha256 ?? ""))
            #expect(stored.sourceName == "2024/trip/harbour.jpg")
            #expect(stored.displayName == "harbour.jpg")
            try store.upsert(Self.image("b"), originalPath: "originals/bb/b.png")
            #expect(try store.image(sha256: Self.image("b").sha256 ?? "")?.displayName == "b.png")
        }
    }

    @Test(arguments: MetadataBackend.available)
    func migratesAnEmptyDatabaseAndReopens(backend: MetadataBackend) throws {
        try backend.withStore { store, open in
            #expect(try store.count() == 0)
            if let store = store as? SQLiteMetadataStore { #expect(try store.appliedMigrations().count == 4) }
            if let store = store as? PostgresMetadataStore { #expect(try store.appliedMigrations().count == 4) }
            #expect(throws: MetadataError.missingSHA256(path: "x.jpg")) {
                try store.upsert(ImageMetadata(file: "x.jpg"), originalPath: "x.jpg")
            }
            try store.upsert(Self.image("a"), originalPath: "/s/originals/aa/a.jpg")
            let reopened = try open()  // migrations already applied: nothing to do
            #expect(try reopened.count() == 1)
        }
    }

    /// A Make or Model of any length is stored whole and found, in PostgreSQL as in SQLite (exiftool prints it
    /// whole): until session 34 PostgreSQL indexed the whole case-folded keys, a btree entry holds at most 2,704
    /// bytes, and a Make of 2,800 random letters (any upload can carry one) failed "index row size 2816 exceeds
    /// btree version 4 maximum 2704": the metadata step went dead and the stored picture was never listed. A
    /// database made before gets the bounded index when it is opened.
    @Test(arguments: MetadataBackend.available, [false, true])
    func aMakeOrModelOfAnyLengthIsStoredAndFound(backend: MetadataBackend, earlierDatabase: Bool) throws {
        // Random letters (a fixed seed), which PostgreSQL cannot compress under the limit as it does "AAAA...".
        var seed: UInt64 = 0x0034_2704
        func letters(_ count: Int) -> String {
            let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
            return String(
                (0..<count).map { _ in
                    seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return alphabet[Int(seed >> 33) % alphabet.count]
                })
        }
        let make = "Ünique " + letters(20_000)
        let model = letters(2_800)
        let migrations = earlierDatabase ? backend.migrationsBeforeBoundedKeys : nil
        try backend.withEarlierVersion(migrations: migrations) { _, open in
            let store = try open()
            try store.upsert(Self.image("a", make: make, model: model), originalPath: "originals/aa/a.jpg")
            try store.upsert(Self.image("b"), originalPath: "originals/bb/b.jpg")
            try store.upsert(Self.image("c", make: make, model: "EOS"), originalPath: "originals/cc/c.jpg")
            func ids(_ query: MetadataQuery) throws -> [Character] {
                try store.query(query).map { $0.id.first ?? "?" }.sorted()
            }
            #expect(try store.image(sha256: String(repeating: "a", count: 64))?.metadata.make == make)
            #expect(try store.image(sha256: String(repeating: "a", count: 64))?.metadata.model == model)
            #expect(try ids(MetadataQuery(make: make.uppercased())) == ["a", "c"])
            #expect(try ids(MetadataQuery(make: make.lowercased(), model: model.uppercased())) == ["a"])
            #expect(try ids(MetadataQuery(model: model)) == ["a"])
            #expect(try ids(MetadataQuery(make: "canon", model: "eos")) == ["b"])
            #expect(try ids(MetadataQuery(make: String(make.dropLast()))) == [])
            #expect(try store.cameras().filter { $0.make == make }.map(\.count).reduce(0, +) == 2)
        }
    }

    @Test func theSQLiteStoreIsOneFileInWALMode() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("metastore-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("db/metadata.sqlite")
        let store = try SQLiteMetadataStore(url: url)
        try store.upsert(Self.image("a"), originalPath: "/s/originals/aa/a.jpg")
        #expect(FileManager.default.fileExists(atPath: url.path))
        // WAL mode, so readers in other processes do not block the writer.
        let wal = FileManager.default.fileExists(atPath: url.path + "-wal")
        #expect(wal)
    }

    @Test(arguments: MetadataBackend.available)
    func upsertIsIdempotentAndReplacesRawTags(backend: MetadataBackend) throws {
        try backend.withStore { store, _ in
            let fixture = ExifFixture.camera(latitude: ("S", [(33, 1)]), longitude: ("E", [(151, 1)]))
            var metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff()), raw: true)
            metadata.sha256 = String(repeating: "f", count: 64)
            try store.upsert(metadata, originalPath: "/s/originals/ff/f.jpg")
            let first = try #require(try store.image(sha256: metadata.sha256 ?? ""))
            try store.upsert(metadata, originalPath: "/s/originals/ff/f.jpg")
            let second = try #require(try store.image(sha256: metadata.sha256 ?? ""))
            #expect(first == second)
            #expect(try store.count() == 1)
            #expect(second.id == metadata.sha256)
            #expect(second.metadata.file == "/s/originals/ff/f.jpg")
            var expected = metadata
            expected.file = "/s/originals/ff/f.jpg"
            #expect(second.metadata == expected)  // every field, raw tags included, round-trips
            // A new reading with fewer tags replaces the raw tags; one without raw tags keeps them.
            var fewer = metadata
            fewer.exif = ExifTags(tags: [ExifTag(group: .ifd0, id: 0x010F, name: "Make", value: .text("X"))])
            try store.upsert(fewer, originalPath: "/s/originals/ff/f.jpg")
            #expect(try store.image(sha256: metadata.sha256 ?? "")?.metadata.exif?.tags.count == 1)
            fewer.exif = nil
            try store.upsert(fewer, originalPath: "/s/originals/ff/f.jpg")
            #expect(try store.image(sha256: metadata.sha256 ?? "")?.metadata.exif?.tags.count == 1)
            try store.delete(sha256: metadata.sha256 ?? "")
            #expect(try store.count() == 0)
            #expect(try store.image(sha256: metadata.sha256 ?? "") == nil)
        }
    }

    @Test(arguments: MetadataBackend.available)
    func queriesFilterAndOrderNewestFirst(backend: MetadataBackend) throws {
        try backend.withStore { store, _ in
            let images = [
                Self.image("a", takenAt: "2020-01-01T10:00:00", latitude: 48.85, longitude: 2.35),  // Paris
                Self.image(
                    "b", make: "NIKON", model: "D5000", takenAt: "2022-06-01T12:00:00", latitude: -33.87,
                    longitude: 151.21),  // Sydney
                Self.image("c", takenAt: "2021-03-03T03:03:03", latitude: 40.71, longitude: -74.0),  // New York
                Self.image("d", make: nil, model: nil, takenAt: nil),
                Self.image("e", takenAt: "2021-03-03T03:03:03"),
            ]
            for image in images { try store.upsert(image, originalPath: image.file) }
            func ids(_ query: MetadataQuery) throws -> [Character] {
                try store.query(query).map { $0.id.first ?? "?" }
            }
            #expect(try ids(MetadataQuery()) == ["b", "c", "e", "a", "d"])
            #expect(try ids(MetadataQuery(make: "canon")) == ["c", "e", "a"])
            #expect(try ids(MetadataQuery(make: "Nikon", model: "d5000")) == ["b"])
            #expect(try ids(MetadataQuery(takenAfter: "2021")) == ["b", "c", "e"])
            #expect(try ids(MetadataQuery(takenBefore: "2021-03-03T03:03:03")) == ["a"])
            #expect(try ids(MetadataQuery(takenAfter: "2021-01-01", takenBefore: "2022")) == ["c", "e"])
            #expect(try ids(MetadataQuery(bbox: GeoBox(south: 35, west: -80, north: 50, east: 10))) == ["c", "a"])
            #expect(try ids(MetadataQuery(bbox: GeoBox(south: -40, west: 150, north: -30, east: 152))) == ["b"])
            // West > east crosses the antimeridian: Sydney (151 E) is inside 140 E ... 170 W.
            #expect(try ids(MetadataQuery(bbox: GeoBox(south: -60, west: 140, north: 0, east: -170))) == ["b"])
            #expect(try ids(MetadataQuery(near: GeoCircle(latitude: 48.86, longitude: 2.34, kilometres: 5))) == ["a"])
            #expect(try ids(MetadataQuery(near: GeoCircle(latitude: 51.5, longitude: -0.12, kilometres: 300))) == [])
            #expect(try ids(MetadataQuery(near: GeoCircle(latitude: 51.5, longitude: -0.12, kilometres: 400))) == ["a"])
            #expect(try ids(MetadataQuery(limit: 2)) == ["b", "c"])
            // The limit holds with a circle too (its distance is checked while the rows are read): 0 is none.
            let paris = GeoCircle(latitude: 48.86, longitude: 2.34, kilometres: 5)
            let world = GeoCircle(latitude: 0, longitude: 0, kilometres: 20_100)
            #expect(try ids(MetadataQuery(limit: 0)) == [])
            #expect(try ids(MetadataQuery(near: paris, limit: 0)) == [])
            #expect(try ids(MetadataQuery(near: world, limit: 0)) == [])
            #expect(try ids(MetadataQuery(near: world, limit: 2)) == ["b", "c"])
            #expect(throws: MetadataError.self) { try ids(MetadataQuery(near: paris, limit: -1)) }
            // Paging with the cursor of the last item gives the rest, in order, without repeats.
            var seen: [Character] = []
            var cursor: String?
            repeat {
                let page = try store.query(MetadataQuery(limit: 2, afterCursor: cursor))
                seen += page.map { $0.id.first ?? "?" }
                cursor = page.count == 2 ? page.last?.cursor : nil
            } while cursor != nil
            #expect(seen == ["b", "c", "e", "a", "d"])
        }
    }

    /// Longitude 180 and -180 are one meridian, in boxes as in circles (until session 29 a box ending at 180 missed a
    /// picture at -180 and the reverse); a position off the globe, as a row stored before session 29 may hold it, is
    /// in no box and no circle (a box across the antimeridian held 200 E).
    @Test(arguments: MetadataBackend.available)
    func boxesOnTheAntimeridianHoldBothOfItsNames(backend: MetadataBackend) throws {
        try backend.withStore { store, _ in
            let images = [
                Self.image("1", latitude: 10, longitude: 180), Self.image("2", latitude: 10, longitude: -180),
                Self.image("3", latitude: 10, longitude: 200), Self.image("4", latitude: 95, longitude: 10),
                Self.image("5", latitude: 10, longitude: 175),
            ]
            for image in images { try store.upsert(image, originalPath: image.file) }
            func ids(_ query: MetadataQuery) throws -> [Character] {
                try store.query(query).map { $0.id.first ?? "?" }
            }
            func box(_ south: Double, _ west: Double, _ north: Double, _ east: Double) throws -> [Character] {
                try ids(MetadataQuery(bbox: GeoBox(south: south, west: west, north: north, east: east)))
            }
            #expect(try box(10, 170, 20, 180) == ["1", "2", "5"])
            #expect(try box(5, 170, 15, 180) == ["1", "2", "5"])
            #expect(try box(10, -180, 20, -170) == ["1", "2"])
            #expect(try box(10, 180, 10, 180) == ["1", "2"])
            #expect(try box(10, -180, 10, -180) == ["1", "2"])
            #expect(try box(10, 179, 10, -179) == ["1", "2"])
            #expect(try box(10, 170, 20, -180) == ["1", "2", "5"])
            #expect(try box(-90, -180, 90, 180) == ["1", "2", "5"])
            #expect(try ids(MetadataQuery(near: GeoCircle(latitude: 10, longitude: 180, kilometres: 1))) == ["1", "2"])
            #expect(try ids(MetadataQuery(near: GeoCircle(latitude: 10, longitude: -160, kilometres: 10))) == [])
            let world = GeoCircle(latitude: 0, longitude: 0, kilometres: 20_000)
            #expect(try ids(MetadataQuery(near: world)) == ["1", "2", "5"])
        }
    }

    @Test(arguments: MetadataBackend.available)
    func makeAndModelMatchWithoutCaseInEveryScript(backend: MetadataBackend) throws {
        try backend.withStore { store, _ in
            try store.upsert(Self.image("u", make: "Ünïcødé Kamera", model: "Straße ΣΟΦΊΑ"), originalPath: "u.jpg")
            try store.upsert(Self.image("a", make: "Canon", model: "EOS"), originalPath: "a.jpg")
            func ids(_ query: MetadataQuery) throws -> [Character] {
                try store.query(query).map { $0.id.first ?? "?" }
            }
            #expect(try ids(MetadataQuery(make: "ünïcødé kamera")) == ["u"])
            #expect(try ids(MetadataQuery(make: "ÜNÏCØDÉ KAMERA")) == ["u"])
            #expect(try ids(MetadataQuery(make: "U\u{308}nïcødé kamera")) == ["u"])  // decomposed Ü
            #expect(try ids(MetadataQuery(model: "STRASSE σοφία")) == ["u"])
            #expect(try ids(MetadataQuery(make: "ünïcødé kamera", model: "straße σοφία")) == ["u"])
            #expect(try ids(MetadataQuery(make: "unicode kamera")) == [])  // accents are not case
            #expect(try ids(MetadataQuery(make: "cAnOn")) == ["a"])
            // The text itself is kept as the camera wrote it.
            #expect(try store.query(MetadataQuery(make: "ünïcødé kamera")).first?.metadata.make == "Ünïcødé Kamera")
        }
    }

    /// An image with the time it was added (`upsert`'s `addedAt`), stored under a file of its own.
    static func store(
        _ store: any MetadataStore, _ sha: Character, takenAt: String?, addedAt: String?
    ) throws {
        let image = Self.image(sha, takenAt: takenAt)
        try store.upsert(image, originalPath: image.file, sourceName: nil, addedAt: addedAt)
    }

    /// A picture without an EXIF date (a screenshot, a scan) is listed by when it was added, among the dated ones,
    /// as Immich places it by its file's date; only one with neither time is listed last. Until session 32 every
    /// undated picture came after every dated one, so a screenshot added to a large library was never seen.
    @Test(arguments: MetadataBackend.available)
    func aPictureWithoutADateIsListedByWhenItWasAdded(backend: MetadataBackend) throws {
        try backend.withStore { store, _ in
            try Self.store(store, "a", takenAt: "2024-05-01T10:00:00", addedAt: "2026-12-07T09:00:00")
            try Self.store(store, "b", takenAt: nil, addedAt: "2026-12-07T10:00:00")  // a screenshot, just added
            try Self.store(store, "c", takenAt: nil, addedAt: "2023-01-01T00:00:00")  // a scan, added long ago
            try Self.store(store, "d", takenAt: "2025-01-01T00:00:00", addedAt: nil)
            try Self.store(store, "e", takenAt: "2023-01-01T00:00:00", addedAt: "2026-12-01T00:00:00")
            try Self.store(store, "f", takenAt: nil, addedAt: nil)
            func ids(_ query: MetadataQuery) throws -> [Character] {
                try store.query(query).map { $0.id.first ?? "?" }
            }
            // c and e share a time (one added, one taken): the id decides.
            #expect(try ids(MetadataQuery()) == ["b", "d", "a", "c", "e", "f"])
            let b = try #require(try store.image(sha256: String(repeating: "b", count: 64)))
            #expect(b.metadata.takenAt == nil)
            #expect(b.addedAt == "2026-12-07T10:00:00")
            #expect(b.listedAt == "2026-12-07T10:00:00")
            #expect(try store.query(MetadataQuery(limit: 1)).first == b)
            // The time filters compare taken_at only: an undated picture matches neither bound.
            #expect(try ids(MetadataQuery(takenAfter: "2020")) == ["d", "a", "e"])
            #expect(try ids(MetadataQuery(takenBefore: "2027")) == ["d", "a", "e"])
            // Every page size walks the same order, without repeats.
            for size in 1...5 {
                var seen: [Character] = []
                var cursor: String?
                repeat {
                    let page = try store.query(MetadataQuery(limit: size, afterCursor: cursor))
                    seen += page.map { $0.id.first ?? "?" }
                    cursor = page.count == size ? page.last?.cursor : nil
                } while cursor != nil && seen.count <= 6  // a cursor that does not move on must not loop forever
                #expect(seen == ["b", "d", "a", "c", "e", "f"], "pages of \(size)")
            }
            // Pictures come and go between pages: the page after d's cursor, once d is deleted, goes on after d's
            // place; a picture added with a time before that place is on it, one added after is not.
            let first = try store.query(MetadataQuery(limit: 2))
            #expect(first.map { $0.id.first ?? "?" } == ["b", "d"])
            try store.delete(sha256: String(repeating: "d", count: 64))
            try Self.store(store, "1", takenAt: nil, addedAt: "2024-06-01T00:00:00")
            try Self.store(store, "9", takenAt: nil, addedAt: "2026-12-08T00:00:00")
            #expect(try ids(MetadataQuery(afterCursor: first.last?.cursor)) == ["1", "a", "c", "e", "f"])
            // A cursor of the version before (an undated picture's was "|" and its id) goes on among those with
            // neither time.
            #expect(try ids(MetadataQuery(afterCursor: "|" + String(repeating: "0", count: 64))) == ["f"])
        }
    }

    /// The time a picture was added is the first one stored: processing it again (a replay, the same bytes again,
    /// a second id) stores a later time, which must not move it to the top of the listing.
    @Test(arguments: MetadataBackend.available)
    func theFirstTimeAPictureWasAddedIsKept(backend: MetadataBackend) throws {
        try backend.withStore { store, open in
            let sha = String(repeating: "a", count: 64)
            try Self.store(store, "a", takenAt: nil, addedAt: "2026-12-01T08:00:00")
            try store.upsert(
                Self.image("a"), originalPath: "originals/aa/a.png", sourceName: "again.png",
                addedAt: "2026-12-07T10:00:00")
            #expect(try open().image(sha256: sha)?.addedAt == "2026-12-01T08:00:00")
            #expect(try store.image(sha256: sha)?.metadata.file == "originals/aa/a.png")
            try store.upsert(Self.image("a"), originalPath: "originals/aa/a.png")
            #expect(try store.image(sha256: sha)?.addedAt == "2026-12-01T08:00:00")
            // A row without one (stored before, its original unreadable then) takes the first one given.
            try Self.store(store, "b", takenAt: nil, addedAt: nil)
            try Self.store(store, "b", takenAt: nil, addedAt: "2026-12-07T11:00:00")
            #expect(try store.image(sha256: String(repeating: "b", count: 64))?.addedAt == "2026-12-07T11:00:00")
            // A picture deleted and stored again is added again.
            try store.delete(sha256: sha)
            try Self.store(store, "a", takenAt: nil, addedAt: "2026-12-07T12:00:00")
            #expect(try store.image(sha256: sha)?.addedAt == "2026-12-07T12:00:00")
        }
    }

    /// A database of the version before session 32 gets `added_at` for its rows from their originals' modification
    /// times (the time they were written into the store), in the server's local time; a row whose original is gone
    /// keeps none and is listed last.
    @Test(arguments: MetadataBackend.available)
    func anEarlierDatabaseDatesItsPicturesByTheirOriginals(backend: MetadataBackend) throws {
        let rows: [(sha256: String, file: String, takenAt: String?)] = [
            (String(repeating: "a", count: 64), "originals/aa/a.png", nil),
            (String(repeating: "b", count: 64), "originals/bb/b.jpg", "2012-09-29T16:11:25"),
            (String(repeating: "c", count: 64), "originals/cc/c.png", nil),  // its original is gone
            (String(repeating: "d", count: 64), "originals/dd/d.png", nil),
        ]
        try backend.withEarlierVersion(migrations: backend.migrationsBeforeAddedAt, rows: rows) { root, open in
            let written: [(String, TimeInterval)] = [
                ("originals/aa/a.png", 1_796_000_000), ("originals/bb/b.jpg", 1_700_000_000),
                ("originals/dd/d.png", 1_300_000_000),
            ]
            for (file, seconds) in written {
                let url = root.appendingPathComponent(file)
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data([1]).write(to: url)
                try FileManager.default.setAttributes(
                    [.modificationDate: Date(timeIntervalSince1970: seconds)], ofItemAtPath: url.path)
            }
            let local = DateFormatter()
            local.locale = Locale(identifier: "en_US_POSIX")
            local.timeZone = TimeZone.current
            local.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
            let store = try open()
            for (file, seconds) in written {
                let row = try #require(try store.image(sha256: rows.first { $0.file == file }?.sha256 ?? ""))
                #expect(row.addedAt == local.string(from: Date(timeIntervalSince1970: seconds)), "\(file)")
            }
            #expect(try store.image(sha256: rows[2].sha256)?.addedAt == nil)
            // a (added 2026-11) before b (taken 2012), before d (added 2011), c (no time) last.
            #expect(try store.query(MetadataQuery()).map { $0.id.first ?? "?" } == ["a", "b", "d", "c"])
            if let store = store as? SQLiteMetadataStore {
                #expect(try store.appliedMigrations().count == backend.migrationCount)
            }
            if let store = store as? PostgresMetadataStore {
                #expect(try store.appliedMigrations().count == backend.migrationCount)
            }
        }
    }

    @Test(arguments: MetadataBackend.available)
    func manyThreadsShareOneStore(backend: MetadataBackend) throws {
        try backend.withStore { store, _ in
            try Self.upsertFromManyThreads(store)
            #expect(try store.count() == 64)
        }
    }

    static func upsertFromManyThreads(_ store: any MetadataStore) throws {
        let hexDigits = Array("0123456789abcdef")
        let group = DispatchGroup()
        let failures = Failures()
        for index in 0..<64 {
            DispatchQueue.global().async(group: group) {
                do {
                    var metadata = Self.image(
                        "0", takenAt: "2020-01-01T00:00:\(index % 60 < 10 ? "0" : "")\(index % 60)")
                    metadata.sha256 =
                        String(repeating: hexDigits[index % 16], count: 62) + String(format: "%02x", index)
                    try store.upsert(metadata, originalPath: "x")
                    try store.upsert(metadata, originalPath: "x")
                    _ = try store.query(MetadataQuery(limit: 5))
                } catch { failures.add(error) }
            }
        }
        group.wait()
        if let error = failures.first { throw error }
    }
}

/// Errors met on other threads.
final class Failures: Sendable {
    private let errors = Locked<[any Error]>([])
    func add(_ error: any Error) { errors.withLock { $0.append(error) } }
    var first: (any Error)? { errors.withLock { $0.first } }
}
