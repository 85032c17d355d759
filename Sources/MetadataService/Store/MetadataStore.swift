// The seam between the metadata service's callers and its database: a protocol, queries and results.
import Foundation

/// Where image metadata is kept and queried. The SQLite implementation is `SQLiteMetadataStore`;
/// a shared-database one (PostgreSQL) can join later behind the same protocol.
///
/// Implementations are safe to call from many threads at once.
public protocol MetadataStore: Sendable {
    /// Inserts or replaces the row keyed by `metadata.sha256`; raw tags are replaced when `metadata.exif` is set.
    /// Storing the same metadata twice changes nothing.
    /// - Parameters:
    ///   - originalPath: the stored original's path, reported as `file` by queries.
    ///   - sourceName: the name the picture arrived under (a path in `uploads/`, a `batch` input), its display
    ///     name; the first one given is kept when the same bytes arrive again under another name.
    ///   - addedAt: when the picture entered the store (`AddedTime`); the first one given is kept, so processing
    ///     the picture again (a replay, the same bytes uploaded again or under a second id) does not move it.
    ///   - check: called at the end of the row's transaction, just before the commit; a throw rolls the row back
    ///     and is rethrown. A function writes its row only while its invocation is still current
    ///     (`FunctionContext.ensureTimeLeft`), however long the write waited for its lock.
    func upsert(
        _ metadata: ImageMetadata, originalPath: String, sourceName: String?, addedAt: String?,
        committingOnlyIf check: () throws -> Void
    ) throws
    /// One image by id (its SHA-256), raw tags included, or `nil`.
    func image(sha256: String) throws -> StoredImage?
    /// Images matching every given filter, newest first: by taken_at, else added_at (`StoredImage.listedAt`),
    /// descending, then id; an image with neither last.
    func query(_ query: MetadataQuery) throws -> [StoredImage]
    /// Removes an image and its raw tags; removing a missing image does nothing.
    func delete(sha256: String) throws
    /// How many images the store holds.
    func count() throws -> Int
    /// Each distinct camera (make and model, `nil` when unknown) and how many images it took, sorted by make then
    /// model. Cameras are told apart as the make and model filters tell them apart (`CameraCount.grouped`), so an
    /// entry's count is what its filter lists. A default walks `query`; a database reads its rows in one pass.
    /// - Parameter listed: how many times an image counts, from its id (its SHA-256) and its stored original's path:
    ///   the caller's listing rule (the HTTP listing shows an image once per id naming it, and not at all once its
    ///   original is gone); called once per image, outside any write. An image counted 0 times is in no entry.
    func cameras(counting listed: (_ sha256: String, _ file: String) -> Int) throws -> [CameraCount]
}

extension MetadataStore {
    /// Stores metadata whatever the time (callers outside an invocation: `batch`, tests).
    public func upsert(_ metadata: ImageMetadata, originalPath: String, sourceName: String?, addedAt: String?) throws {
        try upsert(metadata, originalPath: originalPath, sourceName: sourceName, addedAt: addedAt, committingOnlyIf: {})
    }

    /// Each distinct camera and how many images it took, each image counted once.
    public func cameras() throws -> [CameraCount] { try cameras { _, _ in 1 } }

    /// Walks every image through `query`, a page at a time (the default for stores that read no rows of their own).
    public func cameras(counting listed: (_ sha256: String, _ file: String) -> Int) throws -> [CameraCount] {
        var spellings: [CameraCount] = []
        var page = MetadataQuery(limit: 1000)
        while true {
            let rows = try query(page)
            for row in rows {
                spellings.append(
                    CameraCount(
                        make: row.metadata.make, model: row.metadata.model, count: listed(row.id, row.metadata.file)))
            }
            guard rows.count == 1000, let last = rows.last else { break }
            page.afterCursor = last.cursor
        }
        return CameraCount.grouped(spellings)
    }

    /// Stores metadata with no source name.
    public func upsert(_ metadata: ImageMetadata, originalPath: String) throws {
        try upsert(metadata, originalPath: originalPath, sourceName: nil, addedAt: nil)
    }

    /// Stores metadata with no time of adding.
    public func upsert(_ metadata: ImageMetadata, originalPath: String, sourceName: String?) throws {
        try upsert(metadata, originalPath: originalPath, sourceName: sourceName, addedAt: nil)
    }
}

/// One stored image: its id and its metadata (`file` is the stored original's path).
public struct StoredImage: Codable, Sendable, Equatable {
    /// The image's SHA-256, lowercase hex.
    public var id: String
    /// The normalised metadata.
    public var metadata: ImageMetadata
    /// The name it arrived under, when known.
    public var sourceName: String?
    /// When it entered the store, as the server's local wall time (`AddedTime`); nil for a row stored before
    /// session 32 whose original could not be read when the column came.
    public var addedAt: String?

    /// An image with its id.
    public init(id: String, metadata: ImageMetadata, sourceName: String? = nil, addedAt: String? = nil) {
        self.id = id
        self.metadata = metadata
        self.sourceName = sourceName
        self.addedAt = addedAt
    }

    /// The image as one JSON line (`ImageMetadata.jsonLine`) under `id`, its `added_at` included.
    public func jsonLine(id shownID: String? = nil) -> String {
        metadata.jsonLine(id: shownID ?? id, addedAt: addedAt)
    }

    /// The time the listing orders the image by: when it was taken, else when it was added (as Immich places a
    /// picture without an EXIF date by its file's date), else nil (listed last).
    public var listedAt: String? { metadata.takenAt ?? addedAt }

    /// The name to show: the last component of the name it arrived under (an import's URL whole), else of the
    /// stored original.
    public var displayName: String {
        // An import's source name is its URL, kept whole (a path's folders are dropped).
        if let sourceName, sourceName.contains("://") { return sourceName }
        let name = sourceName.flatMap { $0.split(separator: "/").last.map(String.init) } ?? ""
        return name.isEmpty ? (metadata.file as NSString).lastPathComponent : name
    }
}

/// A bounding box in decimal degrees; `west > east` crosses the antimeridian. Longitude 180 and -180 are one
/// meridian: an edge on either holds the positions written with the other (`searched`).
public struct GeoBox: Sendable, Equatable {
    /// Southern edge.
    public var south: Double
    /// Western edge.
    public var west: Double
    /// Northern edge.
    public var north: Double
    /// Eastern edge.
    public var east: Double

    /// A box from its four edges.
    public init(south: Double, west: Double, north: Double, east: Double) {
        self.south = south
        self.west = west
        self.north = north
        self.east = east
    }
}

extension GeoBox {
    /// The box the stores search: an edge on the antimeridian is moved to its other name, so it holds positions
    /// written as 180 and as -180 alike (exiftool prints either), as `near` does: 170...180 is searched as 170
    /// across to -180, -180...-170 as 180 across to -170. The whole globe, -180...180, holds both already.
    package var searched: GeoBox {
        var box = self
        if box.west == -180, box.east < 180 {
            box.west = 180
        } else if box.east == 180, box.west > -180 {
            box.east = -180
        }
        return box
    }
}

/// A circle on the Earth: a centre in decimal degrees and a radius in kilometres.
public struct GeoCircle: Sendable, Equatable {
    /// Centre latitude.
    public var latitude: Double
    /// Centre longitude.
    public var longitude: Double
    /// Radius in kilometres.
    public var kilometres: Double

    /// A circle from its centre and radius.
    public init(latitude: Double, longitude: Double, kilometres: Double) {
        self.latitude = latitude
        self.longitude = longitude
        self.kilometres = kilometres
    }

    /// Mean Earth radius (IUGG), kilometres.
    static let earthRadius = 6371.0088

    /// Great-circle distance (haversine) from the centre, in kilometres.
    public func distance(latitude otherLatitude: Double, longitude otherLongitude: Double) -> Double {
        let radians = Double.pi / 180
        let deltaLatitude = (otherLatitude - latitude) * radians
        let deltaLongitude = (otherLongitude - longitude) * radians
        let a =
            pow(sin(deltaLatitude / 2), 2) + cos(latitude * radians) * cos(otherLatitude * radians)
            * pow(sin(deltaLongitude / 2), 2)
        return 2 * Self.earthRadius * asin(min(1, sqrt(a)))
    }

    /// A box that holds the whole circle (the poles and the antimeridian included).
    public var boundingBox: GeoBox {
        let latitudeSpan = kilometres / (Self.earthRadius * Double.pi / 180)
        let south = max(-90, latitude - latitudeSpan)
        let north = min(90, latitude + latitudeSpan)
        let widest = max(abs(south), abs(north))
        if widest >= 89.999 { return GeoBox(south: south, west: -180, north: north, east: 180) }
        let longitudeSpan = latitudeSpan / cos(widest * Double.pi / 180)
        if longitudeSpan >= 180 { return GeoBox(south: south, west: -180, north: north, east: 180) }
        var west = longitude - longitudeSpan
        var east = longitude + longitudeSpan
        if west < -180 { west += 360 }
        if east > 180 { east -= 360 }
        return GeoBox(south: south, west: west, north: north, east: east)
    }
}

/// A metadata query: every filter that is set must match.
public struct MetadataQuery: Sendable, Equatable {
    /// Make, compared without case.
    public var make: String?
    /// Model, compared without case.
    public var model: String?
    /// Keep images with taken_at ≥ this (a prefix such as "2024-05" or "2024-05-01T10:00" works).
    public var takenAfter: String?
    /// Keep images with taken_at < this.
    public var takenBefore: String?
    /// Keep images whose GPS position is inside this box.
    public var bbox: GeoBox?
    /// Keep images within this circle.
    public var near: GeoCircle?
    /// At most this many images.
    public var limit: Int?
    /// Continue after this item (the `cursor` of the last item of the previous page).
    public var afterCursor: String?

    /// A query; every filter is optional.
    public init(
        make: String? = nil, model: String? = nil, takenAfter: String? = nil, takenBefore: String? = nil,
        bbox: GeoBox? = nil, near: GeoCircle? = nil, limit: Int? = nil, afterCursor: String? = nil
    ) {
        self.make = make
        self.model = model
        self.takenAfter = takenAfter
        self.takenBefore = takenBefore
        self.bbox = bbox
        self.near = near
        self.limit = limit
        self.afterCursor = afterCursor
    }
}

extension MetadataQuery {
    /// A make or model as both stores compare it: case-folded in Swift (uppercased then lowercased, so "ß" meets
    /// "SS" and "Ü" meets "ü") and composed (NFC). The stores keep this key beside the text and compare keys, so
    /// matching ignores case in every script whatever the database's collation (SQLite's NOCASE and PostgreSQL's
    /// `lower()` under the C locale fold ASCII only).
    package static func caseKey(_ text: String) -> String {
        text.uppercased().lowercased().precomposedStringWithCanonicalMapping
    }
}

extension StoredImage {
    /// An opaque cursor for the position of this image in the newest-first order (for `afterCursor`): its
    /// `listedAt`, empty when unknown, and its id.
    public var cursor: String { (listedAt ?? "") + "|" + id }
}

/// One camera of the store and how many of its images the store holds.
public struct CameraCount: Sendable, Equatable, Comparable {
    /// The make (`nil`: unknown).
    public var make: String?
    /// The model (`nil`: unknown).
    public var model: String?
    /// How many images.
    public var count: Int

    /// - Parameters: see the properties.
    public init(make: String?, model: String?, count: Int) {
        self.make = make
        self.model = model
        self.count = count
    }

    private struct Key: Hashable {
        var make: String?
        var model: String?
    }

    /// By make, then model, without case (then as written, so the order is total); unknown last.
    public static func < (a: CameraCount, b: CameraCount) -> Bool {
        let (am, bm) = (order(a.make), order(b.make))
        if am != bm { return am < bm }
        return order(a.model) < order(b.model)
    }

    private static func order(_ text: String?) -> (Int, String, String) {
        text.map { (0, $0.lowercased(), $0) } ?? (1, "", "")
    }

    /// The cameras of `spellings` (counts of makes and models as written; one spelling may come several times, and
    /// its counts add up) as the make and model filters match them: one entry per case-folded make and model (`MetadataQuery.caseKey`), counting every spelling, so
    /// "Dupe Cam", "DUPE CAM" and "dupe cam" are one camera of 3, as `make=dupe&model=cam` lists 3. An entry shows
    /// the spelling its pictures use most: the make's across every picture of that make (so a make reads the same in
    /// each of its entries), the model's across the entry's pictures; a tie goes to the spelling first in the sort
    /// order ("DUPE" before "Dupe" before "dupe"). Sorted.
    package static func grouped(_ spellings: [CameraCount]) -> [CameraCount] {
        struct Group {
            var count = 0
            var models: [String?: Int] = [:]
        }
        var groups: [Key: Group] = [:]
        var makes: [String?: [String?: Int]] = [:]
        for spelling in spellings where spelling.count > 0 {
            let key = Key(
                make: spelling.make.map(MetadataQuery.caseKey), model: spelling.model.map(MetadataQuery.caseKey))
            groups[key, default: Group()].count += spelling.count
            groups[key, default: Group()].models[spelling.model, default: 0] += spelling.count
            makes[key.make, default: [:]][spelling.make, default: 0] += spelling.count
        }
        func mostUsed(_ counts: [String?: Int]) -> String? {
            counts.min { a, b in a.value != b.value ? a.value > b.value : order(a.key) < order(b.key) }?.key ?? nil
        }
        let shownMake = makes.mapValues(mostUsed)
        return groups.map { key, group in
            CameraCount(make: shownMake[key.make] ?? nil, model: mostUsed(group.models), count: group.count)
        }.sorted()
    }
}
