// `picpipe query`: images in the store's metadata database, newest first.
import ArgumentParser
import Foundation
import MetadataService
import PipelineCore
import PostgresBackend

struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "List the store's images matching filters, newest first (a table, or JSON lines with --json).",
        discussion: """
            Times compare with taken_at, the camera's local wall time (YYYY-MM-DDTHH:MM:SS); a prefix such as \
            2024 or 2024-05-01 works. --taken-after keeps taken_at >= T, --taken-before keeps taken_at < T.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(help: "Camera make (case-insensitive, exact).")
    var make: String?

    @Option(help: "Camera model (case-insensitive, exact).")
    var model: String?

    @Option(name: .customLong("taken-after"), help: "Keep images taken at or after T (YYYY[-MM[-DD[THH:MM[:SS]]]]).")
    var takenAfter: String?

    @Option(name: .customLong("taken-before"), help: "Keep images taken before T.")
    var takenBefore: String?

    @Option(help: "GPS bounding box S,W,N,E in decimal degrees (W > E crosses the antimeridian).")
    var bbox: String?

    @Option(help: "GPS circle LAT,LON,KM.")
    var near: String?

    @Option(help: "At most N images.")
    var limit: Int?

    @Flag(help: "Print JSON lines (the keys of `picpipe metadata`, plus id) instead of a table.")
    var json = false

    /// An empty filter is not given, as over HTTP (a script that fills every option passes "" for "any"; until
    /// session 29 `--make ""` matched nothing while `--taken-after ""` was refused).
    static func given(_ value: String?) -> String? { value.flatMap { $0.isEmpty ? nil : $0 } }

    func validate() throws {
        let (bbox, near) = (Self.given(bbox), Self.given(near))
        if bbox != nil && near != nil { throw ValidationError("Give --bbox or --near, not both.") }
        if let bbox { _ = try Self.box(bbox) }
        if let near { _ = try Self.circle(near) }
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more.") }
        for (name, time) in [("--taken-after", Self.given(takenAfter)), ("--taken-before", Self.given(takenBefore))] {
            if let time, TakenTime.normalised(time) == nil {
                throw ValidationError("\(name) '\(time)' is not \(TakenTime.shape).")
            }
        }
    }

    /// The rows of `query` whose original is in the store, `query.limit` of them at most. An original removed by
    /// hand keeps its metadata row (nothing runs the clean-up of a DELETE): it is not listed, as HTTP does not serve
    /// it (until session 27 query listed a file that was gone), and it does not take a place under `--limit` (until
    /// session 28 `--limit 1` printed nothing when the newest row's original was gone): rows are asked for again,
    /// twice as many, while some were gone and more may follow.
    static func present(_ query: MetadataQuery, in store: any MetadataStore, root: URL) throws -> [StoredImage] {
        var asked = query
        while true {
            let rows = try store.query(asked)
            let present = rows.filter { Folder.exists(root.appendingPathComponent($0.metadata.file).path) }
            guard let limit = query.limit, let fetched = asked.limit, present.count < limit, rows.count == fetched
            else { return query.limit.map { Array(present.prefix($0)) } ?? present }
            asked.limit = fetched * 2
        }
    }

    func run() throws {
        let query = MetadataQuery(
            make: Self.given(make), model: Self.given(model),
            takenAfter: Self.given(takenAfter).flatMap(TakenTime.normalised),
            takenBefore: Self.given(takenBefore).flatMap(TakenTime.normalised),
            bbox: try Self.given(bbox).map(Self.box), near: try Self.given(near).map(Self.circle), limit: limit)
        let (layout, url) = try databaseOptions.readingTarget(store: storeOptions, config: configOptions)
        let database = layout.metadataDatabase
        let store: (any MetadataStore)?
        if let url {
            let pool = try DatabaseBackends.connect(DatabaseURL(parsing: url), layout: layout)
            store = try PostgresMetadataStore(pool: pool)
        } else {
            try DatabaseBackends.refuseSQLiteIfShared(layout)
            if FileManager.default.fileExists(atPath: database.path) {
                store = try StoreOptions.openDatabase(at: database) { try SQLiteMetadataStore(url: database) }
            } else {
                store = nil  // a store that has not stored metadata yet holds no image
            }
        }
        let images = try store.map { try Self.present(query, in: $0, root: layout.root) } ?? []
        var output = StandardOutputBuffer()
        if json {
            for image in images { output.append(image.metadata.jsonLine(id: image.id)) }
        } else {
            let header = ["ID", "TAKEN AT", "MAKE", "MODEL", "SIZE", "GPS", "FILE"]
            let rows = images.map { image -> [String] in
                let metadata = image.metadata
                let size = metadata.width.flatMap { width in metadata.height.map { "\(width)x\($0)" } } ?? "-"
                let gps = metadata.gpsLatitude.flatMap { latitude in
                    metadata.gpsLongitude.map { String(format: "%.5f,%.5f", latitude, $0) }
                }
                return [
                    String(image.id.prefix(12)), metadata.takenAt ?? "-", metadata.make ?? "-", metadata.model ?? "-",
                    size, gps ?? "-", metadata.file,
                ]
            }
            output.append(String(TextTable.render([header] + rows).dropLast()))
        }
        output.flush()
    }

    /// "S,W,N,E" as a box.
    static func box(_ text: String) throws -> GeoBox {
        let parts = try numbers(text, count: 4, option: "--bbox", shape: "S,W,N,E")
        let box = GeoBox(south: parts[0], west: parts[1], north: parts[2], east: parts[3])
        guard (-90...90).contains(box.south), (-90...90).contains(box.north), box.south <= box.north,
            (-180...180).contains(box.west), (-180...180).contains(box.east)
        else { throw ValidationError("--bbox needs -90 <= S <= N <= 90 and longitudes within -180...180.") }
        return box
    }

    /// "LAT,LON,KM" as a circle.
    static func circle(_ text: String) throws -> GeoCircle {
        let parts = try numbers(text, count: 3, option: "--near", shape: "LAT,LON,KM")
        guard (-90...90).contains(parts[0]), (-180...180).contains(parts[1]), parts[2] >= 0 else {
            throw ValidationError("--near needs a latitude within -90...90, a longitude within -180...180, KM >= 0.")
        }
        return GeoCircle(latitude: parts[0], longitude: parts[1], kilometres: parts[2])
    }

    private static func numbers(_ text: String, count: Int, option: String, shape: String) throws -> [Double] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
            Double($0.trimmingCharacters(in: .whitespaces))
        }
        guard parts.count == count, parts.allSatisfy({ $0?.isFinite == true }) else {
            throw ValidationError("\(option) expects \(shape), decimal numbers separated by commas.")
        }
        return parts.compactMap { $0 }
    }
}
