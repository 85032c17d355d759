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
    /// The earliest Last-Modified (seconds since 1970): for a thumbnail, when its size's recipes took effect, so a
    /// URL whose bytes changed with the configuration is never dated back to an older file (0: the file's time).
    var modifiedFloor: Int = 0
}

/// Cache-Control values.
enum CachePolicy {
    /// Content-addressed URLs: the bytes behind them can never change (originals by their hash, the gallery's assets).
    static let immutable = "public, max-age=31536000, immutable"
    /// URLs whose content a PUT may replace: cache, but revalidate (the ETag makes that a 304).
    static let revalidate = "public, no-cache"
    /// The same for key-protected reads: no shared cache may keep them.
    static let privateImmutable = "private, max-age=31536000, immutable"
    static let privateRevalidate = "private, no-cache"
    /// JSON that changes with the store (the listing, whose signed URLs also expire; the cameras): kept, but checked
    /// before every use, by no shared cache when reads need a key.
    static func revalidatedJSON(protected: Bool) -> String { protected ? privateRevalidate : "no-cache" }

    static func forFile(immutable: Bool, protected: Bool) -> String {
        switch (immutable, protected) {
        case (true, false): return Self.immutable
        case (false, false): return revalidate
        case (true, true): return privateImmutable
        case (false, true): return privateRevalidate
        }
    }
}

/// The Cache-Control values of thumbnails, made once from `http.thumbnail_max_age`.
///
/// A thumbnail's URL (`/images/{hash}/thumbnails/{size}`) names the picture and the size, not the recipe (quality,
/// fit, format preset, colour): when the configuration changes, new bytes are served at the same URL. So a content
/// id's thumbnail is kept `max-age` seconds, then revalidated by its ETag, which names the recipe (a 304 while the
/// recipe stays). Until session 29 it was `max-age=31536000, immutable`, and caches kept the old preset's bytes for a
/// year. A PUT id's thumbnails revalidate every time, as its original does.
struct ThumbnailCachePolicy: Sendable {
    /// For a content id's thumbnail, readable by anyone.
    let shared: String
    /// For a content id's thumbnail when reads need a key.
    let keyed: String

    /// - Parameter maxAge: seconds (`http.thumbnail_max_age`).
    init(maxAge: Int) {
        shared = "public, max-age=\(maxAge)"
        keyed = "private, max-age=\(maxAge)"
    }

    /// The value for a thumbnail of a content id (`contentAddressed`) or of a PUT id, public or key-protected.
    func value(contentAddressed: Bool, protected: Bool) -> String {
        switch (contentAddressed, protected) {
        case (true, false): return shared
        case (true, true): return keyed
        case (false, false): return CachePolicy.revalidate
        case (false, true): return CachePolicy.privateRevalidate
        }
    }
}
