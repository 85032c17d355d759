// uploads/ as an operator may set it up or break it: a symbolic link in its place, folders and files serve's user may
// not enter or remove.
import Foundation
import PipelineCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct UploadsFolderTests {
        /// The environment of these serves: rescans every 0.2 s, so what only a rescan would do again shows at once.
        static let rescanning = ["PICPIPE_WATCHER_RESCAN_INTERVAL": "0.2", "PICPIPE_AWS_ENABLED": "false"]

        /// serve runs as this user in the tests of what it may not do (they need root, as CI runs).
        static let nobody: UInt32 = 65534

        /// A serve as `nobody` on a store of its own in a fresh folder, stopped and removed after `body`; nil (the
        /// test skipped) when the test does not run as root.
        static func withServeAsNobody(
            environment: [String: String] = rescanning, _ body: (ServeProcess, URL, URL) async throws -> Void
        ) async throws {
            guard getuid() == 0 else {
                print("skipped: running serve as another user needs root (CI runs as root)")
                return
            }
            let work = try PicpipeProcess.temporaryFolder("picpipe-uploads-nobody")
            defer { try? FileManager.default.removeItem(at: work) }
            try #require(chown(work.path, nobody, nobody) == 0)
            let store = work.appendingPathComponent("store")
            let serve = try await ServeProcess(store: store, environment: environment, user: nobody)
            defer { serve.kill() }
            try await body(serve, store, work)
            await serve.stop()
        }

        /// Lets two full rescans go by: a root-owned folder (mode 700, which `nobody` may not enter) holding a picture
        /// is moved into uploads/, then given to `nobody` (a chown is no event), so only a rescan finds the picture.
        static func awaitRescans(_ serve: ServeProcess, store: URL, work: URL) async throws {
            for round in 1...2 {
                let name = "rescan-\(UUID().uuidString)"
                let staged = work.appendingPathComponent(name)
                try FileManager.default.createDirectory(at: staged, withIntermediateDirectories: true)
                try photo(100 + round).write(to: staged.appendingPathComponent("marker.jpg"))
                try #require(chown(staged.appendingPathComponent("marker.jpg").path, nobody, nobody) == 0)
                try #require(chmod(staged.path, 0o700) == 0)
                let moved = store.appendingPathComponent("uploads/\(name)")
                try #require(rename(staged.path, moved.path) == 0)
                try #require(chown(moved.path, nobody, nobody) == 0)
                try await ServeProcess.eventually("a rescan took \(name)") {
                    serve.log.contains("upload=\(name)/marker.jpg")
                }
            }
        }

        /// How many times serve logged that it ingested `upload`.
        static func ingests(of upload: String, in log: String) -> Int {
            lines(of: log, naming: upload).filter { $0.hasSuffix("upload ingested") }.count
        }

        /// The log's lines naming `upload` (`upload=NAME `), matched by bytes: Swift's `contains` takes the NFC and
        /// NFD spellings of a name for the same.
        static func lines(of log: String, naming upload: String) -> [String] {
            let field = Array("upload=\(upload) ".utf8)
            return log.split(separator: "\n").map(String.init).filter { line in
                let bytes = Array(line.utf8)
                guard bytes.count >= field.count else { return false }
                return (0...(bytes.count - field.count)).contains {
                    bytes[$0..<($0 + field.count)].elementsEqual(field)
                }
            }
        }

        /// `Café.jpg` spelt in NFC and in NFD: two files on Linux.
        static let composed = "Caf\u{E9}.jpg"
        static let decomposed = "Cafe\u{301}.jpg"

        /// An upload serve may read but not remove (root copied a folder into uploads/; serve runs as `nobody`, who
        /// may not write it) is ingested once, said once with the folder and the user, and not read again at every
        /// rescan; it stays in uploads/. Before, it was ingested again (`duplicate=true`) at every rescan, for ever,
        /// without a word.
        /// Two of them are one name in NFC and in NFD: each is remembered apart (until session 29 they shared one
        /// entry, so both were ingested again and warned about at every rescan).
        @Test func anUploadServeMayNotRemoveIsIngestedOnceAndSaidSo() async throws {
            try await Self.withServeAsNobody { serve, store, work in
                let staged = work.appendingPathComponent("rootdir")
                try FileManager.default.createDirectory(at: staged, withIntermediateDirectories: true)
                try Self.photo(5).write(to: staged.appendingPathComponent("a.jpg"))
                try Self.photo(6).write(to: staged.appendingPathComponent(Self.composed))
                try Self.photo(7).write(to: staged.appendingPathComponent(Self.decomposed))
                let folder = store.appendingPathComponent("uploads/rootdir")
                try #require(rename(staged.path, folder.path) == 0)
                let uploads = ["rootdir/a.jpg", "rootdir/" + Self.composed, "rootdir/" + Self.decomposed]
                try await ServeProcess.eventually("ingested") {
                    uploads.allSatisfy { Self.ingests(of: $0, in: serve.log) >= 1 }
                }
                try await Self.awaitRescans(serve, store: store, work: work)
                for upload in uploads {
                    #expect(Self.ingests(of: upload, in: serve.log) == 1, "\(upload): \(serve.log)")
                    let warnings = Self.lines(of: serve.log, naming: upload).filter {
                        $0.contains("upload ingested but not removed")
                    }
                    #expect(warnings.count == 1, "\(upload): \(serve.log)")
                    #expect(warnings.first?.contains("who may not write its folder \(folder.path)") == true)
                }
                #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("a.jpg").path))
                #expect(ServeProcess.files(store, "originals").count == 5)  // the three and the two markers
            }
        }

        /// A file that is no picture in a folder serve may not write: its refusal is written once and it stays, said
        /// once, not refused again at every rescan (until session 28 "could not move a rejected upload to failed/"
        /// was an error every 15 s).
        /// A symbolic link there too: it is refused, not followed, and kept the same way (until session 29 it was
        /// refused again, its record rewritten, at every rescan).
        @Test(arguments: ["notes.txt", "link.jpg"])
        func aRefusalServeMayNotMoveIsSaidOnce(entry: String) async throws {
            try await Self.withServeAsNobody { serve, store, work in
                let staged = work.appendingPathComponent("rootnotes")
                try FileManager.default.createDirectory(at: staged, withIntermediateDirectories: true)
                let file = staged.appendingPathComponent(entry)
                if entry == "link.jpg" {
                    try Self.photo(8).write(to: work.appendingPathComponent("elsewhere.jpg"))
                    try #require(symlink(work.appendingPathComponent("elsewhere.jpg").path, file.path) == 0)
                } else {
                    try Data("not a picture".utf8).write(to: file)
                }
                let folder = store.appendingPathComponent("uploads/rootnotes")
                try #require(rename(staged.path, folder.path) == 0)
                try await ServeProcess.eventually("refused") { serve.log.contains("upload=rootnotes/\(entry)") }
                try await Self.awaitRescans(serve, store: store, work: work)
                // (The once-a-process notice of reading without a lease may name it too.)
                let said = Self.lines(of: serve.log, naming: "rootnotes/\(entry)").filter {
                    !$0.contains("read without a lease")
                }
                #expect(said.count == 1, "\(serve.log)")
                #expect(said.first?.contains("refused but not removed") == true, "\(said)")
                var status = stat()
                #expect(lstat(folder.appendingPathComponent(entry).path, &status) == 0, "it stays")
                #expect(ServeProcess.files(store, "failed").filter { $0.hasSuffix(".error.json") }.count == 1)
            }
        }

        /// A subfolder of uploads/ serve may not enter (root's, mode 700; serve runs as `nobody`) is said once, in
        /// words and with what to do, not at every rescan. Before, `errno=13 folder=… cannot watch folder` was
        /// logged at every rescan (22 times in 5 minutes).
        @Test func aFolderServeMayNotEnterIsSaidOnceInWords() async throws {
            try await Self.withServeAsNobody { serve, store, work in
                let staged = work.appendingPathComponent("locked")
                try FileManager.default.createDirectory(at: staged, withIntermediateDirectories: true)
                try Self.photo(6).write(to: staged.appendingPathComponent("x.jpg"))
                try #require(chmod(staged.path, 0o700) == 0)
                let folder = store.appendingPathComponent("uploads/locked")
                try #require(rename(staged.path, folder.path) == 0)
                try await Self.awaitRescans(serve, store: store, work: work)
                let warnings = serve.log.split(separator: "\n").filter {
                    $0.contains("cannot watch folder") && $0.contains("folder=\(folder.path)")
                }
                #expect(warnings.count == 1, "\(serve.log)")
                let name = String(cString: try #require(getpwuid(Self.nobody)).pointee.pw_name)
                #expect(
                    warnings.first?.contains(
                        "cannot watch folder: Permission denied; picpipe runs as \(name), who may not read or enter it")
                        == true, "\(serve.log)")
            }
        }

        /// A subfolder of uploads/ serve could not enter, made readable again (`chmod 755`), is watched and its files
        /// taken then; an upload dropped into a watched folder while serve could not enter it (`chmod 000 F; cp f.jpg
        /// F/; chmod 755 F`) is logged by name, then taken at that chmod. No rescan runs (`rescan_interval: 0`): until
        /// session 36 both waited for a restart, the second without a word. Serve runs as `nobody`, whom root's
        /// permission override (CAP_DAC_OVERRIDE) does not help.
        @Test func aFolderMadeReadableAgainIsWatchedAndItsFilesTaken() async throws {
            let noRescans = ["PICPIPE_WATCHER_RESCAN_INTERVAL": "0", "PICPIPE_AWS_ENABLED": "false"]
            try await Self.withServeAsNobody(environment: noRescans) { serve, store, work in
                // Unreadable when it arrives: not watched.
                let staged = work.appendingPathComponent("locked")
                try FileManager.default.createDirectory(at: staged, withIntermediateDirectories: true)
                try Self.photo(7).write(to: staged.appendingPathComponent("x.jpg"))
                try #require(chown(staged.appendingPathComponent("x.jpg").path, Self.nobody, Self.nobody) == 0)
                try #require(chown(staged.path, Self.nobody, Self.nobody) == 0)
                try #require(chmod(staged.path, 0o000) == 0)
                let locked = store.appendingPathComponent("uploads/locked")
                try #require(rename(staged.path, locked.path) == 0)
                try await ServeProcess.eventually("the folder said unwatchable") {
                    serve.log.contains("cannot watch folder") && serve.log.contains("folder=\(locked.path)")
                }
                try #require(chmod(locked.path, 0o755) == 0)
                try await ServeProcess.eventually("locked/x.jpg taken once readable", within: 60) {
                    Self.ingests(of: "locked/x.jpg", in: serve.log) == 1
                }

                // Watched, then made unreadable, a file dropped in (root may), then readable again.
                let watched = store.appendingPathComponent("uploads/watched")
                try FileManager.default.createDirectory(at: watched, withIntermediateDirectories: true)
                try #require(chown(watched.path, Self.nobody, Self.nobody) == 0)
                try Self.photo(8).write(to: watched.appendingPathComponent("marker.jpg"))
                try await ServeProcess.eventually("watched/ watched") {
                    Self.ingests(of: "watched/marker.jpg", in: serve.log) == 1
                }
                try #require(chmod(watched.path, 0o000) == 0)
                try Self.photo(9).write(to: watched.appendingPathComponent("y.jpg"))
                try await ServeProcess.eventually("watched/y.jpg said not ingested", within: 60) {
                    Self.lines(of: serve.log, naming: "watched/y.jpg").contains {
                        $0.contains("upload not ingested; it stays in uploads/")
                    }
                }
                try #require(chmod(watched.path, 0o755) == 0)
                try await ServeProcess.eventually("watched/y.jpg taken once readable", within: 60) {
                    Self.ingests(of: "watched/y.jpg", in: serve.log) == 1
                }
                #expect(!FileManager.default.fileExists(atPath: watched.appendingPathComponent("y.jpg").path))
            }
        }

        /// A small JPEG.
        static func photo(_ seed: Int) throws -> Data {
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: seed, width: 64, height: 48)
        }

        /// uploads/ as a symbolic link into the store (`ln -s thumbnails uploads`) or to a folder holding the store
        /// would have serve take the store's own files as uploads again and again (703 ingests and 276 originals made
        /// of thumbnails in 12 s): serve refuses to start, exit 2, saying why, and takes nothing.
        @Test(arguments: ["thumbnails", "..", "."])
        func serveRefusesAnUploadsLinkIntoOrAboveTheStore(target: String) async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-uploads-link")
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            try FileManager.default.createDirectory(
                at: store.appendingPathComponent("thumbnails/256"), withIntermediateDirectories: true)
            let thumbnail = store.appendingPathComponent("thumbnails/256/kept.jpg")
            try Self.photo(1).write(to: thumbnail)
            try #require(symlink(target, store.appendingPathComponent("uploads").path) == 0)
            let output = try await PicpipeProcess.run(
                ["serve", "--store", store.path],
                environment: ServeProcess.fastEnvironment.merging(Self.rescanning) { $1 }, timeout: 30)
            #expect(output.status == 2, "\(output.stderr)")
            #expect(output.stderr.contains("is a symbolic link to"), "\(output.stderr)")
            #expect(output.stderr.contains("make uploads/ a folder, or link it to a folder outside the store"))
            #expect(FileManager.default.fileExists(atPath: thumbnail.path))
            #expect(ServeProcess.files(store, "originals").isEmpty)
        }

        /// A link to nothing is said as one, without the usage text (it was "not a folder", then `Usage: …`: the store's
        /// folders were made before the link was looked at; until session 28).
        @Test func anUploadsLinkToNothingIsSaidAsOne() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-uploads-link")
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
            try #require(symlink("/nonexistent/picpipe-folder", store.appendingPathComponent("uploads").path) == 0)
            let output = try await PicpipeProcess.run(
                ["serve", "--store", store.path],
                environment: ServeProcess.fastEnvironment.merging(Self.rescanning) { $1 }, timeout: 30)
            #expect(output.status == 2, "\(output.stderr)")
            #expect(output.stderr.contains("a symbolic link to /nonexistent/picpipe-folder"), "\(output.stderr)")
            #expect(!output.stderr.contains("Usage:"), "\(output.stderr)")
        }

        /// uploads/ as a symbolic link to a folder outside the store at start (uploads on another disk) is a
        /// deliberate setup: followed, and said so, since the files there are taken and removed.
        @Test func anUploadsLinkToAFolderOutsideTheStoreIsFollowedAndSaidSo() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-uploads-link")
            defer { try? FileManager.default.removeItem(at: work) }
            let elsewhere = work.appendingPathComponent("other-disk")
            try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
            try Self.photo(2).write(to: elsewhere.appendingPathComponent("photo.jpg"))
            let store = work.appendingPathComponent("store")
            try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
            try #require(symlink(elsewhere.path, store.appendingPathComponent("uploads").path) == 0)
            let serve = try await ServeProcess(store: store, environment: Self.rescanning)
            defer { serve.kill() }
            try await ServeProcess.eventually("the picture taken") {
                ServeProcess.files(store, "originals").count == 1 && PicpipeProcess.files(under: elsewhere).isEmpty
            }
            #expect(serve.log.contains("uploads/ is a link to \(elsewhere.path); files there are taken and removed"))
            await serve.stop()
        }

        /// A symbolic link put in uploads/'s place while serve runs (uploads/ moved away, a link renamed in) is not
        /// the folder serve started with: it is not followed, and the files it leads to stay where they are. Once
        /// it is gone, uploads/ is made again and watched. Before, serve said `uploads/ was moved away; a new one is
        /// watched` and consumed the link's target (moved to failed/ or deleted).
        @Test func aLinkSwappedInForUploadsWhileServeRunsIsNotFollowed() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-uploads-link")
            defer { try? FileManager.default.removeItem(at: work) }
            let victim = work.appendingPathComponent("victim")
            try FileManager.default.createDirectory(at: victim, withIntermediateDirectories: true)
            try Data("hi\n".utf8).write(to: victim.appendingPathComponent("keep.txt"))
            try Self.photo(3).write(to: victim.appendingPathComponent("keep.jpg"))
            let store = work.appendingPathComponent("store")
            let serve = try await ServeProcess(store: store, environment: Self.rescanning)
            defer { serve.kill() }
            let uploads = store.appendingPathComponent("uploads")
            // The watcher has started with the folder once it took a picture from it: a link found at start is
            // followed by design, and a loaded CI machine once started the watcher after the swap below.
            try Self.photo(5).write(to: uploads.appendingPathComponent("marker.jpg"))
            try await ServeProcess.eventually("the watcher started") {
                ServeProcess.files(store, "originals").count == 1
            }
            let link = store.appendingPathComponent("uploads.link")
            try #require(symlink(victim.path, link.path) == 0)
            // Swapped: uploads/ moved away, the link renamed in (should serve have made uploads/ again in between,
            // that empty folder is removed and the rename tried again).
            try #require(rename(uploads.path, work.appendingPathComponent("uploads.away").path) == 0)
            var swapped = false
            for _ in 0..<100 where !swapped {
                swapped = rename(link.path, uploads.path) == 0
                if !swapped { rmdir(uploads.path) }
            }
            try #require(swapped)
            try await ServeProcess.eventually("the link refused, or followed") {
                serve.log.contains("not the folder serve started with")
                    || PicpipeProcess.files(under: victim) != ["keep.jpg", "keep.txt"]
            }
            #expect(PicpipeProcess.files(under: victim) == ["keep.jpg", "keep.txt"])
            #expect(ServeProcess.files(store, "originals").count == 1, "the marker only")
            #expect(ServeProcess.files(store, "failed").isEmpty)
            // The link removed: uploads/ is made again as a folder at the next rescan, and watched.
            try #require(unlink(uploads.path) == 0)
            try await ServeProcess.eventually("uploads/ made again") { Folder.isFolder(uploads.path) }
            try Self.photo(4).write(to: uploads.appendingPathComponent("after.jpg"))
            try await ServeProcess.eventually("the new upload taken") {
                ServeProcess.files(store, "originals").count == 2
            }
            #expect(PicpipeProcess.files(under: victim) == ["keep.jpg", "keep.txt"])
            await serve.stop()
        }
    }
}
