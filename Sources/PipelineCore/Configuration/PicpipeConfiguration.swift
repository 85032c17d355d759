// The whole application's configuration: one Codable value, loaded once (file, then environment), passed down.
import Foundation

/// Everything picpipe can be configured with. `picpipe config` prints the effective value.
///
/// Every section and key is optional in a file; what is missing keeps the default shown by `picpipe config`.
public struct PicpipeConfiguration: Codable, Sendable, Equatable {
    /// The store folder.
    public var store: String
    /// How thumbnails are made.
    public var thumbnails: ThumbnailSettings
    /// Input limits.
    public var limits: LimitSettings
    /// Each function's Lambda-style settings.
    public var functions: FunctionSettings
    /// The upload watcher.
    public var watcher: WatcherSettings
    /// The invocation runtime (retries, polling).
    public var runtime: RuntimeSettings
    /// The HTTP fetch service.
    public var http: HTTPSettings
    /// Logging.
    public var logging: LoggingSettings
    /// The AWS APIs (S3, Lambda) on their own listener.
    public var aws: AWSSettings
    /// Who may call the HTTP API and how often: scoped API keys, OIDC tokens, usage plans.
    public var auth: AuthSettings
    /// Imports by URL (`import` in files).
    public var imports: ImportSettings
    /// The shared database (none: SQLite in the store).
    public var database: DatabaseSettings

    /// The defaults.
    public init() {
        store = "./picstore"
        thumbnails = ThumbnailSettings()
        limits = LimitSettings()
        functions = FunctionSettings()
        watcher = WatcherSettings()
        runtime = RuntimeSettings()
        http = HTTPSettings()
        logging = LoggingSettings()
        aws = AWSSettings()
        auth = AuthSettings()
        imports = ImportSettings()
        database = DatabaseSettings()
    }

    /// Decodes a partial section: missing keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        let defaults = PicpipeConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        store = try c.decode(.store, default: defaults.store)
        thumbnails = try c.decode(.thumbnails, default: defaults.thumbnails)
        limits = try c.decode(.limits, default: defaults.limits)
        functions = try c.decode(.functions, default: defaults.functions)
        watcher = try c.decode(.watcher, default: defaults.watcher)
        runtime = try c.decode(.runtime, default: defaults.runtime)
        http = try c.decode(.http, default: defaults.http)
        logging = try c.decode(.logging, default: defaults.logging)
        database = try c.decode(.database, default: defaults.database)
        aws = try c.decode(.aws, default: defaults.aws)
        auth = try c.decode(.auth, default: defaults.auth)
        imports = try c.decode(.imports, default: defaults.imports)
    }

    enum CodingKeys: String, CodingKey {
        case store, thumbnails, limits, functions, watcher, runtime, http, logging, aws, auth, database
        case imports = "import"
    }

    /// The store folder as a URL, relative paths resolved against the working directory.
    public var storeURL: URL { URL(fileURLWithPath: store) }

    /// What `picpipe config` prints by default: secrets (`http.api_keys`, `http.signing_key`, `aws.credentials`
    /// secrets, the password of `database.url`) replaced by
    /// `<redacted>`, so the output can be pasted into an issue.
    public func redactingSecrets() -> PicpipeConfiguration {
        var copy = self
        copy.http.apiKeys = http.apiKeys.map { _ in Self.redacted }
        copy.http.signingKey = http.signingKey.map { _ in Self.redacted }
        for index in copy.aws.credentials.indices { copy.aws.credentials[index].secretAccessKey = Self.redacted }
        copy.http.previousSigningKeys = http.previousSigningKeys.map { _ in Self.redacted }
        for index in copy.auth.apiKeys.indices { copy.auth.apiKeys[index].key = Self.redacted }
        copy.database.url = database.redactedURL
        return copy
    }

    /// The text that stands for a secret in printed configuration.
    public static let redacted = "<redacted>"
}

/// The `thumbnails` section.
public struct ThumbnailSettings: Codable, Sendable, Equatable {
    /// Long-side sizes in pixels, one derivative each.
    public var sizes: [Int] = [128, 256, 1024]
    /// How the picture fits the size: `inside` (keep the aspect ratio) or `cover` (crop to a square).
    public var fit: String = "inside"
    /// `jpeg`, `png`, `webp` or `avif`.
    public var format: String = "jpeg"
    /// JPEG quality, 1-100.
    public var quality: Int = 82
    /// Lossy WebP quality, 1-100. 85 is the lowest (in steps of 5) whose thumbnails match JPEG q82's SSIM on the
    /// benchmark photos, at 15% fewer bytes (README "Formats", `scripts/bench-formats.sh --part bytes`).
    public var webpQuality: Int = 85
    /// Lossless WebP instead of lossy.
    public var webpLossless: Bool = false
    /// AVIF quality, 1-100 (libheif's scale). 70 matches JPEG q82's SSIM the same way, at 31% fewer bytes.
    public var avifQuality: Int = 70
    /// The AV1 encoder's speed, 0 (slowest, smallest) to 9 (fastest).
    public var avifSpeed: Int = 6
    /// Whether JPEG thumbnails are progressive.
    public var progressive: Bool = false
    /// The colour transparent pixels are flattened onto for JPEG, as 6 hex digits.
    public var background: String = "ffffff"
    /// Pictures with a colour profile: `srgb` (convert to sRGB) or `keep` (leave the pixels, embed the profile).
    public var color: String = "srgb"

    /// The defaults.
    public init() {}

    /// Decodes a partial section: missing keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        let d = ThumbnailSettings()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sizes = try c.decode(.sizes, default: d.sizes)
        fit = try c.decode(.fit, default: d.fit)
        format = try c.decode(.format, default: d.format)
        quality = try c.decode(.quality, default: d.quality)
        progressive = try c.decode(.progressive, default: d.progressive)
        background = try c.decode(.background, default: d.background)
        color = try c.decode(.color, default: d.color)
        webpQuality = try c.decode(.webpQuality, default: d.webpQuality)
        webpLossless = try c.decode(.webpLossless, default: d.webpLossless)
        avifQuality = try c.decode(.avifQuality, default: d.avifQuality)
        avifSpeed = try c.decode(.avifSpeed, default: d.avifSpeed)
    }

    enum CodingKeys: String, CodingKey {
        case sizes, fit, format, quality, progressive, background, color
        case webpQuality = "webp_quality"
        case webpLossless = "webp_lossless"
        case avifQuality = "avif_quality"
        case avifSpeed = "avif_speed"
    }

    /// The quality thumbnails in `format` are made at: `quality` for JPEG, `webp_quality`, `avif_quality`.
    public func quality(for format: String) -> Int {
        switch format {
        case "webp": return webpQuality
        case "avif": return avifQuality
        default: return quality
        }
    }

    /// Sets the quality of `format` (what `--quality` does for the format being written).
    public mutating func setQuality(_ value: Int, for format: String) {
        switch format {
        case "webp": webpQuality = value
        case "avif": avifQuality = value
        default: quality = value
        }
    }
}

/// The `limits` section.
public struct LimitSettings: Codable, Sendable, Equatable {
    /// The most pixels any decode may hold (a function's `memory_mb` may lower it).
    public var maxPixels: Int = 100_000_000
    /// The largest accepted input file.
    public var maxFileBytes: Int = 256 * 1024 * 1024

    /// The defaults.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case maxPixels = "max_pixels"
        case maxFileBytes = "max_file_bytes"
    }

    /// Decodes a partial section: missing keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        let d = LimitSettings()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxPixels = try c.decode(.maxPixels, default: d.maxPixels)
        maxFileBytes = try c.decode(.maxFileBytes, default: d.maxFileBytes)
    }
}

/// The `functions` section: one `FunctionConfiguration` per function.
public struct FunctionSettings: Codable, Sendable, Equatable {
    /// The thumbnail function.
    public var thumbnail: FunctionConfiguration = FunctionConfiguration()
    /// The metadata function.
    public var metadata: FunctionConfiguration = FunctionConfiguration()
    /// The fetch function: imports by URL (`POST /images {"url"}`, `picpipe import`).
    public var fetch: FunctionConfiguration = FunctionConfiguration()

    /// The defaults.
    public init() {}

    /// Decodes a partial section: missing keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        let d = FunctionSettings()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        thumbnail = try c.decode(.thumbnail, default: d.thumbnail)
        metadata = try c.decode(.metadata, default: d.metadata)
        fetch = try c.decode(.fetch, default: d.fetch)
    }

    /// The names of the configured functions.
    public static let names = ["thumbnail", "metadata", "fetch"]

    /// A function's settings by name; unknown names get the defaults.
    public subscript(name: String) -> FunctionConfiguration {
        get {
            switch name {
            case "thumbnail": return thumbnail
            case "metadata": return metadata
            case "fetch": return fetch
            default: return FunctionConfiguration()
            }
        }
        set {
            switch name {
            case "thumbnail": thumbnail = newValue
            case "metadata": metadata = newValue
            case "fetch": fetch = newValue
            default: break
            }
        }
    }
}

/// The `watcher` section.
public struct WatcherSettings: Codable, Sendable, Equatable {
    /// Whether `serve` watches `uploads/`.
    public var enabled: Bool = true
    /// The most file events waiting for ingest; past it the watcher drops them and rescans, as inotify does
    /// after `IN_Q_OVERFLOW`.
    public var maxQueuedEvents: Int = 16384
    /// Seconds between safety rescans of `uploads/` (0: only at start and after an overflow). On by default, so a
    /// file that could not be ingested (full disk, journal unavailable) is taken again by itself.
    public var rescanInterval: Double = 15

    /// The defaults.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case enabled
        case maxQueuedEvents = "max_queued_events"
        case rescanInterval = "rescan_interval"
    }

    /// Decodes a partial section: missing keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        let d = WatcherSettings()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.decode(.enabled, default: d.enabled)
        maxQueuedEvents = try c.decode(.maxQueuedEvents, default: d.maxQueuedEvents)
        rescanInterval = try c.decode(.rescanInterval, default: d.rescanInterval)
    }
}

/// The `runtime` section.
public struct RuntimeSettings: Codable, Sendable, Equatable {
    /// Seconds to wait before each retry: the first entry before the first retry, and so on (the last repeats).
    public var retryBackoff: [Double] = [1, 2]
    /// Seconds between looks at the journal for work queued by other processes.
    public var pollInterval: Double = 0.2
    /// Seconds running invocations get to finish after SIGTERM/SIGINT; past it they are cancelled and put back in
    /// the queue (not counted as attempts) for the next start.
    public var shutdownGrace: Double = 10
    /// Days the journal keeps finished work: serve forgets older events whose invocations all succeeded (their
    /// counts stay in `stats` and `/metrics`); 0 keeps everything.
    public var journalRetentionDays: Double = 30

    /// The defaults.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case retryBackoff = "retry_backoff"
        case pollInterval = "poll_interval"
        case shutdownGrace = "shutdown_grace"
        case journalRetentionDays = "journal_retention_days"
    }

    /// Decodes a partial section: missing keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        let d = RuntimeSettings()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        retryBackoff = try c.decode(.retryBackoff, default: d.retryBackoff)
        pollInterval = try c.decode(.pollInterval, default: d.pollInterval)
        shutdownGrace = try c.decode(.shutdownGrace, default: d.shutdownGrace)
        journalRetentionDays = try c.decode(.journalRetentionDays, default: d.journalRetentionDays)
    }

    /// The wait before retry number `retry` (1-based).
    public func backoff(beforeRetry retry: Int) -> Double {
        guard let last = retryBackoff.last else { return 0 }
        let index = retry - 1
        return index >= 0 && index < retryBackoff.count ? retryBackoff[index] : last
    }
}

/// The `http` section, read by the HTTP fetch service.
public struct HTTPSettings: Codable, Sendable, Equatable {
    /// `HOST:PORT` to listen on.
    public var listen: String = "127.0.0.1:8080"
    /// Keys accepted for writes (empty: no key needed).
    public var apiKeys: [String] = []
    /// The largest request body accepted.
    public var maxBodyBytes: Int = 256 * 1024 * 1024
    /// The key signed URLs are signed with (none: signing disabled).
    public var signingKey: String?
    /// Older signing keys: URLs they signed still verify until they expire; `signing_key` signs new ones.
    public var previousSigningKeys: [String] = []
    /// Whether reads need an API key too (only when keys are configured; signed thumbnail URLs still work).
    public var protectReads: Bool = false
    /// The slowest average an upload body may arrive at, in bytes per second, after its first 10 seconds; a slower
    /// one is cut with 408 (a trickling client must not hold a socket and a temporary file for ever).
    public var minUploadRate: Int = 4096
    /// The most upload bodies received at once; more get 503 with `Retry-After`.
    public var maxConcurrentUploads: Int = 64
    /// A connection with no bytes read for this many seconds is closed (also cuts a stalled upload).
    public var idleTimeout: Double = 30
    /// A connection whose pending answer made no progress (no byte written to the socket: its client stopped
    /// reading) for this many seconds is closed and its buffers freed (nginx's `send_timeout`).
    public var sendTimeout: Double = 30
    /// The largest request head after the request line (header lines and their line ends), in bytes; a larger one
    /// is refused with 431 and the connection closed (nginx's `large_client_header_buffers` is 4 × 8 KiB).
    public var maxHeaderBytes: Int = 16 * 1024
    /// The longest request target (path and query), in bytes; a longer one is refused with 414.
    public var maxURIBytes: Int = 8 * 1024
    /// A request head must be complete this many seconds after its first byte, else 408 and the connection is
    /// closed (a slowloris client trickling header bytes must not hold a connection until the idle timeout).
    public var headerTimeout: Double = 10
    /// The most connections open at once; past it a new connection gets 503 and is closed at once.
    public var maxConnections: Int = 1024
    /// Whether `GET /images/{id}/thumbnails/{size}` picks AVIF, WebP or the configured format from `Accept`
    /// (answering `Vary: Accept`); off, it always answers the configured format (`?format=` still forces one).
    public var negotiateFormats: Bool = true
    /// How long browsers and CDNs may keep a thumbnail of a content id before they revalidate it, in seconds. Its URL
    /// names the picture and the size but not the recipe (quality, fit, format preset, colour), so the bytes behind it
    /// change with the configuration; its ETag names the recipe, so a revalidation after this long brings a new
    /// preset's bytes (a year and `immutable` kept the old ones in every cache for a year).
    public var thumbnailMaxAge: Int = 86400
    /// The event-loop threads that accept connections and answer from memory (`nil`: one per core, SwiftNIO's
    /// default). On a small machine that also runs the load (a client, the functions) one loop can answer more and
    /// sooner than one per core: nginx's `worker_processes`.
    public var eventLoops: Int?
    /// The web origins (`https://app.example.com`, or `*` for any) whose pages may call the API from their scripts
    /// (CORS: `Access-Control-Allow-Origin` and preflights); empty: none, no CORS headers are sent.
    public var corsOrigins: [String] = []

    /// The defaults.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case listen
        case apiKeys = "api_keys"
        case maxBodyBytes = "max_body_bytes"
        case signingKey = "signing_key"
        case previousSigningKeys = "previous_signing_keys"
        case protectReads = "protect_reads"
        case minUploadRate = "min_upload_rate"
        case maxConcurrentUploads = "max_concurrent_uploads"
        case idleTimeout = "idle_timeout"
        case sendTimeout = "send_timeout"
        case maxHeaderBytes = "max_header_bytes"
        case maxURIBytes = "max_uri_bytes"
        case headerTimeout = "header_timeout"
        case maxConnections = "max_connections"
        case negotiateFormats = "negotiate_formats"
        case thumbnailMaxAge = "thumbnail_max_age"
        case eventLoops = "event_loops"
        case corsOrigins = "cors_origins"
    }

    /// Decodes a partial section: missing keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        let d = HTTPSettings()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        listen = try c.decode(.listen, default: d.listen)
        apiKeys = try c.decode(.apiKeys, default: d.apiKeys)
        maxBodyBytes = try c.decode(.maxBodyBytes, default: d.maxBodyBytes)
        signingKey = try c.decodeIfPresent(String.self, forKey: .signingKey)
        previousSigningKeys = try c.decode(.previousSigningKeys, default: d.previousSigningKeys)
        protectReads = try c.decode(.protectReads, default: d.protectReads)
        minUploadRate = try c.decode(.minUploadRate, default: d.minUploadRate)
        maxConcurrentUploads = try c.decode(.maxConcurrentUploads, default: d.maxConcurrentUploads)
        idleTimeout = try c.decode(.idleTimeout, default: d.idleTimeout)
        sendTimeout = try c.decode(.sendTimeout, default: d.sendTimeout)
        maxHeaderBytes = try c.decode(.maxHeaderBytes, default: d.maxHeaderBytes)
        maxURIBytes = try c.decode(.maxURIBytes, default: d.maxURIBytes)
        headerTimeout = try c.decode(.headerTimeout, default: d.headerTimeout)
        maxConnections = try c.decode(.maxConnections, default: d.maxConnections)
        negotiateFormats = try c.decode(.negotiateFormats, default: d.negotiateFormats)
        thumbnailMaxAge = try c.decode(.thumbnailMaxAge, default: d.thumbnailMaxAge)
        eventLoops = try c.decodeIfPresent(Int.self, forKey: .eventLoops)
        corsOrigins = try c.decode(.corsOrigins, default: d.corsOrigins)
    }
}

extension HTTPSettings {
    /// Whether `text` is `*` or an origin as a browser's `Origin` header carries it: `http` or `https`, `://`, a host
    /// and maybe a port, nothing after (no path, no trailing slash).
    public static func isOrigin(_ text: String) -> Bool {
        if text == "*" { return true }
        guard let separator = text.range(of: "://") else { return false }
        let scheme = text[..<separator.lowerBound]
        let authority = text[separator.upperBound...]
        return (scheme == "http" || scheme == "https") && !authority.isEmpty
            && !authority.contains { "/?#@ ".contains($0) }
    }
}

/// The `logging` section.
public struct LoggingSettings: Codable, Sendable, Equatable {
    /// `trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`.
    public var level: String = "info"

    /// The defaults.
    public init() {}

    /// Decodes a partial section: missing keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        level = try c.decode(.level, default: LoggingSettings().level)
    }
}
