// From an id to the content it names, by the rule the OpenAPI document states.
import Foundation
import ImageCore
import PipelineCore

/// An id resolved to stored content.
struct ResolvedImage: Sendable {
    /// The id asked for.
    var id: ImageID
    /// The content.
    var hash: ContentHash
    /// Its format.
    var format: ImageFormat
    /// The index entry, when the HTTP API created the id.
    var entry: IndexedImage?

    /// The original's path inside `originals/`.
    var originalPath: String { OriginalName.relativePath(hash: hash, format: format) }
    /// Whether the id is the content hash itself (so everything under it is immutable).
    var isContentID: Bool { id.value == hash.hex }
}

/// Resolves ids:
/// 1. an id the HTTP API created (POST, PUT) names the content recorded for it;
/// 2. otherwise a content id (64 lowercase hex digits) names its own content when an original with that hash
///    is stored and no id of the HTTP API names that content (an image dropped into uploads/ or made by batch);
/// 3. anything else is unknown (404).
struct ImageResolver: Sendable {
    let index: any ImageIndex
    let originals: StoreHandle

    /// The content an id names, with its format, or `nil`. - Throws: when the index cannot be read.
    func resolve(_ id: ImageID) throws -> ResolvedImage? {
        if let entry = try index.entry(for: id.value) {
            return ResolvedImage(id: id, hash: entry.hash, format: entry.format, entry: entry)
        }
        guard let hash = try implicitHash(id), let format = storedFormat(of: hash) else { return nil }
        return ResolvedImage(id: id, hash: hash, format: format, entry: nil)
    }

    /// The content hash an id names without looking at the disk (the thumbnail fast path); the caller
    /// confirms by opening the file. Rule 2's "original is stored" is checked only when the file is missing.
    func hashWithoutDisk(_ id: ImageID) throws -> ContentHash? {
        if let entry = try index.entry(for: id.value) { return entry.hash }
        return try implicitHash(id)
    }

    /// Where the original with this hash would be, one path per format (a derivative is served only while one exists).
    func originalPaths(of hash: ContentHash) -> [String] {
        ImageFormat.allCases.compactMap { try? originals.url(OriginalName.relativePath(hash: hash, format: $0)).path }
    }

    /// The format of the stored original with this hash, or `nil` when none is stored.
    func storedFormat(of hash: ContentHash) -> ImageFormat? {
        ImageFormat.allCases.first { originals.exists(OriginalName.relativePath(hash: hash, format: $0)) }
    }

    private func implicitHash(_ id: ImageID) throws -> ContentHash? {
        guard let hash = id.contentHash, try index.ids(using: hash).isEmpty else { return nil }
        return hash
    }
}
