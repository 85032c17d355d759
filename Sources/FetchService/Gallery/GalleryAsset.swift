// One static file of the gallery page (a script module, the style sheet, the icon), kept in the binary as a Swift
// string literal: an installed `picpipe` serves the page with no files beside it and no build step.
import Crypto
import Foundation

/// A static file of the gallery, before and after it gets its content-hashed name.
struct GalleryAsset: Sendable {
    /// The name the other assets use for it (`app.js`).
    let name: String
    /// The media type.
    let contentType: String
    /// The content.
    let text: String

    /// The first 10 hex digits of the SHA-256 of `bytes`: enough to tell versions apart, short in URLs.
    static func contentHash(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).prefix(5).map { String(format: "%02x", $0) }.joined()
    }
}

/// A built asset: bytes (with references to other assets rewritten to their hashed names) under a hashed name.
struct BuiltGalleryAsset: Sendable {
    /// `app.3f9c2a1b7e.js`.
    let hashedName: String
    /// The media type.
    let contentType: String
    /// The bytes served.
    let bytes: [UInt8]
    /// The strong ETag (the full hash is in the name; the ETag repeats it for revalidation).
    let eTag: String
}
