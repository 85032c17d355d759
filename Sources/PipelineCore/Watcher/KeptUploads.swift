// Uploads ingested but left where they are, as picpipe may not remove them: remembered so a rescan does not read them
// again and again.
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The uploads ingested that could not be removed (their folder is not writable for picpipe's user), each with what it
/// and its folder were then: one is taken again only once it or its folder changed.
final class KeptUploads: Sendable {
    /// A file's identity and last change, and its folder's last change (a chmod or chown of the folder moves it).
    private struct Stamp: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64
        var folderChanged: Int64
    }

    private let kept = Mutex<[PathKey: Stamp]>([:])

    /// Remembers the upload at `path` as it is now (`status`, its `lstat`).
    /// - Returns: false when it was already remembered just so (its warning was given).
    func keep(_ path: String, _ status: stat) -> Bool {
        guard let stamp = Self.stamp(path, status) else { return false }
        return kept.withLock { $0.updateValue(stamp, forKey: PathKey(path)) != stamp }
    }

    /// Whether the upload at `path`, now `status`, is one kept unchanged (nor its folder changed).
    func isKept(_ path: String, _ status: stat) -> Bool {
        guard kept.withLock({ !$0.isEmpty }) else { return false }
        let stamp = Self.stamp(path, status)
        return kept.withLock { remembered in
            guard let known = remembered[PathKey(path)] else { return false }
            if known == stamp { return true }
            remembered[PathKey(path)] = nil
            return false
        }
    }

    private static func stamp(_ path: String, _ status: stat) -> Stamp? {
        var folder = stat()
        guard lstat(Folder.parent(of: path), &folder) == 0 else { return nil }
        return Stamp(
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int64(status.st_size),
            modified: Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec),
            folderChanged: Int64(folder.st_ctim.tv_sec) * 1_000_000_000 + Int64(folder.st_ctim.tv_nsec))
    }
}
