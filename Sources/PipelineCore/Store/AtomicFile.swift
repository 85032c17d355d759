// Every file the store writes goes through here: temp name in the same folder, fsync, rename.
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Atomic file writes: a reader sees the old file, the new file, or nothing; never a partial file.
public enum AtomicFile {
    /// The prefix of temporary files, so a start-up sweep can remove what a crash left behind.
    public static let temporaryPrefix = ".picpipe-tmp-"

    /// Writes `bytes` to `url` atomically, creating the parent folder if needed.
    /// - Returns: `false` when `url` already existed and `overwrite` is false (nothing written).
    @discardableResult
    public static func write(_ bytes: UnsafeRawBufferPointer, to url: URL, overwrite: Bool = true) throws -> Bool {
        let folder = url.deletingLastPathComponent()
        if !overwrite, FileManager.default.fileExists(atPath: url.path) { return false }
        try Folder.create(folder)
        let temp = folder.appendingPathComponent(temporaryPrefix + UUID().uuidString)
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.io(path: temp.path, operation: "create", errno: errno) }
        var ok = false
        defer {
            if !ok { unlink(temp.path) }
        }
        do {
            defer { close(fd) }
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StoreError.io(path: temp.path, operation: "write", errno: errno)
                }
                offset += n
            }
            guard fsync(fd) == 0 else { throw StoreError.io(path: temp.path, operation: "fsync", errno: errno) }
        }
        if !overwrite {
            // link() fails if the target exists: first writer wins, no clobbering of a concurrent writer.
            if link(temp.path, url.path) != 0 {
                if errno == EEXIST { return false }
                throw StoreError.io(path: url.path, operation: "link", errno: errno)
            }
            unlink(temp.path)
        } else if rename(temp.path, url.path) != 0 {
            throw StoreError.io(path: url.path, operation: "rename", errno: errno)
        }
        ok = true
        return true
    }

    /// Writes an array of bytes atomically.
    @discardableResult
    public static func write(_ bytes: [UInt8], to url: URL, overwrite: Bool = true) throws -> Bool {
        try bytes.withUnsafeBytes { try write($0, to: url, overwrite: overwrite) }
    }

    /// Writes `Data` atomically.
    @discardableResult
    public static func write(_ data: Data, to url: URL, overwrite: Bool = true) throws -> Bool {
        try data.withUnsafeBytes { try write($0, to: url, overwrite: overwrite) }
    }

    /// Removes temporary files a crash left in `folder` and its subfolders; returns how many.
    @discardableResult
    public static func sweepTemporaries(in folder: URL) -> Int {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return 0 }
        var removed = 0
        for case let url as URL in walker where url.lastPathComponent.hasPrefix(temporaryPrefix) {
            if (try? FileManager.default.removeItem(at: url)) != nil { removed += 1 }
        }
        return removed
    }
}
