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
        // The store, resolved, and its folder's identity: a walk that meets it passes it over.
        let own: (root: String, identity: FileIdentity)? = store.flatMap(Self.resolved).flatMap { root in
            var status = stat()
            return stat(root, &status) == 0 ? (root, FileIdentity(status)) : nil
        }
        var visited: Set<FileIdentity> = []
        if let own { visited.insert(own.identity) }
        func take(_ file: String, _ status: stat) {
            if seen.insert(FileIdentity(status)).inserted { discovery.inputs.append(BatchInput(path: file)) }
        }
        for path in paths {
            var status = stat()
            guard stat(path, &status) == 0 else {
                discovery.missing.append(path)
                continue
            }
            if let own, let real = Self.resolved(path), real == own.root || real.hasPrefix(own.root + "/") {
                discovery.passedOver.append("\(path): \(Self.inStore(own.root))")
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
                folder: path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path, found: &found,
                visited: &visited, passedOver: &discovery.passedOver, store: own)
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

    /// Collects the candidate files under `folder` (following symbolic links), skipping dotfiles.
    static func walk(
        folder: String, found: inout [String], visited: inout Set<FileIdentity>, passedOver: inout [String],
        store: (root: String, identity: FileIdentity)? = nil
    ) {
        guard let entries = RawNames.list(folder) else {
            passedOver.append("\(folder): cannot read the folder")
            return
        }
        let (names, notUTF8) = RawNames.splitByUTF8(entries.filter { $0.first != UInt8(ascii: ".") })
        for entry in notUTF8 {
            guard let shown = UploadName.utf8Repaired(entry) else { continue }
            // No path string names it (a batch leaves its inputs' names alone; the watcher renames uploads).
            let path = folder.hasSuffix("/") ? folder + shown : folder + "/" + shown
            passedOver.append("\(path): its name is not UTF-8 (the bytes shown as %XX); rename it to take it in")
        }
        for name in names.sorted() {
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            var status = stat()
            guard stat(path, &status) == 0 else {
                passedOver.append("\(path): a broken symbolic link or an unreadable entry")
                continue
            }
            switch status.st_mode & S_IFMT {
            case S_IFDIR:
                guard visited.insert(FileIdentity(status)).inserted else {
                    if let store, store.identity == FileIdentity(status) {
                        passedOver.append("\(path): \(Self.inStore(store.root))")
                    } else {
                        passedOver.append(
                            "\(path): the folder was already searched "
                                + "(given as an input too, another link to it, or a link loop)")
                    }
                    continue
                }
                walk(folder: path, found: &found, visited: &visited, passedOver: &passedOver, store: store)
            case S_IFREG:
                if imageExtensions.contains((name as NSString).pathExtension.lowercased()) || sniffsAsImage(path) {
                    found.append(path)
                }
            default:
                // Never inputs (a pipe would block its reader), but said: it may be what the user meant to import.
                passedOver.append("\(path): \(FileKind.special(status.st_mode) ?? "not a file"), not a regular file")
            }
        }
    }

    /// The path with every link and `.`/`..` resolved (`realpath`); nil when it does not exist.
    static func resolved(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    /// Why the store's own files are passed over.
    static func inStore(_ root: String) -> String {
        "in the store this batch writes to (\(root)): picpipe's own originals and thumbnails are not inputs"
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
