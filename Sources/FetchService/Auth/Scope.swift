// What a caller may do: the scopes API keys are given and tokens carry (`scope`, `scp` or a configured claim).

/// A permission of the HTTP API. `admin` holds every other.
public enum Scope: String, Sendable, CaseIterable, Comparable {
    /// List, read originals, thumbnails and metadata, mint signed URLs.
    case imagesRead = "images:read"
    /// Upload and replace pictures.
    case imagesWrite = "images:write"
    /// Delete pictures.
    case imagesDelete = "images:delete"
    /// Invoke functions (the `fetch` function of an import by URL).
    case functionsInvoke = "functions:invoke"
    /// Everything.
    case admin

    public static func < (a: Scope, b: Scope) -> Bool { a.rawValue < b.rawValue }
}

/// Who sent a request, once authenticated: an API key or a token's subject, with its scopes.
public struct Caller: Sendable, Equatable {
    /// `key:NAME` for an API key, `token:SUB` for a token: what usage plans and metrics count under.
    public let subject: String
    /// The scopes granted.
    public let scopes: Set<Scope>
    /// The caller's own usage plan (an API key's `usage_plan`), instead of the default one.
    let planName: String?

    init(subject: String, scopes: Set<Scope>, planName: String? = nil) {
        self.subject = subject
        self.scopes = scopes
        self.planName = planName
    }

    /// Whether the caller holds `scope` (or `admin`).
    public func holds(_ scope: Scope) -> Bool { scopes.contains(.admin) || scopes.contains(scope) }

    /// The scopes as text, sorted, for messages.
    var scopeList: String { scopes.isEmpty ? "none" : scopes.sorted().map(\.rawValue).joined(separator: " ") }
}
