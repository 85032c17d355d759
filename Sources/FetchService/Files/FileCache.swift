// The HTTP API's thumbnails in memory, keyed by their store path.
import PipelineCore

/// Thumbnails in memory (`PathCache`). A thumbnail's path is made of its content hash and its recipe, so the
/// routes that remove content (DELETE, PUT replacing an id's content) invalidate by hash after the removal.
typealias FileCache = PathCache<CachedFile>

extension PathCache where Value == CachedFile {
    /// Keeps a file read from disk (see `PathCache.insert`).
    func insert(_ path: String, _ file: CachedFile, generation: UInt64) {
        insert(path, file, size: file.size, readAt: file.readAt, generation: generation)
    }

    /// Drops every file derived from a content (called after the content's files were removed).
    func invalidate(hash: ContentHash) { invalidate { $0.hash == hash } }
}
