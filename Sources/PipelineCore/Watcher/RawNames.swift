// A folder's entries as the bytes the file system holds, and the renaming of one that is not UTF-8: Foundation's
// listing and Swift strings cannot name such an entry (a path decoded with U+FFFD opens nothing).
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Folder entries by their bytes.
enum RawNames {
    /// The names in `folder` (without `.` and `..`), as bytes; nil when it cannot be read.
    static func list(_ folder: String) -> [[UInt8]]? {
        var failure: Int32 = 0
        return list(folder, failure: &failure)
    }

    /// The names in `folder` (without `.` and `..`), as bytes; nil when it cannot be read, with why in `failure`
    /// (the errno of `opendir`).
    static func list(_ folder: String, failure: inout Int32) -> [[UInt8]]? {
        guard let directory = opendir(folder) else {
            failure = errno
            return nil
        }
        defer { closedir(directory) }
        var names: [[UInt8]] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name != [UInt8(ascii: ".")] && name != [UInt8(ascii: "."), UInt8(ascii: ".")] { names.append(name) }
        }
        return names
    }

    /// The names of `entries` that are UTF-8, as strings, and the others, as bytes.
    static func splitByUTF8(_ entries: [[UInt8]]) -> (names: [String], notUTF8: [[UInt8]]) {
        var names: [String] = []
        var notUTF8: [[UInt8]] = []
        for entry in entries {
            if let name = String(validating: entry, as: UTF8.self) { names.append(name) } else { notUTF8.append(entry) }
        }
        return (names, notUTF8)
    }

    /// Renames the entry `name` of `folder`, whose name is not UTF-8, to `UploadName.utf8Repaired` (numbered
    /// `NAME.2.EXT`, … when taken; never over another entry).
    /// - Returns: the new name; nil when it could not be renamed (logged) or its new name is an ignored one (a dotfile,
    ///   `*.part`: someone's work in progress, left alone like any such name).
    static func repair(_ name: [UInt8], in folder: String, logger: Logger) -> String? {
        guard let repaired = UploadName.utf8Repaired(name), !UploadName.isIgnored(repaired),
            let info = status(name, in: folder)
        else { return nil }
        let old = path(name, in: folder)
        var failure: Int32 = 0
        for attempt in 1...100 {
            let chosen = attempt == 1 ? repaired : DeadLetter.numbered(repaired, attempt)
            switch move(old, isFolder: info.st_mode & S_IFMT == S_IFDIR, to: folder + "/" + chosen) {
            case .moved:
                logger.warning(
                    "upload renamed: its name is not UTF-8", metadata: ["folder": "\(folder)", "name": "\(chosen)"])
                return chosen
            case .taken:
                continue
            case .failed(let number):
                failure = number
            }
            break
        }
        logger.error(
            "cannot rename an upload whose name is not UTF-8",
            metadata: ["folder": "\(folder)", "name": "\(repaired)", "errno": "\(failure)"])
        return nil
    }

    /// How long a folder whose name is not UTF-8 must be left unchanged before it is renamed.
    static let settledFolderAge: Double = 2

    /// Whether the entry is a folder changed in the last `settledFolderAge` seconds.
    static func isUnsettledFolder(_ name: [UInt8], in folder: String) -> Bool {
        guard let info = status(name, in: folder), info.st_mode & S_IFMT == S_IFDIR else { return false }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let age = Double(now.tv_sec - info.st_mtim.tv_sec) + Double(now.tv_nsec - info.st_mtim.tv_nsec) / 1e9
        return age < settledFolderAge
    }

    /// Whether the entry is a folder (not a link to one).
    static func isFolder(_ name: [UInt8], in folder: String) -> Bool {
        status(name, in: folder).map { $0.st_mode & S_IFMT == S_IFDIR } ?? false
    }

    /// The entry's NUL-terminated path.
    private static func path(_ name: [UInt8], in folder: String) -> [CChar] {
        (Array(folder.utf8) + [UInt8(ascii: "/")] + name + [0]).map { CChar(bitPattern: $0) }
    }

    /// The entry's `lstat`, nil when it is gone.
    private static func status(_ name: [UInt8], in folder: String) -> stat? {
        var info = stat()
        return lstat(path(name, in: folder), &info) == 0 ? info : nil
    }

    private enum Move {
        case moved, taken
        case failed(errno: Int32)
    }

    /// Moves the entry at `old` to `new` unless `new` exists.
    private static func move(_ old: [CChar], isFolder: Bool, to new: String) -> Move {
        if isFolder {
            // No hard links to folders: looked at first (only an entry of exactly this name made in between is lost
            // to the race, and then to nothing: rename replaces only an empty folder).
            var existing = stat()
            if lstat(new, &existing) == 0 { return .taken }
            return rename(old, new) == 0 ? .moved : .failed(errno: errno)
        }
        // Linked under the new name (which fails when it is taken), then unlinked under the old one.
        guard link(old, new) == 0 else { return errno == EEXIST ? .taken : .failed(errno: errno) }
        unlink(old)
        return .moved
    }
}
