// Small objects (thumbnails) held in memory with what GetObject answers with, so a presigned GET that hits costs a
// signature check and no file I/O, as the HTTP API's FileCache does for its thumbnail GETs.
import FetchService

/// Small objects of `originals` and `thumbnails` by path (`PathCache`). An entry is trusted for 1 s (the HTTP
/// API's figure): the first request after that has the object read again (and is itself answered from the entry),
/// so a removal by another door (HTTP DELETE, a dropped file) is seen by the requests after it; the S3 API's own
/// writes and deletes empty the cache at once (`removeAll`), since they may also change an original's recorded
/// metadata.
typealias S3ObjectCache = PathCache<S3API.ObjectInfo>

extension PathCache where Value == S3API.ObjectInfo {
    /// Keeps an object read whole from disk (not when a `removeAll` happened since `generation` was taken).
    func insert(_ info: S3API.ObjectInfo, readAt: ContinuousClock.Instant, generation: UInt64) {
        guard let bytes = info.bytes else { return }
        insert(info.file.path, info, size: bytes.readableBytes, readAt: readAt, generation: generation)
    }
}
