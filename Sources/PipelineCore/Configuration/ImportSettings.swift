// The `import` section: how pictures are fetched by URL (POST /images {"url": …}, `picpipe import`), safe by default.

/// Limits of imports by URL. Only http and https; the addresses a name resolves to are checked against private,
/// loopback, link-local, CGNAT, multicast and reserved ranges (IPv4-mapped and embedded IPv6 included) unless
/// `allow` lists them.
public struct ImportSettings: Codable, Sendable, Equatable {
    /// The largest picture fetched, in bytes; the download is cut as soon as it passes this.
    public var maxBytes: Int = 64 * 1024 * 1024
    /// Seconds to connect to the source.
    public var connectTimeout: Double = 5
    /// Seconds for the whole import: every redirect, the download, the checks.
    public var timeout: Double = 30
    /// Redirects followed (each one's address checked again).
    public var maxRedirects: Int = 5
    /// Address ranges allowed although they are private (`10.0.0.0/8`, `127.0.0.1/32`, `fd00::/8`): an intranet's
    /// sources, or tests.
    public var allow: [String] = []

    /// The defaults.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case maxBytes = "max_bytes"
        case connectTimeout = "connect_timeout"
        case timeout
        case maxRedirects = "max_redirects"
        case allow
    }

    /// Decodes a partial section: missing keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        let d = ImportSettings()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxBytes = try c.decode(.maxBytes, default: d.maxBytes)
        connectTimeout = try c.decode(.connectTimeout, default: d.connectTimeout)
        timeout = try c.decode(.timeout, default: d.timeout)
        maxRedirects = try c.decode(.maxRedirects, default: d.maxRedirects)
        allow = try c.decode(.allow, default: d.allow)
    }

    func validate() throws {
        func check(_ ok: Bool, _ key: String, _ reason: String) throws {
            if !ok { throw ConfigurationError.invalid(key: "import." + key, reason: reason) }
        }
        try check(maxBytes > 0, "max_bytes", "must be positive")
        try check(
            PicpipeConfiguration.seconds(connectTimeout, above: 0, to: 3600), "connect_timeout",
            "is over 0, up to 3600 seconds")
        try check(PicpipeConfiguration.seconds(timeout, above: 0, to: 3600), "timeout", "is over 0, up to 3600 seconds")
        try check((0...20).contains(maxRedirects), "max_redirects", "is 0 to 20")
        for range in allow {
            try check(AddressRange(parsing: range) != nil, "allow", "'\(range)' is not an address range such as 10.0.0.0/8")
        }
    }
}
