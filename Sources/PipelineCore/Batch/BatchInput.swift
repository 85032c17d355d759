// Finding the inputs of a batch: every JPEG and PNG under the given files and folders.
import Foundation
import ImageCore

#if canImport(Glibc)
    import Glibc
#endif

/// One file a batch will process.
public struct BatchInput: Sendable, Hashable {
    /// The path as found (under an input folder, or as named).
    public var path: String

    /// - Parameter path: the file's path.
    public init(path: String) { self.path = path }

    /// Extensions that announce an image: such a file is processed (and fails if its bytes are not JPEG/PNG).
    static let imageExtensions: Set<String> = [
        "jpg", "jpeg", "jpe", "jfif", "png", "webp", "gif", "heic", "heif", "hif", "avif",
    ]

    /// What `discover` found.
    public struct Discovery: Sendable {
        /// The files to process, in a stable order.
        public var inputs: [BatchInput] = []
        /// Paths named on the command line that do not exist.
        public var missing: [String] = []
        /// Entries under the folders that were passed over, each with why (a broken symbolic link, a loop).
        public var passedOver: [String] = []
        /// Folders and paths the batch may not read (a folder it may not list or enter, a path through one), each
        /// with why: every one is a failure of the batch, for the pictures in it are not taken.
        public var unreadable: [BatchSummary.Failure] = []
    }

    /// Every input under `paths`, recursively, in a stable order.
    ///
    /// A file named on the command line is always taken. Under a folder, a file is taken when its bytes
    /// are an image picpipe reads (sniffed, whatever its name) or its name claims an image extension; dotfiles and
    /// other files are left alone. Symbolic links are followed, to files and to folders (a folder
    /// already searched, known by device and inode, is not entered again, so a link loop ends).
    /// - Parameter store: the store the batch writes to: nothing in it is an input (a folder holding the store
    ///   would otherwise bring its thumbnails back as new originals, more at every run).
    public static func discover(_ paths: [String], store: String? = nil) -> Discovery {
        var discovery = Discovery()
        // Files and folders by device and inode, across every input: the same folder given twice under two
        // spellings (`d ./d`, or a link to it) is searched once and its files taken once (until session 29 each
        // input kept its own, so such a batch counted and reported every file twice). Paths by their bytes too:
        // the NFC and NFD spellings of one name are two files.
        var seen = Set<FileIdentity>()
        // The store, resolved, and its folder's identity: a walk that meets it, or anything in it, passes it over.
        let own: OwnStore? = store.flatMap(Self.resolved).flatMap { root in
            var status = stat()
            return stat(root, &status) == 0 ? OwnStore(root: root, identity: FileIdentity(status)) : nil
        }
        var visited: Set<FileIdentity> = []
        if let own { visited.insert(own.identity) }
        func take(_ file: String, _ status: stat) {
            if seen.insert(FileIdentity(status)).inserted { discovery.inputs.append(BatchInput(path: file)) }
        }
        for path in paths {
            var status = stat()
            guard stat(path, &status) == 0 else {
                // A path through a folder picpipe's user may not enter exists, maybe: not "no such file" (until
                // session 31 it was, with exit 2).
                if errno == EACCES {
                    discovery.unreadable.append(.init(file: path, error: Self.unreachable))
                } else {
                    discovery.missing.append(path)
                }
                continue
            }
            let real = Self.resolved(path) ?? path
            if let own, own.holds(real) {
                discovery.passedOver.append("\(path): \(own.reason(real))")
                continue
            }
            if (status.st_mode & S_IFMT) != S_IFDIR {
                take(path, status)
                continue
            }
            guard visited.insert(FileIdentity(status)).inserted else {
                discovery.passedOver.append("\(path): the folder was already searched (given twice, or a link to it)")
                continue
            }
            var found: [String] = []
            walk(
                folder: path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path, real: real,
                found: &found, visited: &visited, discovery: &discovery, store: own)
            for file in found.sorted(by: Self.byBytes) {
                var status = stat()
                if stat(file, &status) == 0 { take(file, status) }
            }
        }
        return discovery
    }

    /// Orders paths by their bytes: a total order even between names Swift's `String` takes for equal (the NFC and
    /// NFD spellings of one name), so the batch's order is the same at every run.
    static func byBytes(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    /// A file's identity: its device and inode.
    struct FileIdentity: Hashable {
        var device: UInt64
        var inode: UInt64
        init(_ status: stat) {
            device = UInt64(status.st_dev)
            inode = UInt64(status.st_ino)
        }
    }

    /// The store a batch writes to, as the walk knows it: its real path and its folder's device and inode.
    struct OwnStore {
        var root: String
        var identity: FileIdentity

        /// Whether a real path (every link resolved) is the store or lies inside it.
        func holds(_ real: String) -> Bool {
            real == root || real.hasPrefix(root.hasSuffix("/") ? root : root + "/")
        }

        /// Why an entry whose real path is `real` is passed over.
        func reason(_ real: String) -> String {
            let place = real == root ? root : "\(root); it is \(real)"
            return "in the store this batch writes to (\(place)): picpipe's own originals and thumbnails are not inputs"
        }
    }

    /// Collects the candidate files under `folder` (following symbolic links), skipping dotfiles.
    ///
    /// Every entry is compared with the store by where it really is (`real`, the folder's path with every link
    /// resolved, and for a link the path it resolves to), not by its name: a link in an input folder to the store's
    /// thumbnails, or to one original, is passed over like the store itself (until session 31 only a folder with
    /// the store root's device and inode was, so `ln -s ../store/thumbnails in/thumbs` fed the thumbnails back in as
    /// new originals, more at every run).
    ///
    /// A folder that cannot be listed, or listed but not entered (mode `r--`), is a failure with its reason in
    /// `discovery.unreadable` (until session 31 it was passed over with a note, and a batch that left out a folder
    /// of pictures it may not read exited 0 with "0 failed").
    static func walk(
        folder: String, real: String, found: inout [String], visited: inout Set<FileIdentity>,
        discovery: inout Discovery, store: OwnStore? = nil
    ) {
        var failure: Int32 = 0
        guard var entries = RawNames.list(folder, failure: &failure) else {
            discovery.unreadable.append(.init(file: folder, error: Self.unreadableFolder(failure)))
            return
        }
        entries.removeAll { $0.first == UInt8(ascii: ".") }
        if !entries.isEmpty, faccessat(AT_FDCWD, folder, X_OK, AT_EACCESS) != 0 {
            discovery.unreadable.append(.init(file: folder, error: Self.unreadableFolder(errno)))
            return
        }
        let (names, notUTF8) = RawNames.splitByUTF8(entries)
        for entry in notUTF8 {
            guard let shown = UploadName.utf8Repaired(entry) else { continue }
            // No path string names it (a batch leaves its inputs' names alone; the watcher renames uploads).
            let path = folder.hasSuffix("/") ? folder + shown : folder + "/" + shown
            discovery.passedOver.append(
                "\(path): its name is not UTF-8 (the bytes shown as %XX); rename it to take it in")
        }
        for name in names.sorted() {
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            var status = stat()
            guard stat(path, &status) == 0 else {
                if errno == EACCES {
                    // A link into a folder picpipe's user may not enter.
                    discovery.unreadable.append(.init(file: path, error: Self.unreachable))
                } else {
                    discovery.passedOver.append("\(path): a broken symbolic link or an unreadable entry")
                }
                continue
            }
            var link = stat()
            let isLink = lstat(path, &link) == 0 && (link.st_mode & S_IFMT) == S_IFLNK
            let entryReal = isLink ? (Self.resolved(path) ?? path) : (real.hasSuffix("/") ? real : real + "/") + name
            // The identity too: the store's folder reached by a path realpath does not see through (a bind mount).
            if let store, store.holds(entryReal) || store.identity == FileIdentity(status) {
                discovery.passedOver.append("\(path): \(store.reason(entryReal))")
                continue
            }
            switch status.st_mode & S_IFMT {
            case S_IFDIR:
                guard visited.insert(FileIdentity(status)).inserted else {
                    discovery.passedOver.append(
                        "\(path): the folder was already searched "
                            + "(given as an input too, another link to it, or a link loop)")
                    continue
                }
                walk(
                    folder: path, real: entryReal, found: &found, visited: &visited, discovery: &discovery,
                    store: store)
            case S_IFREG:
                if imageExtensions.contains((name as NSString).pathExtension.lowercased()) || sniffsAsImage(path) {
                    found.append(path)
                }
            default:
                // Never inputs (a pipe would block its reader), but said: it may be what the user meant to import.
                discovery.passedOver.append(
                    "\(path): \(FileKind.special(status.st_mode) ?? "not a file"), not a regular file")
            }
        }
    }

    /// Why a folder could not be read (`code`: the errno of opening or entering it).
    static func unreadableFolder(_ code: Int32) -> String {
        guard code == EACCES || code == EPERM else {
            return "cannot read the folder: \(String(cString: strerror(code))); the pictures in it are not taken"
        }
        return "cannot read the folder: permission denied; picpipe runs as \(UploadIngest.userName), who may not "
            + "read or enter it: the pictures in it are not taken; make it readable (chmod a+rx) or run picpipe as "
            + "its owner"
    }

    /// Why a path behind a folder picpipe's user may not enter is not read.
    static var unreachable: String {
        "permission denied: picpipe runs as \(UploadIngest.userName), who may not enter a folder on its path; make "
            + "the folders readable (chmod a+rx) or run picpipe as their owner"
    }

    /// The path with every link and `.`/`..` resolved (`realpath`); nil when it does not exist.
    static func resolved(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    /// Whether the first bytes of the file are an image picpipe reads (64 bytes hold a HEIF's brands).
    static func sniffsAsImage(_ path: String) -> Bool {
        // O_NONBLOCK: should a named pipe have taken the file's place since its stat, it is not waited on.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 64)
        let count = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return false }
        return head[..<count].withUnsafeBytes { ImageFormat.sniff($0) } != nil
    }
}
