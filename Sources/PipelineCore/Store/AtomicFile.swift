// Every file the store writes goes through here: temp name in the same folder, fsync, rename.
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Atomic file writes: a reader sees the old file, the new file, or nothing; never a partial file.
public enum AtomicFile {
    /// The prefix of temporary files, so a start-up sweep can remove what a crash left behind.
    public static let temporaryPrefix = ".picpipe-tmp-"

    /// A new temporary file name: the prefix, then `HOST-PID-` of the writer, then a UUID, so a sweep can tell
    /// a file a live process is still writing (another `batch`, `serve` or worker on this store) from one a crash
    /// left behind.
    public static func temporaryName(kind: String = "") -> String {
        temporaryPrefix + kind + TemporaryOwner.current.tag + "-" + UUID().uuidString
    }

    /// Writes `bytes` to `url` atomically, creating the parent folder if needed (the store's hash-prefix folders)
    /// unless `createFolder` is false (a file the user named: its folder must exist).
    ///
    /// Errors name `url`, not the temporary file written first (until session 27 they named `.picpipe-tmp-…`).
    /// - Parameter direct: whether a large page-aligned buffer may go to the disk past the page cache (`DirectWrite`,
    ///   less CPU); `false` for a file that is read again at once (an upload's original, which `serve`'s functions
    ///   read right after the ingest: from the page cache instead of the disk).
    /// - Returns: `false` when `url` already existed and `overwrite` is false (nothing written).
    @discardableResult
    public static func write(
        _ bytes: UnsafeRawBufferPointer, to url: URL, overwrite: Bool = true, direct: Bool = true,
        createFolder: Bool = true
    ) throws -> Bool {
        do {
            let wrote = try unreportedWrite(
                bytes, to: url, overwrite: overwrite, direct: direct, createFolder: createFolder)
            // Still full after a small write: has space come back meanwhile (one statvfs, only while full)?
            if StoreHealth.shared.recordSuccess(bytes: bytes.count) {
                StoreHealth.shared.recheckFreeSpace(at: url.deletingLastPathComponent().path)
            }
            return wrote
        } catch {
            StoreHealth.shared.recordFailure(error, needing: bytes.count)
            throw error
        }
    }

    private static func unreportedWrite(
        _ bytes: UnsafeRawBufferPointer, to url: URL, overwrite: Bool, direct allowed: Bool, createFolder: Bool
    ) throws -> Bool {
        let folder = url.deletingLastPathComponent()
        if !overwrite, FileManager.default.fileExists(atPath: url.path) { return false }
        if createFolder { try Folder.create(folder) }
        let temp = folder.appendingPathComponent(temporaryName())
        let (fd, direct) = DirectWrite.create(temp.path, direct: allowed && DirectWrite.suits(bytes))
        guard fd >= 0 else { throw StoreError.io(path: url.path, operation: "create", errno: errno) }
        var ok = false
        defer {
            if !ok { unlink(temp.path) }
        }
        do {
            defer { close(fd) }
            do {
                try DirectWrite.writeAll(bytes, to: fd, direct: direct)
            } catch {
                throw StoreError.io(path: url.path, operation: "write", errno: error.errno)
            }
            guard fsync(fd) == 0 else { throw StoreError.io(path: url.path, operation: "fsync", errno: errno) }
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
    public static func write(
        _ bytes: [UInt8], to url: URL, overwrite: Bool = true, createFolder: Bool = true
    ) throws -> Bool {
        try bytes.withUnsafeBytes { try write($0, to: url, overwrite: overwrite, createFolder: createFolder) }
    }

    /// Writes `Data` atomically.
    @discardableResult
    public static func write(
        _ data: Data, to url: URL, overwrite: Bool = true, direct: Bool = true, createFolder: Bool = true
    ) throws -> Bool {
        try data.withUnsafeBytes {
            try write($0, to: url, overwrite: overwrite, direct: direct, createFolder: createFolder)
        }
    }

    /// Removes temporary files a crash left in `folder` and its subfolders; returns how many.
    ///
    /// Only stale ones go (`TemporaryOwner.isStale`): a file that a live process on this host is writing, or
    /// that another host wrote in the last hour, is left alone, so a sweep never breaks a concurrent writer.
    ///
    /// The walk is `readdir` with each entry's type, and a name becomes a `URL` only when it has the prefix: it
    /// runs beside every `serve` start, and Foundation's enumerator, which makes a `URL` of every file, took a
    /// core for tens of milliseconds on a store of 10,000 pictures (40,000 files), while the start needs both.
    /// Symbolic links are not followed.
    @discardableResult
    public static func sweepTemporaries(in folder: URL, now: Date = Date()) -> Int {
        let prefix = Array(temporaryPrefix.utf8CString.dropLast())  // without the terminating NUL
        var removed = 0
        var folders = [folder.path]
        while let path = folders.popLast() {
            guard let directory = opendir(path) else { continue }
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                let (name, isTemporary) = withUnsafeBytes(of: &entry.pointee.d_name) { raw -> (String?, Bool) in
                    let bytes = raw.bindMemory(to: CChar.self)
                    let length = strnlen(bytes.baseAddress!, bytes.count)
                    let isTemporary = length >= prefix.count && memcmp(bytes.baseAddress!, prefix, prefix.count) == 0
                    let dots = length <= 2 && bytes[0] == 0x2E && (length == 1 || bytes[1] == 0x2E)
                    var type = entry.pointee.d_type
                    if type == UInt8(DT_UNKNOWN) {
                        var info = stat()
                        let full = path + "/" + String(cString: bytes.baseAddress!)
                        type = lstat(full, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR ? UInt8(DT_DIR) : 0
                    }
                    let descend = type == UInt8(DT_DIR) && !dots
                    return (isTemporary || descend ? String(cString: bytes.baseAddress!) : nil, isTemporary && !descend)
                }
                guard let name else { continue }
                let full = path + "/" + name
                if !isTemporary {
                    folders.append(full)
                    continue
                }
                guard TemporaryOwner.isStale(URL(fileURLWithPath: full), now: now) else { continue }
                if unlink(full) == 0 { removed += 1 }
            }
        }
        return removed
    }
}
