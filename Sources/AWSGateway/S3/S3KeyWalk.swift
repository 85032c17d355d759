// A bucket's objects in S3's key order, read from its folder lazily: only the folders a listing's prefix and
// start-after can reach, each file looked at (stat) only when the listing may need it, and the walk stops when the
// page is full. Until session 29 every ListObjects request enumerated and stat'ed the whole bucket and sorted it,
// whatever its prefix or max-keys: a one-key list of `thumbnails` took 1.3-2 s at 11,500 thumbnails, and paging
// through a bucket cost N²/1000 stats.
import Foundation
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// The objects of a bucket whose keys start with `prefix` and sort after `after`, in key order (UTF-8 bytes).
///
/// A folder's entries are visited in the order of their names, a folder's name with its `/`: that is the order of
/// the full keys, as `/` sorts before every byte a key's component may hold after it (a file `a-c` comes before the
/// folder `a/`, whose keys start `a/`). A folder whose keys all sort before `after` is not entered. With a
/// `collapsing` delimiter of `/`, a folder past the prefix becomes one common prefix in the page, so only its first
/// object is needed: the rest of it is passed over.
struct S3KeyWalk: Sequence, IteratorProtocol {
    typealias Element = (key: String, size: Int, modified: Date)

    private struct Frame {
        /// The folder's path on disk.
        var path: String
        /// Its key with the trailing `/` ("" for the bucket's folder).
        var key: [UInt8]
        /// Its entries still to visit, in key order.
        var entries: [Entry]
        var next = 0
    }

    private struct Entry {
        var name: String
        /// The entry's full key (a folder's with its trailing `/`).
        var key: [UInt8]
        var isFolder: Bool
    }

    private let prefix: [UInt8]
    private let after: [UInt8]
    private let collapsing: Bool
    /// Which keys are objects (`nil`: every file): a file it refuses is passed over before it can stand for its
    /// folder's common prefix.
    private let including: ((String) -> Bool)?
    private var stack: [Frame] = []
    /// The depth of the frame of a folder that collapses into one common prefix, while its first object is sought.
    private var collapsedAt: Int?
    /// How many files were looked at (a `stat` each): what a listing costs, which tests hold to the page.
    private(set) var filesLooked = 0

    /// - Parameters:
    ///   - root: the bucket's folder.
    ///   - prefix: only keys starting with it.
    ///   - after: only keys sorting after it ("" for all).
    ///   - delimiter: the listing's delimiter; `/` lets a folder past the prefix be passed over after its first object.
    ///   - including: which keys are objects (`nil`: every file; the `thumbnails` bucket's are the recipes in force).
    init(root: URL, prefix: String, after: String, delimiter: String?, including: ((String) -> Bool)? = nil) {
        self.including = including
        self.prefix = Array(prefix.utf8)
        self.after = Array(after.utf8)
        collapsing = delimiter == "/"
        // Start in the deepest folder the prefix names whole ("128/ab/" for "128/ab/cd"), when it is a plain path.
        let folders = prefix.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropLast()
        guard folders.allSatisfy({ $0.first.map { $0 != UInt8(ascii: ".") } ?? false }) else { return }
        let start = folders.map { String(decoding: $0, as: UTF8.self) }
        let key = start.isEmpty ? [] : Array((start.joined(separator: "/") + "/").utf8)
        let path = ([root.standardizedFileURL.path] + start).joined(separator: "/")
        if let entries = Self.entries(of: path, key: key) { stack = [Frame(path: path, key: key, entries: entries)] }
    }

    mutating func next() -> Element? {
        while let depth = stack.indices.last {
            guard stack[depth].next < stack[depth].entries.count else {
                stack.removeLast()
                if collapsedAt == depth { collapsedAt = nil }  // a folder without an object: no common prefix
                continue
            }
            let entry = stack[depth].entries[stack[depth].next]
            stack[depth].next += 1
            let path = stack[depth].path + "/" + entry.name
            if entry.isFolder {
                // Entered when keys below it may start with the prefix and sort after `after`.
                guard entry.key.starts(with: prefix) || prefix.starts(with: entry.key) else { continue }
                if !after.isEmpty, entry.key.lexicographicallyPrecedes(after), !after.starts(with: entry.key) {
                    continue
                }
                guard let entries = Self.entries(of: path, key: entry.key) else { continue }
                if collapsing, collapsedAt == nil, entry.key.starts(with: prefix) { collapsedAt = stack.count }
                stack.append(Frame(path: path, key: entry.key, entries: entries))
                continue
            }
            guard entry.key.starts(with: prefix), after.isEmpty || after.lexicographicallyPrecedes(entry.key) else {
                continue
            }
            let key = String(decoding: entry.key, as: UTF8.self)
            guard including?(key) ?? true else { continue }
            var status = stat()
            filesLooked += 1
            guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
            guard S3Bucket.isSafe(key) else { continue }
            if let collapsed = collapsedAt {
                // One object stands for its folder's common prefix: the rest of the folder is not needed.
                stack.removeSubrange(collapsed...)
                collapsedAt = nil
            }
            let modified =
                Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1_000_000_000
            return (key, Int(status.st_size), Date(timeIntervalSince1970: modified))
        }
        return nil
    }

    /// A folder's entries in key order: regular files and folders (by the entry's type, not followed through a
    /// link), hidden and ignored names (temporary files) left out; nil when it cannot be read.
    private static func entries(of path: String, key: [UInt8]) -> [Entry]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var entries: [Entry] = []
        while let found = readdir(directory) {
            let type = found.pointee.d_type
            let bytes = withUnsafeBytes(of: &found.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            guard bytes.first != UInt8(ascii: "."), let name = String(validating: bytes, as: UTF8.self),
                !UploadName.isIgnored(name)
            else { continue }
            var isFolder = type == UInt8(DT_DIR)
            if type == UInt8(DT_UNKNOWN) {
                var status = stat()
                guard lstat(path + "/" + name, &status) == 0 else { continue }
                isFolder = status.st_mode & S_IFMT == S_IFDIR
            } else if !isFolder, type != UInt8(DT_REG) {
                continue
            }
            entries.append(
                Entry(name: name, key: key + bytes + (isFolder ? [UInt8(ascii: "/")] : []), isFolder: isFolder))
        }
        return entries.sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }
}
