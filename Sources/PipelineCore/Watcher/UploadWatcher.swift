// Watching uploads/ with inotify: a file is taken when its writer closes it or renames it into place.
import Foundation
import Locking
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Watches a folder tree with Linux inotify and yields the files that are complete.
///
/// A file is yielded on `IN_CLOSE_WRITE` (its writer closed it) or `IN_MOVED_TO` (renamed into place), never
/// on modify, and on create only as a hard link to an existing file. New subfolders are watched as they appear
/// and then scanned, since files may land in them before the watch exists; so are subfolders whose mode or owner
/// changes (one made readable again). A full rescan runs at start, after `IN_Q_OVERFLOW`, after the
/// consumer fell more than `maxQueuedEvents` behind (events were dropped), and on `requestRescan()`;
/// rescans skip files that another process still has open for writing (their close will be seen).
/// Ignored names (`UploadName.isIgnored`: `.*`, `*.part`, `*.tmp`, `*~`, browsers' downloads) are never yielded.
///
/// inotify runs on a dedicated thread blocked in `poll(2)`, never on the cooperative pool. A file may be
/// yielded more than once (an event and a rescan): consumers must tolerate files that are already gone.
public final class UploadWatcher: Sendable {
    /// The watched folder.
    public let root: URL
    /// The complete files, as absolute URLs, in the order they were seen.
    public let files: AsyncStream<URL>
    private let continuation: AsyncStream<URL>.Continuation
    private let rescanInterval: Double
    private let logger: Logger
    private let control = Locked(Control())

    private struct Control {
        var wakeWriter: Int32 = -1
        var started = false
        var stopped = false
    }

    /// - Parameters:
    ///   - root: the folder to watch (usually `STORE/uploads`).
    ///   - maxQueuedEvents: files waiting for the consumer before the watcher drops them and rescans later.
    ///   - rescanInterval: seconds between safety rescans; 0 for none.
    ///   - logger: for watch errors.
    public init(root: URL, maxQueuedEvents: Int = 16384, rescanInterval: Double = 0, logger: Logger) {
        self.root = root.standardizedFileURL
        (files, continuation) = AsyncStream.makeStream(
            of: URL.self, bufferingPolicy: .bufferingOldest(max(1, maxQueuedEvents)))
        self.rescanInterval = rescanInterval
        self.logger = logger
    }

    /// Starts watching: sets up inotify, then scans what is already there, on the watcher's thread. A `root` that is
    /// a symbolic link to a folder outside the store is followed (and said so); a link that takes its place later
    /// is not (see `UploadsFolder`).
    /// - Throws: `StoreError.io` when inotify or its wake-up pipe cannot be created; `UploadsFolder.resolve`'s
    ///   errors when `root` is a link into the store or to no folder.
    public func start() throws {
        let startedAs = try UploadsFolder.resolve(root)
        if case .link(let target, _, _) = startedAs {
            logger.notice(
                "uploads/ is a link to \(target); files there are taken and removed",
                metadata: ["folder": "\(root.path)"])
        }
        let inotify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard inotify >= 0 else { throw StoreError.io(path: root.path, operation: "inotify_init1", errno: errno) }
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            close(inotify)
            throw StoreError.io(path: root.path, operation: "pipe2", errno: errno)
        }
        for end in pipeEnds {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        control.withLock {
            $0.wakeWriter = pipeEnds[1]
            $0.started = true
        }
        let loop = WatchLoopSettings(
            inotify: inotify, wakeReader: pipeEnds[0], root: root.path, startedAs: startedAs,
            rescanInterval: rescanInterval, continuation: continuation, logger: logger)
        let thread = Thread { WatchLoop(loop).run() }
        thread.name = "picpipe-upload-watcher"
        thread.start()
    }

    /// Asks for a full rescan (as after an inotify queue overflow).
    public func requestRescan() { wake("r") }

    /// Stops watching and finishes `files`.
    public func stop() {
        let first = control.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        guard first else { return }
        if control.withLock({ $0.started }) {
            wake("q")
        } else {
            continuation.finish()
        }
    }

    private func wake(_ command: Character) {
        control.withLock { state in
            guard state.wakeWriter >= 0, let byte = command.asciiValue else { return }
            var value = byte
            _ = write(state.wakeWriter, &value, 1)
            if command == "q" {
                close(state.wakeWriter)
                state.wakeWriter = -1
            }
        }
    }
}

/// What the watcher thread needs; all of it Sendable, so the thread owns every mutable part itself.
struct WatchLoopSettings: Sendable {
    let inotify: Int32
    let wakeReader: Int32
    let root: String
    let startedAs: UploadsFolder
    let rescanInterval: Double
    let continuation: AsyncStream<URL>.Continuation
    let logger: Logger
}

/// The watcher thread's state: the watch descriptors and the pending-rescan flag, confined to that thread.
final class WatchLoop {
    private let settings: WatchLoopSettings
    private var watches: [Int32: String] = [:]
    private var rescanPending = false
    private var lastRescan = Date()
    /// Folders holding a folder whose name is not UTF-8 that was still being filled (renamed once it is settled),
    /// and when to look at them again: whatever the rescan interval (with none, it would wait for a restart).
    private var unsettledParents: Set<String> = []
    private var settleCheckDue: Date?
    private var running = true
    /// What the root is to be (a link only when it was one at start).
    private var rootKind: UploadsFolder
    /// The link found in the root's place and not followed, logged once until it changes.
    private var linkNotFollowed: String?
    /// Folders that cannot be watched, with why and when they last changed: each logged once until that changes.
    private var unwatchable: [String: Unwatchable] = [:]
    /// The folders of `unwatchable` met by the rescan under way; the others are forgotten after it.
    private var unwatchableMet: Set<String> = []

    private struct Unwatchable: Equatable {
        var errno: Int32
        var changed: Int
    }

    /// `IN_ATTRIB` for a folder's chmod or chown: one made readable again is watched and listed then.
    private static let mask = UInt32(
        IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF
            | IN_ONLYDIR)

    init(_ settings: WatchLoopSettings) {
        self.settings = settings
        rootKind = settings.startedAs
    }

    func run() {
        defer {
            close(settings.inotify)
            close(settings.wakeReader)
            settings.continuation.finish()
        }
        fullRescan()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while running {
            var fds = [
                pollfd(fd: settings.inotify, events: Int16(POLLIN), revents: 0),
                pollfd(fd: settings.wakeReader, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, 2, pollTimeout())
            if ready < 0 {
                if errno == EINTR { continue }
                settings.logger.error("poll on inotify failed", metadata: ["errno": "\(errno)"])
                return
            }
            if ready == 0 {
                if settleCheckDue.map({ $0 <= Date() }) ?? false { revisitUnsettled() } else { fullRescan() }
                continue
            }
            if fds[1].revents != 0 { readCommands() }
            if fds[0].revents != 0 { drainEvents(&buffer) }
        }
    }

    private func pollTimeout() -> Int32 {
        if rescanPending { return 250 }
        var due = settings.rescanInterval > 0 ? settings.rescanInterval - Date().timeIntervalSince(lastRescan) : nil
        if let settleCheckDue { due = min(due ?? .infinity, settleCheckDue.timeIntervalSinceNow) }
        guard let due else { return -1 }
        return Int32(max(0, min(due, 3600)) * 1000)
    }

    /// Renames an entry whose name is not UTF-8, unless it is a folder still being filled: then its folder is looked
    /// at again after `RawNames.settledFolderAge`.
    /// - Returns: the new name, nil when it was not renamed.
    private func repairIfSettled(_ entry: [UInt8], in folder: String) -> String? {
        guard RawNames.isUnsettledFolder(entry, in: folder) else {
            return RawNames.repair(entry, in: folder, logger: settings.logger)
        }
        unsettledParents.insert(folder)
        let due = Date(timeIntervalSinceNow: RawNames.settledFolderAge + 0.1)
        if settleCheckDue.map({ $0 > due }) ?? true { settleCheckDue = due }
        return nil
    }

    /// Renames the folders of `unsettledParents` that are settled now, without a full rescan: each rename's
    /// `IN_MOVED_TO` in its watched parent then watches the folder and yields its files.
    private func revisitUnsettled() {
        let parents = unsettledParents
        unsettledParents = []
        settleCheckDue = nil
        for parent in parents.sorted() {
            for entry in RawNames.list(parent) ?? []
            where String(validating: entry, as: UTF8.self) == nil && RawNames.isFolder(entry, in: parent) {
                _ = repairIfSettled(entry, in: parent)
            }
        }
    }

    private func readCommands() {
        var byte: UInt8 = 0
        while true {
            let count = read(settings.wakeReader, &byte, 1)
            if count == 0 {
                running = false
                return
            }
            guard count == 1 else { return }
            switch byte {
            case UInt8(ascii: "q"): running = false
            case UInt8(ascii: "r"): fullRescan()
            default: break
            }
        }
    }

    private func drainEvents(_ buffer: inout [UInt8]) {
        while running {
            let count = buffer.withUnsafeMutableBytes { read(settings.inotify, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            buffer.withUnsafeBytes { raw in
                var offset = 0
                let header = MemoryLayout<inotify_event>.size
                while offset + header <= count {
                    let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    let nameStart = offset + header
                    let nameEnd = min(nameStart + Int(event.len), count)
                    let nameBytes = raw[nameStart..<nameEnd].prefix { $0 != 0 }
                    if let name = String(validating: nameBytes, as: UTF8.self) {
                        handle(event, name: name)
                    } else {
                        handleNotUTF8(event, name: Array(nameBytes))
                    }
                    offset = nameEnd
                }
            }
        }
    }

    private func handle(_ event: inotify_event, name: String) {
        let mask = event.mask
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            settings.logger.warning("inotify queue overflowed; rescanning uploads")
            fullRescan()
            return
        }
        if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF) != 0, watches[event.wd] == settings.root {
            watchRootAgain(moved: mask & UInt32(IN_MOVE_SELF) != 0)
            return
        }
        if mask & UInt32(IN_IGNORED) != 0 {
            watches[event.wd] = nil
            return
        }
        guard let folder = watches[event.wd], !name.isEmpty, !UploadName.isIgnored(name) else { return }
        let path = folder + "/" + name
        if mask & UInt32(IN_ISDIR) != 0 {
            if mask & UInt32(IN_MOVED_FROM) != 0 {
                unwatch(below: path)
            } else if mask & UInt32(IN_CREATE | IN_MOVED_TO | IN_ATTRIB) != 0 {
                // New, or its mode or owner changed: a folder picpipe's user could not enter may be readable now
                // (until session 36 it waited for a rescan or restart), and one watched but made unreadable for a
                // while holds files whose events found it so. Files already taken are gone, others tolerated twice.
                var found: [String] = []
                watchTree(path, collecting: &found)
                let busy = OpenWriters.among(Set(found))
                emit(found.filter { !busy.contains($0) })
            }
            return
        }
        if mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 {
            emit([path])
        } else if mask & UInt32(IN_CREATE) != 0, Self.isCompleteWhenCreated(path) {
            // Made in place and never closed after writing: a hard link to a file elsewhere (`ln`, `cp -l`) is
            // taken at once (the ingest's lease waits for a writer, should the file have one); a symbolic link,
            // named pipe, socket or device too, which the ingest refuses with its reason.
            emit([path])
        }
    }

    /// Whether a just-created entry is complete: a second name of an existing file, or neither a regular file nor
    /// a folder.
    private static func isCompleteWhenCreated(_ path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0 else { return false }
        return FileKind.isSpecial(info.st_mode) || (info.st_mode & S_IFMT == S_IFREG && info.st_nlink > 1)
    }

    /// A complete file whose name is not UTF-8 is renamed to one that is and yielded under it (a file is renamed
    /// by a new link: no event of its own). A folder is renamed only once it is settled (`repairIfSettled`, which
    /// looks again later): renamed at once, it would break the copy still filling it by its old name. Other events of
    /// such names concern nothing watched.
    private func handleNotUTF8(_ event: inotify_event, name: [UInt8]) {
        if event.mask & UInt32(IN_ISDIR) != 0, event.mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0,
            let folder = watches[event.wd]
        {
            // Settled only when moved in whole; renamed, its IN_MOVED_TO under the new name brings its files in.
            _ = repairIfSettled(name, in: folder)
            return
        }
        guard event.mask & UInt32(IN_ISDIR) == 0, event.mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0,
            let folder = watches[event.wd], let renamed = RawNames.repair(name, in: folder, logger: settings.logger)
        else { return }
        emit([folder + "/" + renamed])
    }

    /// Watches `root` and every folder below it, then yields every complete file found.
    private func fullRescan() {
        rescanPending = false
        unsettledParents = []
        settleCheckDue = nil
        lastRescan = Date()
        guard rootIsWatchable() else { return }
        var found: [String] = []
        unwatchableMet = []
        watchTree(settings.root, collecting: &found)
        unwatchable = unwatchable.filter { unwatchableMet.contains($0.key) }
        let busy = OpenWriters.among(Set(found))
        emit(found.filter { !busy.contains($0) })
    }

    /// Adds a watch on `folder` first, then lists it, so nothing can land unseen between the two.
    private func watchTree(_ folder: String, collecting files: inout [String]) {
        // Never through a link (one swapped in since the lstat that found the folder), but for a root that was one
        // at start.
        let followed = folder == settings.root && rootKind != .folder
        let wd = inotify_add_watch(settings.inotify, folder, Self.mask | (followed ? 0 : UInt32(IN_DONT_FOLLOW)))
        if wd >= 0 {
            watches[wd] = folder
            unwatchable[folder] = nil
        } else {
            noteUnwatchable(folder, errno: errno)
        }
        guard let entries = RawNames.list(folder) else { return }
        var (names, notUTF8) = RawNames.splitByUTF8(entries)
        if !notUTF8.isEmpty {
            // Renamed to a UTF-8 name and listed under it (a folder's rename has its own event too: its files may be
            // yielded twice, which consumers tolerate), unless it is still being filled: a file a writer has open
            // (its close brings it in; /proc names an open file's path decoded the same lossy way) or a folder
            // changed in the last `settledFolderAge` seconds (looked at again then, `repairIfSettled`).
            let lossy = { (entry: [UInt8]) in folder + "/" + String(decoding: entry, as: UTF8.self) }
            let busy = OpenWriters.among(Set(notUTF8.map(lossy)))
            for entry in notUTF8 where !busy.contains(lossy(entry)) {
                if let name = repairIfSettled(entry, in: folder) { names.append(name) }
            }
        }
        for name in names.sorted() where !UploadName.isIgnored(name) {
            let path = folder + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else {
                if errno == ENAMETOOLONG { noteUnwatchable(path, errno: errno) }
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: watchTree(path, collecting: &files)
            default: files.append(path)  // a link, pipe, socket or device is refused by the ingest, with its reason
            }
        }
    }

    /// Says that `folder` cannot be watched (nor, mostly, listed), in words and with what to do: once, until the
    /// reason or the folder changes (a chmod, a chown), not at every rescan.
    private func noteUnwatchable(_ folder: String, errno number: Int32) {
        unwatchableMet.insert(folder)
        var info = stat()
        let changed = lstat(folder, &info) == 0 ? info.st_ctim.tv_sec * 1_000_000_000 + info.st_ctim.tv_nsec : 0
        let now = Unwatchable(errno: number, changed: changed)
        guard unwatchable.updateValue(now, forKey: folder) != now else { return }
        let hint: String
        switch number {
        case EACCES, EPERM:
            hint = """
                picpipe runs as \(UploadIngest.userName), who may not read or enter it: the files in it are not taken; \
                make it readable (chmod a+rx) or give it to \(UploadIngest.userName)
                """
        case ENAMETOOLONG:
            hint = """
                its path is longer than the system allows (PATH_MAX, \(PATH_MAX) bytes): the files in it are not \
                taken; move them to a folder with a shorter path
                """
        case ENOSPC:
            hint = """
                the inotify watch limit is reached: the files in it are taken only by rescans; raise \
                fs.inotify.max_user_watches (sysctl)
                """
        default:
            hint = "the files in it are not taken"
        }
        settings.logger.warning(
            "cannot watch folder: \(String(cString: strerror(number))); \(hint)", metadata: ["folder": "\(folder)"])
    }

    /// uploads/ itself was removed or moved away (`rm -rf uploads`, a sync tool replacing the folder): it is made
    /// again where it was and watched, and whatever is in it by then is taken. Before, nothing dropped into the new
    /// folder was taken until the next rescan (never with `rescan_interval: 0`). Whatever took its place meanwhile
    /// is left to `rootIsWatchable`: a folder is watched, a link is not followed.
    private func watchRootAgain(moved: Bool) {
        unwatch(below: settings.root)
        var info = stat()
        if lstat(settings.root, &info) != 0, errno == ENOENT, !makeRootAgain(moved: moved) { return }
        fullRescan()
    }

    /// Makes uploads/ again as a folder; false (logged) when it cannot be made.
    private func makeRootAgain(moved: Bool) -> Bool {
        let root = settings.root
        do {
            try Folder.create(URL(fileURLWithPath: root), what: "uploads/")
        } catch {
            settings.logger.error(
                "uploads/ was removed and cannot be made again; restart serve once it exists",
                metadata: ["folder": "\(root)", "error": "\(error)"])
            return false
        }
        settings.logger.warning(
            moved ? "uploads/ was moved away; a new one is watched" : "uploads/ was removed; a new one is watched",
            metadata: ["folder": "\(root)"])
        rootKind = .folder
        return true
    }

    /// Whether the root may be watched and listed: it is a folder (one missing is made again), or the link to the
    /// folder it was at start. A link that took its place since is not followed (it may lead into the store, whose
    /// files would be taken as uploads again and again, or to anyone's folder, whose files would be consumed): it is
    /// logged once, and looked at again at each rescan.
    private func rootIsWatchable() -> Bool {
        let root = settings.root
        var info = stat()
        guard lstat(root, &info) == 0 else { return errno == ENOENT ? makeRootAgain(moved: false) : true }
        guard info.st_mode & S_IFMT == S_IFLNK, !rootKind.isStill(root) else {
            // A folder (serve may have started with a link since replaced by a folder: that one is watched), or the
            // link of the start.
            if info.st_mode & S_IFMT == S_IFDIR { rootKind = .folder }
            linkNotFollowed = nil
            return true
        }
        unwatch(below: root)
        let link = UploadsFolder.linkText(root)
        if linkNotFollowed != link {
            linkNotFollowed = link
            settings.logger.error(
                """
                uploads/ is now a symbolic link (to \(link)), not the folder serve started with: it is not followed \
                and nothing is taken from it; make uploads/ a folder again (it is looked at at each rescan), or \
                restart serve to use a link to a folder outside the store
                """, metadata: ["folder": "\(root)"])
        }
        return false
    }

    private func unwatch(below path: String) {
        for (wd, folder) in watches where folder == path || folder.hasPrefix(path + "/") {
            inotify_rm_watch(settings.inotify, wd)
            watches[wd] = nil
        }
    }

    private func emit(_ paths: [String]) {
        for path in paths {
            switch settings.continuation.yield(URL(fileURLWithPath: path)) {
            case .dropped:
                if !rescanPending {
                    settings.logger.warning("upload events dropped (max_queued_events); a rescan will follow")
                }
                rescanPending = true
            case .terminated: running = false
            case .enqueued: break
            @unknown default: break
            }
        }
    }
}
