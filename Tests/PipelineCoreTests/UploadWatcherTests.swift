import Foundation
import Locking
import Logging
import Testing

@testable import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// What a watcher yielded, collected by a consuming task.
final class Yielded: Sendable {
    private let paths = Locked<[String]>([])
    func add(_ path: String) { paths.withLock { $0.append(path) } }
    var all: [String] { paths.withLock { $0 } }
    func count(_ path: String) -> Int { all.filter { $0 == path }.count }
    func forget(_ path: String) { paths.withLock { $0.removeAll { $0 == path } } }
}

@Suite struct UploadWatcherTests {
    /// Runs a watcher on a fresh folder during `body`; `consume` false leaves its events unread until `body` returns.
    static func watching(
        maxQueuedEvents: Int = 1024, prepare: (URL) throws -> Void = { _ in },
        _ body: (URL, UploadWatcher, Yielded) async throws -> Void
    ) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("picpipe-watch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try prepare(root)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let watcher = UploadWatcher(root: root, maxQueuedEvents: maxQueuedEvents, logger: logger)
        let yielded = Yielded()
        try watcher.start()
        let consumer = Task {
            for await url in watcher.files { yielded.add(url.path) }
        }
        // The watcher's thread adds its watches a moment after start() returns: a file renamed or closed before
        // then is found only by the start's listing, which passes over a file some process still holds open for
        // writing (a child another test spawned meanwhile may hold the test's descriptor), and the test waited for
        // an event that never came (flaky under load until session 30). A marker yielded means the watch is there.
        let marker = root.appendingPathComponent("watching-\(UUID().uuidString).marker")
        try Self.store([0], to: marker)
        try await FunctionRuntimeTests.eventually("the watcher started") { yielded.count(marker.path) > 0 }
        unlink(marker.path)
        yielded.forget(marker.path)
        try await body(root, watcher, yielded)
        watcher.stop()
        await consumer.value
    }

    static func store(_ bytes: [UInt8], to url: URL) throws {
        try Data(bytes).write(to: url)
    }

    /// Waits a moment for events to arrive (to show something does NOT arrive, or to let settle).
    static func settle() async throws { try await Task.sleep(for: .milliseconds(300)) }

    @Test func aFileIsYieldedOnceWhenItsWriterClosesIt() async throws {
        try await Self.watching { root, _, yielded in
            let path = root.appendingPathComponent("slow.jpg").path
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            #expect(fd >= 0)
            _ = [UInt8](repeating: 1, count: 1000).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            try await Self.settle()
            #expect(yielded.count(path) == 0, "yielded while the writer still had it open")
            _ = [UInt8](repeating: 2, count: 1000).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            try await FunctionRuntimeTests.eventually("yielded after close") { yielded.count(path) == 1 }
            try await Self.settle()
            #expect(yielded.count(path) == 1)
        }
    }

    /// A symbolic link or a named pipe made in place (`ln -s`, `mkfifo`: created, never written or closed) is
    /// yielded at once, for the ingest to refuse with its reason; so is one found by a rescan.
    @Test func aSymbolicLinkOrPipeIsYieldedForTheIngestToRefuse() async throws {
        try await Self.watching(prepare: { root in
            #expect(symlink("/etc/hostname", root.appendingPathComponent("before.jpg").path) == 0)
            #expect(mkfifo(root.appendingPathComponent("before-pipe.jpg").path, 0o644) == 0)
        }) { root, _, yielded in
            let link = root.appendingPathComponent("link.jpg").path
            #expect(symlink("/etc/hostname", link) == 0)
            let pipe = root.appendingPathComponent("pipe.jpg").path
            #expect(mkfifo(pipe, 0o644) == 0)
            let before = ["before.jpg", "before-pipe.jpg"].map { root.appendingPathComponent($0).path }
            try await FunctionRuntimeTests.eventually("links and pipes yielded") {
                ([link, pipe] + before).allSatisfy { yielded.count($0) >= 1 }
            }
        }
    }

    /// A hard link made in uploads/ (`ln photo.jpg uploads/`, `cp -l`) is a complete file that nobody closes
    /// after writing: yielded when it is created (before, only a rescan found it: 15 s by default, never with none).
    @Test func aHardLinkIsYieldedWhenItIsMade() async throws {
        let elsewhere = FileManager.default.temporaryDirectory
            .appendingPathComponent("picpipe-\(UUID().uuidString).jpg")
        try Data([1, 2, 3]).write(to: elsewhere)
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        try await Self.watching { root, _, yielded in
            let linked = root.appendingPathComponent("linked.jpg").path
            try #require(link(elsewhere.path, linked) == 0)
            try await FunctionRuntimeTests.eventually("the hard link yielded") { yielded.count(linked) >= 1 }
        }
    }

    /// uploads/ itself removed or moved away (`rm -rf uploads`, a sync tool replacing the folder): the watcher makes
    /// it again and watches it, so files dropped into it are taken, and nothing in the moved-away folder is. Before,
    /// nothing was taken until a rescan (never without a rescan interval, as here).
    @Test(arguments: [false, true])
    func uploadsRemovedOrMovedAwayIsMadeAgainAndWatched(moved: Bool) async throws {
        let prepare: (URL) throws -> Void = { root in
            try FileManager.default.createDirectory(
                at: root.appendingPathComponent("trip"), withIntermediateDirectories: true)
            try Self.store([1], to: root.appendingPathComponent("trip/early.jpg"))
        }
        try await Self.watching(prepare: prepare) { root, _, yielded in
            let away = root.deletingLastPathComponent().appendingPathComponent(root.lastPathComponent + ".away")
            defer { try? FileManager.default.removeItem(at: away) }
            // Watched once the start-up rescan found the early file.
            try await FunctionRuntimeTests.eventually("start-up rescan done") {
                yielded.count(root.appendingPathComponent("trip/early.jpg").path) == 1
            }
            if moved {
                try #require(rename(root.path, away.path) == 0)
            } else {
                try FileManager.default.removeItem(at: root)
            }
            try await FunctionRuntimeTests.eventually("uploads/ made again") {
                var info = stat()
                return stat(root.path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
            }
            if moved { try Self.store([4], to: away.appendingPathComponent("trip/old.jpg")) }
            let dropped = root.appendingPathComponent("new.jpg")
            try Self.store([1, 2], to: dropped)
            try await FunctionRuntimeTests.eventually("a file in the new uploads/ yielded") {
                yielded.count(dropped.path) >= 1
            }
            try await Self.settle()
            #expect(yielded.all.allSatisfy { !$0.contains(".away") })
        }
    }

    /// A folder whose path is longer than PATH_MAX cannot be watched nor listed: said once, in words and with what to
    /// do, whether it was made while the watcher runs or found by rescans. Before, a folder made while it ran was
    /// logged as `errno=36 … cannot watch folder`, and rescans passed over it without a word.
    @Test func aFolderPathOverPathMaxIsSaidOnceInWords() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("picpipe-watch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer {
            // `rm -rf`: it walks by file descriptor, so no path it uses is over PATH_MAX.
            let remove = Process()
            remove.executableURL = URL(fileURLWithPath: "/bin/rm")
            remove.arguments = ["-rf", root.path]
            try? remove.run()
            remove.waitUntilExit()
        }
        let lines = Locked<[String]>([])
        let logger = Logger(label: "test") { _ in CapturingLogHandler(lines: lines) }
        let watcher = UploadWatcher(root: root, logger: logger)
        let yielded = Yielded()
        try watcher.start()
        let consumer = Task { for await url in watcher.files { yielded.add(url.path) } }
        let marker = root.appendingPathComponent("marker.jpg")
        try Self.store([1], to: marker)
        try await FunctionRuntimeTests.eventually("the marker yielded") { yielded.count(marker.path) >= 1 }
        // 17 levels of 250-byte names, made relative to each other (no path names the deepest).
        var fd = open(root.path, O_RDONLY | O_DIRECTORY)
        for level in 0..<17 {
            let name = String(repeating: Character(String(level % 10)), count: 250)
            try #require(mkdirat(fd, name, 0o755) == 0)
            let next = openat(fd, name, O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = next
            try #require(fd >= 0)
        }
        close(fd)
        // Each rescan yields the marker again: three rescans went by once it was yielded four times.
        for rescans in 2...4 {
            watcher.requestRescan()
            try await FunctionRuntimeTests.eventually("rescan \(rescans)") { yielded.count(marker.path) >= rescans }
        }
        watcher.stop()
        await consumer.value
        let warnings = lines.withLock { $0 }.filter { $0.hasPrefix("cannot watch folder") }
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.hasPrefix("cannot watch folder: File name too long; its path is longer") == true)
    }

    @Test func aFileRenamedIntoPlaceIsYieldedAndItsTempNameNever() async throws {
        try await Self.watching { root, _, yielded in
            let temp = root.appendingPathComponent("photo.jpg.part")
            let final = root.appendingPathComponent("photo.jpg")
            try Self.store([1, 2, 3], to: temp)
            try Self.store([1], to: root.appendingPathComponent(".hidden.jpg"))
            try Self.store([1], to: root.appendingPathComponent("x.tmp"))
            try Self.store([1], to: root.appendingPathComponent("backup.jpg~"))
            #expect(rename(temp.path, final.path) == 0)
            try await FunctionRuntimeTests.eventually("renamed file yielded") { yielded.count(final.path) == 1 }
            try await Self.settle()
            #expect(yielded.all == [final.path])
        }
    }

    /// A browser's download in progress is no upload: Chrome's `NAME.crdownload` (renamed to NAME once done) and
    /// Safari's `NAME.download/` folder, with what is in it. Until session 36 both were taken: the browser's rename
    /// then failed, and an interrupted download went to failed/ as a truncated picture.
    @Test func aBrowserDownloadInProgressIsNeverYielded() async throws {
        try await Self.watching { root, _, yielded in
            let chrome = root.appendingPathComponent("photo.jpg.crdownload")
            let final = root.appendingPathComponent("photo.jpg")
            let safari = root.appendingPathComponent("other.jpg.download")
            try FileManager.default.createDirectory(at: safari, withIntermediateDirectories: true)
            try Self.store([1, 2, 3], to: chrome)
            try Self.store([1, 2, 3], to: safari.appendingPathComponent("other.jpg"))
            #expect(rename(chrome.path, final.path) == 0)
            try await FunctionRuntimeTests.eventually("renamed file yielded") { yielded.count(final.path) == 1 }
            try await Self.settle()
            #expect(yielded.all == [final.path])
        }
        #expect(UploadName.isIgnored("photo.jpg.crdownload"))
        #expect(UploadName.isIgnored("other.jpg.download"))
        #expect(!UploadName.isIgnored("download.jpg"))
    }

    @Test func filesInNewSubfoldersAreYielded() async throws {
        try await Self.watching { root, _, yielded in
            let deep = root.appendingPathComponent("a/b/c")
            try FileManager.default.createDirectory(at: deep, withIntermediateDirectories: true)
            let file = deep.appendingPathComponent("deep.png")
            try Self.store([9, 9], to: file)
            try await FunctionRuntimeTests.eventually("deep file yielded") { yielded.count(file.path) >= 1 }
            let later = root.appendingPathComponent("a/later.jpg")
            try Self.store([7], to: later)
            try await FunctionRuntimeTests.eventually("later file yielded") { yielded.count(later.path) == 1 }
        }
    }

    @Test func filesPresentAtStartAreFoundByTheRescan() async throws {
        let prepare: (URL) throws -> Void = { root in
            try FileManager.default.createDirectory(
                at: root.appendingPathComponent("sub"), withIntermediateDirectories: true)
            try Self.store([1], to: root.appendingPathComponent("old.jpg"))
            try Self.store([1], to: root.appendingPathComponent("sub/older.jpg"))
            try Self.store([1], to: root.appendingPathComponent("sub/.ignored"))
        }
        try await Self.watching(prepare: prepare) { root, _, yielded in
            try await FunctionRuntimeTests.eventually("both found") { yielded.all.count == 2 }
            #expect(
                Set(yielded.all) == [
                    root.appendingPathComponent("old.jpg").path, root.appendingPathComponent("sub/older.jpg").path,
                ])
        }
    }

    @Test func aRescanFindsFilesNobodySaw() async throws {
        // A file present at start: once it is yielded, the start-up rescan has walked the folder, so it cannot
        // be the one that finds the file below (it did, now and then, on a loaded machine).
        let prepare: (URL) throws -> Void = { root in try Self.store([1], to: root.appendingPathComponent("early.jpg"))
        }
        try await Self.watching(prepare: prepare) { root, watcher, yielded in
            try await FunctionRuntimeTests.eventually("start-up rescan done") {
                yielded.count(root.appendingPathComponent("early.jpg").path) == 1
            }
            // Created without being opened for writing: IN_CREATE, then IN_CLOSE_NOWRITE; no close-write, no
            // moved-to, and one name only; only a rescan can find it.
            let inside = root.appendingPathComponent("unseen.jpg")
            let fd = open(inside.path, O_CREAT | O_RDONLY, 0o644)
            #expect(fd >= 0)
            close(fd)
            try await Self.settle()
            #expect(yielded.count(inside.path) == 0)
            watcher.requestRescan()
            try await FunctionRuntimeTests.eventually("found by the rescan") { yielded.count(inside.path) == 1 }
        }
    }

    @Test func droppedEventsPastMaxQueuedEventsAreRecoveredByARescan() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("picpipe-watch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let watcher = UploadWatcher(root: root, maxQueuedEvents: 2, logger: logger)
        try watcher.start()
        // Nobody consumes yet: past two queued files the watcher drops events, as inotify does on overflow.
        let names = (0..<20).map { "f\($0).jpg" }
        for name in names { try Self.store([1], to: root.appendingPathComponent(name)) }
        try await Self.settle()
        let yielded = Yielded()
        let consumer = Task {
            for await url in watcher.files {
                yielded.add(url.lastPathComponent)
                // Consumers remove what they took, as ingest does.
                unlink(url.path)
            }
        }
        try await FunctionRuntimeTests.eventually("every file seen") { Set(yielded.all).isSuperset(of: names) }
        watcher.stop()
        await consumer.value
    }
}
