// Creating folders with mkdir(2), so a failure is a one-line StoreError naming the path and the cause
// (Foundation's createDirectory throws NSCocoaErrorDomain dumps instead).
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Folder creation for the store and for output files.
public enum Folder {
    /// Creates `url` as a folder unless it already is one.
    /// - Parameters:
    ///   - url: the folder.
    ///   - what: how errors name it ("the store folder", "the output folder").
    ///   - parents: whether missing parent folders are created too (`mkdir -p`); without it a missing parent
    ///     is an error (`ENOENT`).
    /// - Throws: `StoreError.cannotCreateFolder` with the system's reason, or `.notAFolder` when a file is in the way.
    public static func create(_ url: URL, what: String = "the folder", parents: Bool = true) throws {
        let path = url.standardizedFileURL.path
        if isFolder(path) { return }
        if mkdir(path, 0o755) == 0 { return }
        let code = errno
        switch code {
        case EEXIST:
            if isFolder(path) { return }  // another process made it meanwhile
            throw StoreError.notAFolder(path: path, what: what)
        case ENOENT where parents && path != "/":
            try create(url.standardizedFileURL.deletingLastPathComponent(), what: what, parents: true)
            if mkdir(path, 0o755) == 0 || (errno == EEXIST && isFolder(path)) { return }
            throw StoreError.cannotCreateFolder(path: path, what: what, errno: errno)
        case ENOTDIR:
            throw StoreError.notAFolder(path: firstNonFolder(above: path) ?? path, what: what)
        default:
            throw StoreError.cannotCreateFolder(path: path, what: what, errno: code)
        }
    }

    /// The folder part of `path` as `dirname` would give it, less a trailing `/` ("" for a bare name, "/" for
    /// `/x`). `NSString.deletingLastPathComponent` traps on a one-character path on Linux (`-o x` crashed the
    /// `thumbnail` command until session 28).
    public static func parent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        var folder = trimmed[..<slash]
        while folder.count > 1, folder.hasSuffix("/") { folder.removeLast() }
        return folder.isEmpty ? "/" : String(folder)
    }

    /// Whether `path` is an existing folder (following symbolic links).
    public static func isFolder(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether anything exists at `path` (following symbolic links).
    public static func exists(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0
    }

    /// The first ancestor of `path` (from the root down) that exists but is not a folder.
    static func firstNonFolder(above path: String) -> String? {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            if exists(current) && !isFolder(current) { return current }
        }
        return nil
    }
}
