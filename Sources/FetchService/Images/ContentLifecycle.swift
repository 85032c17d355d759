// Content entering and leaving the store through the HTTP API, on the same event path as a dropped file:
// the original is installed content-addressed, then an S3-shaped event fans out to the functions.
import Foundation
import ImageCore
import Logging
import NIOPosix
import PipelineCore
import ThumbnailService

#if canImport(Glibc)
    import Glibc
#endif

/// Installs uploads as originals and removes content no id uses any more.
package struct ContentLifecycle: Sendable {
    let runtime: FunctionRuntime
    let index: any ImageIndex
    /// A writable handle on `originals/`: the fetch service is the HTTP path of ingest.
    let originals: StoreHandle
    let threadPool: NIOThreadPool
    /// The served-file cache, emptied of a content's files once they are removed.
    let cache: FileCache
    /// One content's turn for installing, naming and removing it (see `ContentLocks`).
    let locks: any ContentLocks
    let logger: Logger

    /// Moves a validated spool file into `originals/` (kept as is when the same bytes are there) and journals
    /// `ObjectCreated` for it, which queues the thumbnail and metadata functions.
    /// - Parameters:
    ///   - upload: the spooled, validated file (consumed: moved or removed).
    ///   - event: `ObjectCreated:Put` (POST, PUT) or `ObjectCreated:Copy` (the S3 front door's CopyObject).
    ///   - sourceName: the id, recorded as the event's source name.
    package func install(_ upload: SpooledUpload, event: EventName, sourceName: String) async throws {
        let relative = OriginalName.relativePath(hash: upload.hash, format: upload.format)
        // The spool file stays, linked to the original, until the event is journaled: a process killed in between
        // leaves it behind, and the next start finishes the install from it (`finishInterruptedInstalls`).
        defer { unlink(upload.path) }
        let target = try originals.url(relative)
        let created: Bool = try await threadPool.runIfActive {
            do {
                try Folder.create(target.deletingLastPathComponent())
            } catch StoreError.cannotCreateFolder(let path, _, let code) {
                throw APIError.storeWriteFailed(
                    errno: code, path: path, doing: "store the original", needing: upload.size)
            }
            // link() keeps the first copy when the same bytes arrive twice at once; the spool file was fsynced.
            if link(upload.path, target.path) == 0 { return true }
            guard errno == EEXIST else {
                throw APIError.storeWriteFailed(
                    errno: errno, path: target.path, doing: "store the original", needing: upload.size)
            }
            return false
        }
        var record = S3EventRecord(
            name: event, bucket: runtime.layout.root.lastPathComponent, key: "originals/" + relative, size: upload.size,
            eTag: upload.hash.hex, sequence: 0, sourceName: sourceName)
        // Only an upload that stored the original may see it refused out of the store (the same bytes again may not).
        if created { record.s3.object.newlyStored = true }
        do {
            try runtime.submit(record, deduplicate: true)
        } catch {
            // Nothing is kept of an upload whose event could not be journaled.
            if created { unlink(target.path) }
            switch StoreHealth.shared.recordFailure(error) {
            case .full?: throw APIError.insufficientStorage("journal the upload")
            case .readOnly?: throw APIError.storeReadOnly("journal the upload")
            default: throw APIError.unavailable("the upload could not be journaled, so it was not kept: \(error)")
            }
        }
    }

    /// Dates the content's original and thumbnails now: an id a PUT moved to content stored earlier must not answer
    /// `Last-Modified` older than the move, or a client's `If-Modified-Since` would get a 304 and keep the old
    /// picture. (The bytes stay; only their modification time moves, and the cache reads the files again.)
    package func markChanged(hash: ContentHash, format: ImageFormat) {
        let thumbnails = StoreHandle(
            area: .thumbnails, access: .read, location: runtime.layout.thumbnails, function: "fetch")
        let derivatives = ((try? ThumbnailGenerator.files(of: hash, in: thumbnails)) ?? []).map {
            try? thumbnails.url($0)
        }
        let original = try? originals.url(OriginalName.relativePath(hash: hash, format: format))
        for url in ([original] + derivatives).compactMap({ $0 }) { utimensat(AT_FDCWD, url.path, nil, 0) }
        cache.invalidate(hash: hash)
    }

    /// Runs `body` holding the content's lock (see `ContentLocks`): every change of what names a content and of
    /// whether its original is there goes through here.
    package func exclusively<T: Sendable>(_ hash: ContentHash, _ body: () async throws -> T) async throws -> T {
        try await locks.withLock(on: hash, body)
    }

    /// `exclusively` on several contents at once (a PUT: the one it names and the one the id named before).
    package func exclusively<T: Sendable>(_ hashes: [ContentHash], _ body: () async throws -> T) async throws -> T {
        try await locks.withLocks(on: hashes, body)
    }

    /// Removes a content's original, then its derivatives and metadata, when no id of the index names it any more.
    /// - Returns: whether the content was removed (false: another id still uses it).
    @discardableResult
    package func removeIfUnused(hash: ContentHash, format: ImageFormat, sourceName: String) async -> Bool {
        let removed: RemovedOriginal?
        do {
            removed = try await exclusively(hash) { try removeOriginalIfUnused(hash: hash, format: format) }
        } catch {
            logger.error(
                "could not remove a deleted original", metadata: ["sha256": "\(hash.hex)", "error": "\(error)"])
            return false
        }
        guard let removed else { return false }
        await announceRemoval(removed, sourceName: sourceName)
        return true
    }

    /// Journals the `ObjectRemoved:Delete` of an id whose content another id still names, as S3 notifies one for
    /// every deleted key: the event stream, and so every open gallery, learns of the delete from it (until session
    /// 31 nothing was journaled, and the deleted id's tile stayed in every page). The functions find the original
    /// in the store and keep its thumbnails and metadata.
    package func announceKeptContent(hash: ContentHash, format: ImageFormat, sourceName: String) {
        let relative = OriginalName.relativePath(hash: hash, format: format)
        let record = removalRecord(hash: hash, relative: relative, size: originalSize(relative), sourceName: sourceName)
        do {
            try runtime.submit(record)
        } catch {
            // The id is gone either way; only the notice of it is lost.
            logger.warning(
                "the removal of an id could not be journaled",
                metadata: ["id": "\(sourceName)", "sha256": "\(hash.hex)", "error": "\(error)"])
        }
    }

    /// An original removed from the store whose removal the functions have yet to hear of.
    package struct RemovedOriginal: Sendable {
        let hash: ContentHash
        let relative: String
        let size: Int
    }

    /// Removes a content's original when no id of the index names it. Call it holding the content's lock
    /// (`exclusively`), then `announceRemoval` after letting go: the functions' clean-up is slow, the lock brief.
    ///
    /// The original goes first: a function still working on an earlier `ObjectCreated` of the same content checks
    /// that the original exists after it wrote, and removes what it wrote when it does not, so a delete wins over
    /// work that finishes after it. - Returns: what was removed (`nil`: another id still uses it). - Throws: when
    /// the index cannot be read (nothing is removed: another id may name the content), and `APIError` 503 or 500
    /// when the original cannot be removed (a read-only store): nothing was, and the caller puts back what it
    /// changed (until session 37 the error was logged and the removal went on, so a DELETE answered 204 and the
    /// picture stayed, served).
    package func removeOriginalIfUnused(hash: ContentHash, format: ImageFormat) throws -> RemovedOriginal? {
        guard try index.ids(using: hash).isEmpty else { return nil }
        let relative = OriginalName.relativePath(hash: hash, format: format)
        let size = originalSize(relative)
        let target = try originals.url(relative)
        if unlink(target.path) != 0, errno != ENOENT {
            throw APIError.storeRemovalFailed(errno: errno, path: target.path, doing: "remove the original \(relative)")
        }
        cache.invalidate(hash: hash)
        runtime.layout.forgetS3ObjectRecord(of: hash.hex)
        return RemovedOriginal(hash: hash, relative: relative, size: size)
    }

    /// Removes the original of a content that the id `id` alone names, before the id's entry goes: on a full disk
    /// its space lets the delete's own writes (the index's, the journal's) through. Call it holding the content's
    /// lock. If the entry's removal still fails, the id is left naming a gone original, which a later DELETE removes.
    /// - Returns: what was removed (`nil`: another id names the content, or the original could not be removed).
    package func removeOriginalToFreeSpace(hash: ContentHash, format: ImageFormat, namedOnlyBy id: String) throws
        -> RemovedOriginal?
    {
        guard try index.ids(using: hash) == [id] else { return nil }
        let relative = OriginalName.relativePath(hash: hash, format: format)
        let size = originalSize(relative)
        guard (try? originals.remove(relative)) != nil else { return nil }
        cache.invalidate(hash: hash)
        runtime.layout.forgetS3ObjectRecord(of: hash.hex)
        return RemovedOriginal(hash: hash, relative: relative, size: size)
    }

    /// The `ObjectRemoved:Delete` of the original at `relative`, named as it arrived (`sourceName`).
    private func removalRecord(hash: ContentHash, relative: String, size: Int, sourceName: String) -> S3EventRecord {
        S3EventRecord(
            name: .objectRemovedDelete, bucket: runtime.layout.root.lastPathComponent, key: "originals/" + relative,
            size: size, eTag: hash.hex, sequence: 0, sourceName: sourceName)
    }

    /// The size of the original at `relative` (0 when it cannot be read).
    private func originalSize(_ relative: String) -> Int {
        (try? originals.url(relative)).flatMap { url in
            (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? nil
        } ?? 0
    }

    /// Settles a removed original's dead letters and lets the subscribed functions run its `ObjectRemoved:Delete`
    /// now (RequestResponse), one event for them all, so the answer means it is done; a function that fails gets its
    /// invocation queued for retries.
    package func announceRemoval(_ removed: RemovedOriginal, sourceName: String) async {
        let hash = removed.hash
        // Deleted on purpose: its dead letters (a thumbnail that timed out, a refused copy) are settled with it.
        let failedArea = StoreHandle(
            area: .failed, access: .write, location: runtime.layout.failed, function: "fetch")
        let settled = DeadLetter.settle(sha256: hash.hex, in: failedArea)
        if !settled.isEmpty {
            logger.notice(
                "dead letters of a deleted image removed",
                metadata: ["sha256": "\(hash.hex)", "letters": "\(settled.joined(separator: ","))"])
        }
        let record = removalRecord(hash: hash, relative: removed.relative, size: removed.size, sourceName: sourceName)
        do {
            let failed = try await runtime.invokeSubscribers(record)
            if !failed.isEmpty {
                logger.warning(
                    "a function failed to clean up a deleted image; its invocation is queued for retries",
                    metadata: ["sha256": "\(hash.hex)", "functions": "\(failed.joined(separator: ","))"])
            }
        } catch {
            // Nothing ran (the journal refused the event, or the process is being interrupted): queued instead.
            logger.warning(
                "a deleted image's event could not be run now; it is queued",
                metadata: ["sha256": "\(hash.hex)", "error": "\(error)"])
            _ = try? runtime.submit(record)
        }
        cache.invalidate(hash: hash)
    }
}
