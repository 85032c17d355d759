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

    @Option(help: "GPS circle LAT,LON,KM (0 < KM <= 20000); with --bbox, what is in both.")
    var near: String?

    @Option(help: "At most N images (1 or more).")
    var limit: Int?

    @Flag(help: "Print JSON lines (the keys of `picpipe metadata`, plus id and added_at) instead of a table.")
    var json = false

    /// The filters, read by the rules `GET /images` reads its parameters by (`QueryFilters`; until session 29 the
    /// command had rules of its own: `--near` took KM 0 and 25000, `--bbox` refused `--near` beside it, `--limit`
    /// took 0). An empty filter is not given, as over HTTP.
    func metadataQuery() throws -> MetadataQuery {
        let filters = QueryFilters(
            make: make, model: model, takenAfter: takenAfter, takenBefore: takenBefore, bbox: bbox, near: near)
        do {
            var query = try filters.query()
            query.limit = try limit.map { try QueryFilters.limit($0) }
            return query
        } catch let error as QueryFilterError {
            throw ValidationError(error.message(naming: error.filter.option) + ".")
        }
    }

    func validate() throws { _ = try metadataQuery() }

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
        let query = try metadataQuery()
        // A folder that is no store is refused as events refuses it (until session 36: an empty table, exit 0).
        let (layout, url) = try databaseOptions.readingTarget(store: storeOptions, config: configOptions)
        let database = layout.metadataDatabase
        let store: (any MetadataStore)?
        if let url {
            let pool = try DatabaseBackends.connect(DatabaseURL(parsing: url), layout: layout)
            store = try PostgresMetadataStore(pool: pool, root: layout.root)
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
            for image in images { output.append(image.jsonLine()) }
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
}
