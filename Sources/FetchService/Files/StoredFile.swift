// A file of the store as the API serves it: where it is and the headers that describe it.

/// A file to serve. Its path is always built from a content hash and a recipe, never from request text.
struct StoredFile: Sendable {
    /// The absolute path.
    var path: String
    /// The media type.
    var contentType: String
    /// The strong entity tag, quoted (`"<sha256>"` for originals, `"<sha256>-<recipe>"` for thumbnails).
    var eTag: String
    /// The Cache-Control value.
    var cacheControl: String
}

/// Cache-Control values.
enum CachePolicy {
    /// Content-addressed URLs: the bytes behind them can never change.
    static let immutable = "public, max-age=31536000, immutable"
    /// URLs whose content a PUT may replace: cache, but revalidate (the ETag makes that a 304).
    static let revalidate = "public, no-cache"
    /// The same for key-protected reads: no shared cache may keep them.
    static let privateImmutable = "private, max-age=31536000, immutable"
    static let privateRevalidate = "private, no-cache"

    static func forFile(immutable: Bool, protected: Bool) -> String {
        switch (immutable, protected) {
        case (true, false): return Self.immutable
        case (false, false): return revalidate
        case (true, true): return privateImmutable
        case (false, true): return privateRevalidate
        }
    }
}
