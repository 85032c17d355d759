// What uploads/ is when the watcher starts: a folder of the store, or a symbolic link to a folder elsewhere.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// uploads/ as the watcher found it at start.
///
/// A symbolic link is followed only when it is there at start and leads to a folder outside the store (uploads on
/// another disk, as Immich's external library): one into the store (`ln -s thumbnails uploads`) or to a folder
/// holding it would have serve take the store's own files as uploads, again and again. A link that takes uploads/'s
/// place while serve runs is not the folder it started with and is never followed (`UploadWatcher`).
public enum UploadsFolder: Sendable, Equatable {
    /// A folder (or nothing yet: it is made as one).
    case folder
    /// A symbolic link to the folder `target` (its real path), which is the file `device`/`inode`.
    case link(target: String, device: UInt64, inode: UInt64)

    /// What `uploads` is now.
    /// - Parameter uploads: the watched folder; its parent is the store.
    /// - Throws: `StoreError.uploadsLinkIntoStore` when it is a link to the store, a folder in it or a folder
    ///   holding it; `StoreError.notAFolder` when it is a link to no folder (nothing, a file).
    public static func resolve(_ uploads: URL) throws -> UploadsFolder {
        let path = uploads.standardizedFileURL.path
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return .folder }
        var target = stat()
        guard stat(path, &target) == 0, target.st_mode & S_IFMT == S_IFDIR, let real = realPath(path) else {
            throw StoreError.notAFolder(path: "\(path) (a symbolic link to \(linkText(path)))", what: "uploads/")
        }
        let store = realPath(Folder.parent(of: path)) ?? Folder.parent(of: path)
        if isWithin(real, store) || isWithin(store, real) {
            throw StoreError.uploadsLinkIntoStore(link: path, target: real)
        }
        return .link(target: real, device: UInt64(target.st_dev), inode: UInt64(target.st_ino))
    }

    /// Whether `path` leads to the folder this one is: for a link, the same file as at start; for a folder,
    /// a folder that is no link (a new one made in its place counts).
    func isStill(_ path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0 else { return false }
        switch self {
        case .folder:
            return info.st_mode & S_IFMT == S_IFDIR
        case .link(_, let device, let inode):
            var target = stat()
            return info.st_mode & S_IFMT == S_IFLNK && stat(path, &target) == 0 && UInt64(target.st_dev) == device
                && UInt64(target.st_ino) == inode
        }
    }

    /// What the link at `path` holds, as `readlink` gives it ("?" when it cannot be read).
    static func linkText(_ path: String) -> String {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
        let count = buffer.withUnsafeMutableBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { readlink(path, $0.baseAddress!, $0.count) }
        }
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : "?"
    }

    /// `realpath(3)`: the path with every link resolved; nil when it leads nowhere.
    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether `path` is `folder` or lies below it.
    private static func isWithin(_ path: String, _ folder: String) -> Bool {
        folder == "/" || path == folder || path.hasPrefix(folder + "/")
    }
}
