// The `auth` section: API keys with scopes, an OIDC issuer whose JWTs the API accepts, and usage plans
// (rate, burst, daily quota), API Gateway's three features for who may call what, how often.
import Foundation

/// The `auth` section, read by the HTTP API. The older `http.api_keys` keep working: each is a key with every
/// scope and the default usage plan.
public struct AuthSettings: Codable, Sendable, Equatable {
    /// API keys, each with its own scopes and, optionally, its own usage plan.
    public var apiKeys: [ScopedAPIKey] = []
    /// The OIDC issuer whose bearer tokens are accepted (off while `issuer` is unset).
    public var oidc: OIDCSettings = OIDCSettings()
    /// The usage plan of every caller (API key or token subject) without its own: all zeros is unlimited.
    public var usagePlan: UsagePlan = UsagePlan()

    /// The defaults: no scoped keys, no issuer, no limits.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case apiKeys = "api_keys"
        case oidc
        case usagePlan = "usage_plan"
    }

    /// Decodes a partial section: missing keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        let d = AuthSettings()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiKeys = try c.decode(.apiKeys, default: d.apiKeys)
        oidc = try c.decode(.oidc, default: d.oidc)
        usagePlan = try c.decode(.usagePlan, default: d.usagePlan)
    }

    /// The scopes a caller can hold. `admin` holds all of them.
    public static let scopes = ["images:read", "images:write", "images:delete", "functions:invoke", "admin"]
}

/// One API key: `{name: mobile, key: "…", scopes: [images:read], usage_plan: {rate: 5, burst: 10}}`.
public struct ScopedAPIKey: Codable, Sendable, Equatable, ConfigurationListElement {
    /// The name the key is counted and limited under (`key:NAME` in metrics); never the key itself.
    public var name: String
    /// The secret sent as `Authorization: Bearer KEY`.
    public var key: String
    /// What the key may do (see `AuthSettings.scopes`).
    public var scopes: [String]
    /// This key's own usage plan, instead of `auth.usage_plan`.
    public var usagePlan: UsagePlan?

    /// - Parameters: see the properties.
    public init(name: String, key: String, scopes: [String], usagePlan: UsagePlan? = nil) {
        self.name = name
        self.key = key
        self.scopes = scopes
        self.usagePlan = usagePlan
    }

    /// For the check of an entry's keys (`ConfigurationKeys`), its own usage plan's too.
    public static var keyExample: Self { Self(name: "", key: "", scopes: [], usagePlan: UsagePlan()) }

    enum CodingKeys: String, CodingKey {
        case name, key, scopes
        case usagePlan = "usage_plan"
    }
}

/// The `auth.oidc` section.
public struct OIDCSettings: Codable, Sendable, Equatable {
    /// The issuer URL (`iss`); its `/.well-known/openid-configuration` names the JWKS. Unset: no tokens accepted.
    public var issuer: String?
    /// The audience a token must name in `aud` (required with an issuer).
    public var audience: String?
    /// The signature algorithms accepted: RS256 and/or ES256 (never `none`, never an HMAC).
    public var algorithms: [String] = ["RS256", "ES256"]
    /// Seconds of clock difference allowed on `exp`, `nbf` and `iat`.
    public var clockSkew: Double = 60
    /// The claim that holds the scopes (`cognito:groups`, `roles`, …); unset: `scope` (space-separated) or `scp`.
    public var scopeClaim: String?
    /// The fewest seconds between two fetches of the JWKS caused by a token with an unknown `kid`.
    public var jwksRefreshInterval: Double = 60
    /// Seconds the fetched JWKS is used before it is fetched again.
    public var jwksMaxAge: Double = 3600

    /// The defaults (off).
    public init() {}

    enum CodingKeys: String, CodingKey {
        case issuer, audience, algorithms
        case clockSkew = "clock_skew"
        case scopeClaim = "scope_claim"
        case jwksRefreshInterval = "jwks_refresh_interval"
        case jwksMaxAge = "jwks_max_age"
    }

    /// Decodes a partial section: missing keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        let d = OIDCSettings()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        issuer = try c.decodeIfPresent(String.self, forKey: .issuer)
        audience = try c.decodeIfPresent(String.self, forKey: .audience)
        algorithms = try c.decode(.algorithms, default: d.algorithms)
        clockSkew = try c.decode(.clockSkew, default: d.clockSkew)
        scopeClaim = try c.decodeIfPresent(String.self, forKey: .scopeClaim)
        jwksRefreshInterval = try c.decode(.jwksRefreshInterval, default: d.jwksRefreshInterval)
        jwksMaxAge = try c.decode(.jwksMaxAge, default: d.jwksMaxAge)
    }

    /// Whether tokens are accepted.
    public var isEnabled: Bool { issuer.map { !$0.isEmpty } ?? false }

    /// Whether picpipe may fetch the issuer's documents from `url`: https, or plain http only on loopback (a test
    /// issuer on this machine). The issuer and the `jwks_uri` its discovery document names are both held to it.
    /// Loopback is `ListenAddress`'s: `localhost`, `::1` or an address in 127.0.0.0/8 (until session 37 any host
    /// starting `127.`, a name such as `127.example.com` too).
    public static func isHTTPSOrLoopback(_ url: String) -> Bool {
        guard let components = URLComponents(string: url) else { return false }
        if components.scheme == "https" { return true }
        let host = (components.host ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return components.scheme == "http" && !host.isEmpty && ListenAddress(host: host, port: 0).isLoopback
    }
}

/// A usage plan: a token bucket (`rate` requests a second refill it, `burst` is its size) and a daily quota
/// (requests per UTC day). 0 turns a part off.
public struct UsagePlan: Codable, Sendable, Equatable {
    /// Requests per second, on average.
    public var rate: Double = 0
    /// The most requests at once after a quiet spell (the bucket's size); 0 with a rate: the rate, at least 1.
    public var burst: Int = 0
    /// Requests per UTC day.
    public var dailyQuota: Int = 0

    /// - Parameters: see the properties.
    public init(rate: Double = 0, burst: Int = 0, dailyQuota: Int = 0) {
        self.rate = rate
        self.burst = burst
        self.dailyQuota = dailyQuota
    }

    enum CodingKeys: String, CodingKey {
        case rate, burst
        case dailyQuota = "daily_quota"
    }

    /// Decodes a partial plan: missing keys are 0 (off).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rate = try c.decode(.rate, default: 0)
        burst = try c.decode(.burst, default: 0)
        dailyQuota = try c.decode(.dailyQuota, default: 0)
    }

    /// Whether the plan limits anything.
    public var isLimited: Bool { rate > 0 || dailyQuota > 0 }
}

extension AuthSettings {
    /// Checks the section's values; `ConfigurationError.invalid` names the key.
    func validate() throws {
        func check(_ ok: Bool, _ key: String, _ reason: String) throws {
            if !ok { throw ConfigurationError.invalid(key: key, reason: reason) }
        }
        var names = Set<String>()
        for (index, key) in apiKeys.enumerated() {
            let path = "auth.api_keys[\(index)]"
            try check(!key.name.isEmpty, path + ".name", "must not be empty")
            try check(names.insert(key.name).inserted, path + ".name", "'\(key.name)' is used by another key")
            try check(key.key.count >= 16, path + ".key", "must be at least 16 characters")
            for scope in key.scopes {
                try check(
                    Self.scopes.contains(scope), path + ".scopes",
                    "'\(scope)' is not a scope; scopes: \(Self.scopes.joined(separator: ", "))")
            }
            if let plan = key.usagePlan { try plan.validate(path + ".usage_plan") }
        }
        try usagePlan.validate("auth.usage_plan")
        guard oidc.isEnabled, let issuer = oidc.issuer else { return }
        try check(
            OIDCSettings.isHTTPSOrLoopback(issuer), "auth.oidc.issuer",
            "must be an https URL (http only on loopback, for tests)")
        try check(!(oidc.audience ?? "").isEmpty, "auth.oidc.audience", "is required with an issuer")
        try check(!oidc.algorithms.isEmpty, "auth.oidc.algorithms", "needs RS256, ES256 or both")
        for algorithm in oidc.algorithms {
            try check(
                ["RS256", "ES256"].contains(algorithm), "auth.oidc.algorithms",
                "'\(algorithm)' is not accepted: only RS256 and ES256 (never none, never an HMAC)")
        }
        try check(oidc.clockSkew >= 0 && oidc.clockSkew <= 600, "auth.oidc.clock_skew", "is 0 to 600 seconds")
        try check(
            PicpipeConfiguration.seconds(oidc.jwksRefreshInterval, from: 0, to: 86400),
            "auth.oidc.jwks_refresh_interval", "is 0 to 86400 seconds")
        try check(
            PicpipeConfiguration.seconds(oidc.jwksMaxAge, above: 0, to: 31_536_000), "auth.oidc.jwks_max_age",
            "is over 0, up to 31536000 seconds (a year)")
    }
}

extension UsagePlan {
    func validate(_ key: String) throws {
        func check(_ ok: Bool, _ name: String, _ reason: String) throws {
            if !ok { throw ConfigurationError.invalid(key: key + "." + name, reason: reason) }
        }
        try check(rate >= 0 && rate.isFinite, "rate", "must be 0 (off) or more requests per second")
        try check(burst >= 0, "burst", "must be 0 or more requests")
        try check(dailyQuota >= 0, "daily_quota", "must be 0 (off) or more requests")
    }
}
