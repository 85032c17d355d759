// The fetch service's settings, taken from the one configuration's `http` and `limits` sections.
import ImageCore
import PipelineCore

/// What the HTTP API is configured with.
public struct FetchSettings: Sendable {
    /// Where to listen.
    public var listen: ListenAddress
    /// Accepted API keys.
    public var apiKeys: [String]
    /// Whether reads need a key (only when keys are configured).
    public var protectReads: Bool
    /// The largest upload body.
    public var maxBodyBytes: Int
    /// The HMAC key of signed thumbnail URLs.
    public var signingKey: String?
    /// Older HMAC keys: the URLs they signed still verify.
    public var previousSigningKeys: [String]
    /// Scoped API keys, the OIDC issuer and the usage plans (the `auth` section).
    public var auth: AuthSettings
    /// Imports by URL (the `import` section).
    public var imports: ImportSettings
    /// How long the thumbnail URLs in listings stay valid when a signing key is set, in seconds.
    public var signedURLLifetime: Int
    /// A connection with no bytes in or out for this long is closed (and a half-sent upload discarded).
    public var idleTimeoutSeconds: Int
    /// A connection whose pending answer made no progress (nothing written to the socket) for this long is closed.
    public var sendTimeout: Duration
    /// The slowest average upload rate in bytes per second after the first 10 seconds (0: no minimum).
    public var minUploadRate: Int
    /// The most uploads received at once.
    public var maxConcurrentUploads: Int
    /// Decode limits for the upload check.
    public var decodeLimits: DecodeLimits
    /// The largest request head after the request line, in bytes (431 past it).
    public var maxHeaderBytes: Int
    /// The longest request target, in bytes (414 past it).
    public var maxURIBytes: Int
    /// How long a request head may take from its first byte to its end (408 and close past it).
    public var headerTimeout: Duration
    /// The most connections open at once (503 and close past it).
    public var maxConnections: Int
    /// Whether thumbnails are served in the format the Accept header prefers (AVIF, WebP), with `Vary: Accept`.
    public var negotiateFormats: Bool
    /// The `max-age` of a content id's thumbnails, in seconds (`http.thumbnail_max_age`).
    public var thumbnailMaxAge: Int
    /// The web origins whose scripts may call the API (`http.cors_origins`).
    public var crossOrigin: CrossOriginPolicy
    /// When `runtime.shutdown_grace` ends, counted from the signal: the bodies the listeners still read then are
    /// cut. serve shares one with its shutdown notice; the default counts the grace (10 s) from the listener's own
    /// shutdown.
    package var shutdown = ShutdownDeadline(grace: RuntimeSettings().shutdownGrace)

    /// - Parameters:
    ///   - http: the `http` section.
    ///   - limits: the `limits` section.
    ///   - listen: overrides `http.listen` (the `--listen` option).
    ///   - auth: the `auth` section (scoped keys, OIDC, usage plans).
    /// - Throws: `ListenAddressError` for a malformed address or an exposed one without keys.
    public init(
        http: HTTPSettings, limits: LimitSettings, listen: String? = nil, auth: AuthSettings = AuthSettings(),
        imports: ImportSettings = ImportSettings()
    ) throws {
        self.listen = try ListenAddress(parsing: listen ?? http.listen)
        apiKeys = http.apiKeys.filter { !$0.isEmpty }
        protectReads = http.protectReads
        maxBodyBytes = http.maxBodyBytes
        signingKey = http.signingKey
        previousSigningKeys = http.previousSigningKeys.filter { !$0.isEmpty }
        self.auth = auth
        self.imports = imports
        signedURLLifetime = 3600
        idleTimeoutSeconds = max(1, Int(http.idleTimeout.rounded()))
        sendTimeout = .milliseconds(max(1, Int((http.sendTimeout * 1000).rounded())))
        minUploadRate = http.minUploadRate
        maxConcurrentUploads = http.maxConcurrentUploads
        maxHeaderBytes = http.maxHeaderBytes
        maxURIBytes = http.maxURIBytes
        headerTimeout = .milliseconds(max(1, Int((http.headerTimeout * 1000).rounded())))
        maxConnections = http.maxConnections
        negotiateFormats = http.negotiateFormats
        thumbnailMaxAge = http.thumbnailMaxAge
        crossOrigin = CrossOriginPolicy(origins: http.corsOrigins)
        decodeLimits = DecodeLimits(maxPixels: limits.maxPixels, maxFileBytes: limits.maxFileBytes)
        // Scoped keys and an issuer guard an exposed address as well as plain keys do.
        try self.listen.checkExposure(
            apiKeys: apiKeys + auth.apiKeys.map { $0.name } + (auth.oidc.isEnabled ? ["oidc"] : []))
    }
}
