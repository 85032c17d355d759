// `serve` against what attackers and bad luck do: a delete racing the work it should cancel, a disk that fills up,
// bodies that trickle or are far too large, a second serve after the lock file was deleted.
import Foundation
import ImageCore
import Locking
import PipelineCore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct ServeHardeningTests {
        /// A serve on a fresh store in a fresh folder, stopped and removed after `body`.
        static func withServe(
            environment: [String: String] = [:], store makeStore: ((URL) throws -> URL)? = nil,
            _ body: (ServeProcess, URL, String) async throws -> Void
        ) async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-hardening")
            let store = try makeStore?(work) ?? work.appendingPathComponent("store")
            let serve = try await ServeProcess(store: store, environment: environment)
            do {
                try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
                let port = try #require(PicpipeCLI.ServeHTTPTests.port(in: serve.log))
                try await body(serve, store, "http://127.0.0.1:\(port)")
            } catch {
                await serve.stop()
                Self.unmount(work.appendingPathComponent("store"))
                try? FileManager.default.removeItem(at: work)
                throw error
            }
            await serve.stop()
            Self.unmount(work.appendingPathComponent("store"))
            try? FileManager.default.removeItem(at: work)
        }

        static func unmount(_ folder: URL) { _ = umount2(folder.path, Int32(MNT_DETACH)) }

        /// `WORK/store` on a tmpfs of 24 MB of its own (root only), unmounted by `withServe`.
        static func smallDisk(_ work: URL) throws -> URL {
            let store = work.appendingPathComponent("store")
            try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
            guard mount("tmpfs", store.path, "tmpfs", 0, "size=24m") == 0 else {
                throw ServeTestError.timedOut("mount tmpfs: \(String(cString: strerror(errno)))")
            }
            return store
        }

        /// Fills the disk under `store` with one file, `store/filler`, written until a write fails.
        static func fill(_ store: URL) throws -> URL {
            let filler = store.appendingPathComponent("filler")
            _ = FileManager.default.createFile(atPath: filler.path, contents: nil)
            let handle = try #require(FileHandle(forWritingAtPath: filler.path))
            let block = Data(repeating: 1, count: 1 << 16)
            while (try? handle.write(contentsOf: block)) != nil {}
            try? handle.close()
            return filler
        }

        /// A JPEG large enough that decoding it takes a while (so a DELETE lands while the thumbnail is made).
        static func photo(_ seed: Int) throws -> Data {
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: seed, width: 2400, height: 1600)
        }

        static func request(_ method: String, _ url: String, body: Data? = nil, type: String = "image/jpeg")
            async throws
            -> (status: Int, body: Data)
        {
            var request = URLRequest(url: try #require(URL(string: url)))
            request.httpMethod = method
            if let body {
                request.setValue(type, forHTTPHeaderField: "Content-Type")
                request.httpBody = body
            }
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
        }

        /// Whether every invocation has ended (nothing queued, running or waiting for a retry).
        static func settled(_ store: URL) async throws -> Bool {
            try await StoreView.events(store).allSatisfy { ["succeeded", "failed", "dead"].contains($0.state) }
        }

        @Test func aDeleteWinsOverWorkThatFinishesAfterIt() async throws {
            try await Self.withServe { _, store, base in
                var hashes: [String] = []
                for n in 0..<8 {
                    let photo = try Self.photo(100 + n)
                    hashes.append(Array(photo).withUnsafeBytes { ContentHash(of: $0).hex })
                    if n % 2 == 0 {
                        let put = try await Self.request("PUT", "\(base)/images/pic-\(n)", body: photo)
                        #expect(put.status == 201)
                        #expect(try await Self.request("DELETE", "\(base)/images/pic-\(n)").status == 204)
                    } else {
                        let post = try await Self.request("POST", "\(base)/images", body: photo)
                        #expect(post.status == 202)
                        #expect(try await Self.request("DELETE", "\(base)/images/\(hashes[n])").status == 204)
                    }
                }
                try await ServeProcess.eventually("every invocation ended") { try await Self.settled(store) }
                for hash in hashes {
                    #expect(
                        !ServeProcess.files(store, "thumbnails").contains { $0.contains(hash) }, "thumbnail of \(hash)")
                    #expect(!ServeProcess.files(store, "originals").contains { $0.contains(hash) })
                    #expect(try await Self.request("GET", "\(base)/images/\(hash)/thumbnails/256").status == 404)
                    #expect(try await Self.request("GET", "\(base)/images/\(hash)/metadata").status == 404)
                }
                #expect(try await StoreView.metadataRows(store) == 0)
                #expect(
                    try await StoreView.events(store, state: "dead").isEmpty, "late work is skipped, not dead-lettered")
                #expect(ServeProcess.files(store, "failed").isEmpty)
            }
        }

        @Test func picturesKeepTheNamesTheyArrivedUnder() async throws {
            try await Self.withServe { _, store, base in
                let folder = store.appendingPathComponent("uploads/2024/trip")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try Self.photo(1).write(to: folder.appendingPathComponent("harbour at dusk.jpg"))
                try await ServeProcess.eventually("processed") {
                    try await StoreView.processed(store).contains("2024/trip/harbour at dusk.jpg")
                }
                let list = try await Self.request("GET", "\(base)/images")
                let items =
                    (try JSONSerialization.jsonObject(with: list.body) as? [String: Any])?["items"] as? [[String: Any]]
                #expect(items?.map { $0["name"] as? String } == ["harbour at dusk.jpg"])
            }
        }

        /// A file named with a line break and a fake log line after it, or with a terminal escape, was written into
        /// serve's log as is (a forged "error" line of its own) and into `picpipe events`' table (a broken row, a
        /// coloured terminal). Both now show the characters escaped; the pictures are still taken in.
        @Test func aFileNameCannotForgeALogLineOrDriveTheTerminal() async throws {
            try await Self.withServe { serve, store, _ in
                let forged = "2026-01-01T00:00:00+0000 error picpipe.serve: [picpipe] forged"
                let uploads = store.appendingPathComponent("uploads")
                try Self.photo(2).write(to: uploads.appendingPathComponent("evil.jpg\n" + forged))
                try Self.photo(3).write(to: uploads.appendingPathComponent("esc\u{1B}[31mred.jpg"))
                try await ServeProcess.eventually("both processed") {
                    try await StoreView.processed(store).count == 2
                }
                let lines = serve.log.split(separator: "\n")
                #expect(!lines.contains { $0.hasPrefix("2026-01-01") }, "\(serve.log.suffix(3000))")
                #expect(lines.contains { $0.contains("upload=evil.jpg\\n2026-01-01T00:00:00+0000 error") })
                #expect(!serve.log.contains("\u{1B}"))
                #expect(serve.log.contains("esc\\u{1B}[31mred.jpg"))
                let table = try await PicpipeProcess.run(["events", "--store", store.path], timeout: 120)
                #expect(table.status == 0)
                #expect(!table.stdout.contains("\u{1B}") && !table.stdout.contains("\n2026-01-01"), "\(table.stdout)")
                // A header and two invocations for each picture: no row broken in two.
                #expect(table.stdout.split(separator: "\n").count == 5, "\(table.stdout)")
            }
        }

        @Test func aSecondServeIsRefusedEvenAfterTheLockFileWasDeleted() async throws {
            try await Self.withServe { _, store, _ in
                try FileManager.default.removeItem(at: store.appendingPathComponent("db/serve.lock"))
                let second = try await PicpipeProcess.run(
                    ["serve", "--store", store.path], environment: ["PICPIPE_LISTEN": "127.0.0.1:0"], timeout: 60)
                #expect(second.status != 0)
                #expect(second.stderr.contains("another serve"))
            }
        }

        @Test func aTricklingUploadIsCutAndLeavesNothing() async throws {
            try await Self.withServe(environment: ["PICPIPE_MIN_UPLOAD_RATE": "2000"]) { _, store, base in
                let port = try #require(Int(base.split(separator: ":").last ?? ""))
                // A one-second receive timeout: each look for the answer waits at most a second, then trickles on.
                let connection = try RawConnection(port: port, receiveTimeout: 1)
                connection.send(
                    "POST /images HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 1000000\r\n\r\n")
                let start = Date()
                var answer: [UInt8] = []
                // One byte a second: never idle long enough for the idle timeout, far under the minimum rate.
                var first = true
                while answer.isEmpty, Date().timeIntervalSince(start) < 60 {
                    guard connection.send(first ? [0xFF, 0xD8, 0xFF, 0xE0] : [0]) else { break }
                    first = false
                    answer = connection.receive { $0.count >= 12 }.bytes
                }
                if answer.isEmpty { answer = connection.receive { $0.count >= 12 }.bytes }
                #expect(RawConnection.status(answer) == 408)
                #expect(String(decoding: answer, as: UTF8.self).contains("upload_too_slow"))
                #expect(ServeProcess.files(store, "uploads").isEmpty, "no temporary file is left")
                #expect(try await Self.request("GET", "\(base)/healthz").status == 200)
            }
        }

        /// A body that stops dead breaks the minimum rate worse than a trickle: it is cut with the same 408 once its
        /// average falls under the minimum (10 s for these 10,000 bytes), checked on a timer, and its upload slot is
        /// free at once. Until session 32 the rate was checked only when bytes arrived, so it waited for the idle
        /// timeout (30 s), was closed without an answer, and held its slot all that time.
        @Test func aBodyThatStopsIsCutWith408AndItsSlotFreed() async throws {
            let environment = ["PICPIPE_MAX_CONCURRENT_UPLOADS": "1", "PICPIPE_IDLE_TIMEOUT": "60"]
            try await Self.withServe(environment: environment) { _, store, base in
                let port = try #require(Int(base.split(separator: ":").last ?? ""))
                let connection = try RawConnection(port: port, receiveTimeout: 30)
                let picture = try Self.photo(3)
                connection.send(
                    "POST /images HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
                        + "Content-Length: \(picture.count)\r\n\r\n")
                connection.send(Array(picture.prefix(10_000)))
                // Then nothing: the answer comes without another byte sent (the receive gives up after 30 s).
                let (answer, closed) = connection.receive()
                let text = String(decoding: answer, as: UTF8.self)
                #expect(RawConnection.status(answer) == 408, "\(text)")
                #expect(text.contains("upload_too_slow") && text.lowercased().contains("connection: close"), "\(text)")
                #expect(closed)
                #expect(ServeProcess.files(store, "uploads").isEmpty, "no temporary file is left")
                // The only upload slot is free again.
                let upload = try await Self.request("POST", "\(base)/images", body: picture)
                #expect(upload.status == 202, "\(String(decoding: upload.body, as: UTF8.self))")
            }
        }

        @Test func aBodyOverTheLimitIsRefusedWithoutReadingIt() async throws {
            try await Self.withServe(environment: ["PICPIPE_MAX_BODY_BYTES": "1000000"]) { _, store, base in
                let port = try #require(Int(base.split(separator: ":").last ?? ""))
                let connection = try RawConnection(port: port, receiveTimeout: 30)
                connection.send(
                    "POST /images HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 2000000000\r\n\r\n"
                )
                // One answer, which says the connection closes, and then it does: no second, stray 400 from the
                // decoder seeing the body cut off (until session 26).
                let (answer, closed) = connection.receive()
                #expect(RawConnection.status(answer) == 413)
                let text = String(decoding: answer, as: UTF8.self)
                #expect(text.components(separatedBy: "HTTP/1.1 ").count == 2, "\(text)")
                #expect(text.lowercased().contains("connection: close"), "\(text)")
                #expect(closed)
                // The server stops reading: sending on fails long before the 2 GB declared (the socket buffers hold a
                // few MB at most).
                let block = [UInt8](repeating: 0, count: 1 << 20)
                var sent = 0
                while sent < 256, connection.send(block) { sent += 1 }
                #expect(sent < 256, "the server went on reading after its 413")
                #expect(ServeProcess.files(store, "uploads").isEmpty)
            }
        }

        /// An upload picpipe may not read (its permissions as another user left them) is refused into failed/ with
        /// why and who picpipe runs as; before, it stayed in uploads/ without a word, and nothing would take it again
        /// once readable (a chmod is no event). serve runs as `nobody` here, which needs root (CI runs as root).
        @Test func anUploadPicpipeMayNotReadIsRefusedWithWhy() async throws {
            guard getuid() == 0 else {
                print("skipped: running serve as another user needs root (CI runs as root)")
                return
            }
            let nobody: UInt32 = 65534
            let name = String(cString: try #require(getpwuid(nobody)).pointee.pw_name)
            let work = try PicpipeProcess.temporaryFolder("picpipe-unreadable")
            defer { try? FileManager.default.removeItem(at: work) }
            try #require(chown(work.path, nobody, nobody) == 0)
            let store = work.appendingPathComponent("store")
            let serve = try await ServeProcess(store: store, user: nobody)
            do {
                // Written and closed elsewhere as root, mode 000, then renamed into place.
                let picture = try Self.photo(1)
                let staged = work.appendingPathComponent("secret.jpg")
                try picture.write(to: staged)
                try #require(chmod(staged.path, 0) == 0)
                let upload = store.appendingPathComponent("uploads/secret.jpg")
                try #require(rename(staged.path, upload.path) == 0)
                let letter = store.appendingPathComponent("failed/secret.jpg.error.json")
                try await ServeProcess.eventually("refused into failed/") {
                    FileManager.default.fileExists(atPath: letter.path)
                }
                let error = try JSONDecoder().decode(DeadLetter.self, from: Data(contentsOf: letter)).error
                #expect(
                    error
                        == "secret.jpg: permission denied: picpipe runs as \(name), who may not read it; make it "
                        + "readable and put it back in uploads/")
                #expect(try Data(contentsOf: store.appendingPathComponent("failed/secret.jpg")) == picture)
                #expect(!FileManager.default.fileExists(atPath: upload.path))
                #expect(serve.process.isRunning)
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()
        }

        /// Two versions of a picture copied to one upload name twenty times over, as fast as the copies go (`cp`
        /// again, an editor saving twice, `rsync --inplace`: a file still waiting is truncated and rewritten in
        /// place). Nothing half-written is stored: no refusal in failed/, no dead letter, every original is one of the
        /// two versions whole, uploads/ empties, and the last version has its thumbnails and metadata. Before, 20 of
        /// 20 copies left a refusal in failed/ (half pictures, "the file is empty" with the writer's file moved
        /// there) and the thumbnails of half pictures were dead letters. As the uploads' owner serve holds a read
        /// lease on the upload it ingests, as `nobody` with CAP_LEASE too; as `nobody` without it, it may not (and
        /// says so once), and waits for uploads to settle instead. The last two need root (CI runs as root).
        @Test(arguments: ["owner", "nobody with CAP_LEASE", "nobody"])
        func copiesOverAWaitingUploadStoreNoHalfPicture(user: String) async throws {
            let nobody: UInt32? = user == "owner" ? nil : 65534
            if nobody != nil, getuid() != 0 {
                print("skipped: running serve as another user needs root (CI runs as root)")
                return
            }
            let work = try PicpipeProcess.temporaryFolder("picpipe-rewrite")
            defer { try? FileManager.default.removeItem(at: work) }
            if let nobody { try #require(chown(work.path, nobody, nobody) == 0) }
            let store = work.appendingPathComponent("store")
            let serve = try await ServeProcess(
                store: store, user: nobody, capabilities: user == "nobody with CAP_LEASE" ? ["lease"] : [])
            do {
                let versions = try [1, 2].map {
                    try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: $0, width: 3000, height: 2000)
                }
                let upload = store.appendingPathComponent("uploads/same.jpg").path
                for _ in 0..<20 {
                    for version in versions { try Self.copyInPlace(version, to: upload) }
                }
                try await ServeProcess.eventually("the last version processed") {
                    let processed = try await StoreView.processed(store)
                    let open = try await StoreView.events(store).filter { ["queued", "running"].contains($0.state) }
                    return StoreView.files(store, "uploads").isEmpty && open.isEmpty
                        && processed.contains("same.jpg")
                }
                #expect(StoreView.files(store, "failed").isEmpty)
                #expect(try await StoreView.events(store, state: "dead").isEmpty)
                let whole = Set(versions.map { Self.sha256($0) })
                let originals = StoreView.files(store, "originals")
                #expect(!originals.isEmpty)
                for original in originals {
                    let bytes = try Data(contentsOf: store.appendingPathComponent("originals/" + original))
                    #expect(whole.contains(Self.sha256(bytes)), "\(original) is one of the versions whole")
                }
                let last = try #require(versions.last)
                let lastName = Self.sha256(last)
                #expect(originals.contains { $0.contains(lastName) }, "the last version is stored")
                #expect(serve.log.contains("uploads are read without a lease") == (user == "nobody"), "\(serve.log)")
                #expect(serve.process.isRunning)
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()
        }

        static func sha256(_ bytes: Data) -> String { bytes.withUnsafeBytes { ContentHash(of: $0).hex } }

        /// Writes `bytes` to `path` the way `cp` does over an existing file: opened with O_TRUNC, 128 KiB a write.
        static func copyInPlace(_ bytes: Data, to path: String) throws {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            try #require(fd >= 0, "open \(path): errno \(errno)")
            defer { close(fd) }
            var offset = 0
            while offset < bytes.count {
                let chunk = bytes[offset..<min(bytes.count, offset + 128 * 1024)]
                let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                try #require(written > 0, "write \(path): errno \(errno)")
                offset += written
            }
        }

        /// `/healthz` looks at the file system itself: a store remounted read-only, or filled, answers 503 before any
        /// write has failed, and 200 again once it is writable, or has room, again (until session 29 it said ok until
        /// an upload had failed, so a probe kept sending users to a store that could take nothing).
        @Test func healthSeesAReadOnlyOrFullStoreBeforeAnyWriteFails() async throws {
            guard getuid() == 0 else {
                print("skipped: mounting a small tmpfs read-only needs root (CI runs as root)")
                return
            }
            try await Self.withServe(store: Self.smallDisk) { serve, store, base in
                #expect(Self.blockingGet("\(base)/healthz").status == 200)
                // Read-only on top of the tmpfs (a bind mount of itself, remounted read-only: serve's open databases
                // keep the tmpfs itself from being remounted so), then the bind mount taken away again.
                try #require(mount(store.path, store.path, nil, UInt(MS_BIND), nil) == 0)
                try #require(mount(nil, store.path, nil, UInt(MS_REMOUNT | MS_BIND | MS_RDONLY), nil) == 0)
                try await ServeProcess.eventually("health says read-only", within: 20) {
                    let health = Self.blockingGet("\(base)/healthz")
                    return health.status == 503 && health.body.contains("\"read_only\"")
                }
                try #require(umount2(store.path, Int32(MNT_DETACH)) == 0)
                try await ServeProcess.eventually("health ok again", within: 20) {
                    Self.blockingGet("\(base)/healthz").status == 200
                }
                let filler = try Self.fill(store)
                try await ServeProcess.eventually("health says full", within: 20) {
                    let health = Self.blockingGet("\(base)/healthz")
                    return health.status == 503 && health.body.contains("\"full\"")
                }
                try FileManager.default.removeItem(at: filler)
                try await ServeProcess.eventually("health ok with room again", within: 20) {
                    Self.blockingGet("\(base)/healthz").status == 200
                }
                #expect(serve.log.contains("takes writes again"))
            }
        }

        /// DELETE is the one call that frees space: on a full disk it removes the picture, its original first to
        /// make room for the index's and the journal's writes, and answers 204 (until session 36 it was 507
        /// insufficient_storage, as an upload is, and nothing was freed).
        @Test func aDeleteOnAFullDiskRemovesThePictureAndFreesItsSpace() async throws {
            guard getuid() == 0 else {
                print("skipped: mounting a small tmpfs for the full-disk test needs root (CI runs as root)")
                return
            }
            try await Self.withServe(store: Self.smallDisk) { _, store, base in
                let photo = try Self.photo(400)
                let hash = Array(photo).withUnsafeBytes { ContentHash(of: $0).hex }
                #expect(try await Self.request("PUT", "\(base)/images/full-delete", body: photo).status == 201)
                try await ServeProcess.eventually("the upload processed") {
                    try await Self.request("GET", "\(base)/images/full-delete/metadata").status == 200
                }
                try await ServeProcess.eventually("every invocation ended") { try await Self.settled(store) }
                _ = try Self.fill(store)
                let freeBefore = Self.freeBytes(store)
                let delete = try await Self.request("DELETE", "\(base)/images/full-delete")
                #expect(delete.status == 204, "\(String(decoding: delete.body, as: UTF8.self))")
                #expect(!ServeProcess.files(store, "originals").contains { $0.contains(hash) })
                #expect(Self.freeBytes(store) - freeBefore >= photo.count / 2, "the original's space is free")
                #expect(try await Self.request("GET", "\(base)/images/full-delete").status == 404)
                let query = try await PicpipeProcess.run(["query", "--store", store.path, "--json"])
                #expect(query.status == 0 && !query.stdout.contains(hash), "the metadata row is gone: \(query.stdout)")
                let removals = try await StoreView.events(store).filter { $0.eventName == "ObjectRemoved:Delete" }
                #expect(!removals.isEmpty, "the removal is journaled")
            }
        }

        /// The bytes free on the file system of `folder`.
        static func freeBytes(_ folder: URL) -> Int {
            var stats = statvfs()
            guard statvfs(folder.path, &stats) == 0 else { return 0 }
            return Int(stats.f_bavail) * Int(stats.f_frsize)
        }

        @Test func aFullDiskKeepsUploadsWaitingAnswers507AndRecoversByItself() async throws {
            guard getuid() == 0 else {
                print("skipped: mounting a small tmpfs for the full-disk test needs root (CI runs as root)")
                return
            }
            let environment = ["PICPIPE_WATCHER_RESCAN_INTERVAL": "1"]
            try await Self.withServe(
                environment: environment,
                store: Self.smallDisk
            ) { serve, store, base in
                // Pictures waiting on the same file system, in a folder the watcher ignores (a dot name).
                let staging = store.appendingPathComponent("uploads/.staging")
                try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
                var names: [String] = []
                for n in 0..<3 {
                    let name = "full-\(n).jpg"
                    try Self.photo(200 + n).write(to: staging.appendingPathComponent(name))
                    names.append(name)
                }
                // And a file that is no picture: its refusal cannot be written while the disk is full.
                try Data("not a picture".utf8).write(to: staging.appendingPathComponent("notes.txt"))
                let upload = try Self.photo(300)
                // Fill the disk.
                let filler = try Self.fill(store)
                // Drop the pictures (a rename needs no space).
                for name in names + ["notes.txt"] {
                    #expect(
                        rename(
                            staging.appendingPathComponent(name).path,
                            store.appendingPathComponent("uploads/\(name)").path)
                            == 0)
                }
                let post = try await Self.request("POST", "\(base)/images", body: upload)
                #expect(post.status == 507)
                #expect(String(decoding: post.body, as: UTF8.self).contains("insufficient_storage"))
                try await ServeProcess.eventually("health says full") {
                    let health = Self.blockingGet("\(base)/healthz")
                    return health.status == 503 && health.body.contains("\"full\"")
                }
                // Several rescans later the files still wait in uploads/: not lost, not dead-lettered.
                try await Task.sleep(for: .seconds(3))
                for name in names {
                    #expect(
                        FileManager.default.fileExists(atPath: store.appendingPathComponent("uploads/\(name)").path))
                }
                #expect(!ServeProcess.files(store, "failed").contains { $0.hasPrefix("full-") })
                #expect(
                    !PicpipeProcess.files(under: store).contains {
                        $0.contains(".picpipe-tmp-") && !$0.hasPrefix("uploads/.staging")
                    })
                #expect(serve.log.components(separatedBy: "disk is full").count - 1 == 1, "said once")
                // The refusal that could not be written is not an error at every rescan (until session 28 it was).
                #expect(!serve.log.contains("could not move a rejected upload"), "\(serve.log)")

                // Space returns: everything resumes without a restart.
                try FileManager.default.removeItem(at: filler)
                try await ServeProcess.eventually("resumed", within: 120) {
                    let processed = try await StoreView.processed(store)
                    let settled = try await Self.settled(store)
                    return names.allSatisfy { processed.contains($0) } && settled
                }
                #expect(Self.blockingGet("\(base)/healthz").status == 200)
                #expect(try await Self.request("POST", "\(base)/images", body: upload).status == 202)
                #expect(serve.log.contains("takes writes again"))
                try await ServeProcess.eventually("the refusal written once there is room") {
                    ServeProcess.files(store, "failed").contains("notes.txt.error.json")
                }
            }
        }

        /// An HTTP upload refused for space keeps the store full until it would fit: with 1.5 MB free, a 3 MB POST
        /// answered 507 while `/healthz` said 200 (until session 28 the refusal needed only 1 MiB free again).
        @Test func anHTTPUploadRefusedForSpaceKeepsTheStoreFullUntilItFits() async throws {
            guard getuid() == 0 else {
                print("skipped: mounting a small tmpfs for the full-disk test needs root (CI runs as root)")
                return
            }
            try await Self.withServe(
                environment: ["PICPIPE_AWS_ENABLED": "false"],
                store: Self.smallDisk
            ) { serve, store, base in
                // Leave about 1.5 MB free.
                var disk = statvfs()
                try #require(statvfs(store.path, &disk) == 0)
                let free = Int(disk.f_bavail) * Int(disk.f_frsize)
                let filler = store.appendingPathComponent("filler")
                try Data(count: max(0, free - 1_500_000)).write(to: filler)
                // A JPEG's first bytes and 3 MB more: the spool writes them until the disk is full.
                var upload = try Self.photo(400)
                upload.append(Data(count: 3_000_000))
                let post = try await Self.request("POST", "\(base)/images", body: upload)
                #expect(post.status == 507, "\(String(decoding: post.body, as: UTF8.self))")
                // Several health checks (each may look at the free space again): full, as the upload does not fit.
                for _ in 0..<3 {
                    let health = Self.blockingGet("\(base)/healthz")
                    #expect(health.status == 503 && health.body.contains("\"full\""), "\(health.body)")
                    try await Task.sleep(for: .milliseconds(1100))
                }
                #expect(!serve.log.contains("takes writes again"), "\(serve.log)")
                // Room for it again: healthy without a restart.
                try FileManager.default.removeItem(at: filler)
                try await ServeProcess.eventually("healthy again") { Self.blockingGet("\(base)/healthz").status == 200 }
            }
        }

        /// A GET from a synchronous condition.
        static func blockingGet(_ url: String) -> (status: Int, body: String) {
            let result = Locked<(Int, String)>((0, ""))
            let done = DispatchSemaphore(value: 0)
            guard let target = URL(string: url) else { return (0, "") }
            URLSession.shared.dataTask(with: target) { data, response, _ in
                result.withLock {
                    $0 = (
                        (response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self)
                    )
                }
                done.signal()
            }.resume()
            done.wait()
            return result.withLock { $0 }
        }
    }
}

extension PicpipeCLI.ServeHardeningTests {
    /// `count` distinct JPEGs in a new folder.
    static func inputs(_ count: Int, in folder: URL, seed: Int) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for n in 0..<count {
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: seed + n, width: 640, height: 480)
                .write(to: folder.appendingPathComponent("p\(n).jpg"))
        }
    }

    /// Starts `picpipe batch` without waiting for it.
    static func startBatch(_ arguments: [String], log: URL) throws -> Process {
        let process = Process()
        process.executableURL = PicpipeProcess.binary
        process.arguments = ["batch"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "PICPIPE_STORE")
        environment.removeValue(forKey: "PICPIPE_CONFIG")
        process.environment = environment
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test func twoBatchesStartingTogetherOnAFreshStoreBothSucceed() async throws {
        let work = try PicpipeProcess.temporaryFolder("picpipe-two-batches")
        defer { try? FileManager.default.removeItem(at: work) }
        try Self.inputs(4, in: work.appendingPathComponent("a"), seed: 1)
        try Self.inputs(4, in: work.appendingPathComponent("b"), seed: 50)
        for round in 0..<4 {
            let store = work.appendingPathComponent("store-\(round)").path
            let first = try Self.startBatch(
                [work.appendingPathComponent("a").path, "--store", store, "-q"],
                log: work.appendingPathComponent("a-\(round).log"))
            let second = try Self.startBatch(
                [work.appendingPathComponent("b").path, "--store", store, "-q"],
                log: work.appendingPathComponent("b-\(round).log"))
            await first.exited()
            await second.exited()
            let logs =
                try String(contentsOf: work.appendingPathComponent("a-\(round).log"), encoding: .utf8)
                + String(contentsOf: work.appendingPathComponent("b-\(round).log"), encoding: .utf8)
            #expect(first.terminationStatus == 0 && second.terminationStatus == 0, "round \(round): \(logs)")
            #expect(try await StoreView.metadataRows(URL(fileURLWithPath: store)) == 8)
        }
    }

    @Test func serveStartingWhileABatchRunsBreaksNoneOfItsWrites() async throws {
        let work = try PicpipeProcess.temporaryFolder("picpipe-serve-beside-batch")
        defer { try? FileManager.default.removeItem(at: work) }
        try Self.inputs(40, in: work.appendingPathComponent("in"), seed: 7)
        let store = work.appendingPathComponent("store")
        let log = work.appendingPathComponent("batch.log")
        let batch = try Self.startBatch(
            [work.appendingPathComponent("in").path, "--store", store.path, "-j", "2"], log: log)
        // serve starts (sweeping temporary files) again and again while batch writes.
        while batch.isRunning {
            guard FileManager.default.fileExists(atPath: store.appendingPathComponent("db").path) else {
                try await Task.sleep(for: .milliseconds(20))
                continue
            }
            let serve = try await ServeProcess(store: store, environment: ["PICPIPE_WATCHER_ENABLED": "false"])
            await serve.stop()
        }
        await batch.exited()
        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(batch.terminationStatus == 0, "\(output)")
        #expect(!output.contains("failed:"))
        #expect(try await StoreView.metadataRows(store) == 40)
    }
}

extension PicpipeCLI.ServeHardeningTests {
    @Test func sigtermUnderLoadLosesNothingAndTheNextStartFinishesTheRest() async throws {
        let work = try PicpipeProcess.temporaryFolder("picpipe-sigterm")
        defer { try? FileManager.default.removeItem(at: work) }
        let store = work.appendingPathComponent("store")
        // Grace 0: whatever runs at SIGTERM is cut at once and put back, the hardest case for "nothing lost".
        let environment = ["PICPIPE_SHUTDOWN_GRACE": "0"]
        let staging = store.appendingPathComponent("uploads/.staging")
        let count = 200
        var serve = try await ServeProcess(store: store, environment: environment)
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        var names: [String] = []
        for n in 0..<count {
            let name = "load-\(n).jpg"
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 1000 + n, width: 800, height: 600)
                .write(to: staging.appendingPathComponent(name))
            names.append(name)
        }
        for name in names {
            rename(staging.appendingPathComponent(name).path, store.appendingPathComponent("uploads/\(name)").path)
        }
        try await ServeProcess.eventually("some processed") { try await StoreView.processed(store).count >= 10 }
        serve.signal(SIGTERM)
        let status = await serve.waitForExit(within: 120)
        await serve.stop()
        #expect(status == 0)
        let before = try await StoreView.processed(store).count
        #expect(before < count, "SIGTERM came while work was in flight")

        serve = try await ServeProcess(store: store, environment: environment)
        try await ServeProcess.eventually("all processed after the restart", within: 300) {
            try await StoreView.processed(store).count == count
        }
        try await ServeProcess.eventually("settled") { try await Self.settled(store) }
        await serve.stop()
        let events = try await StoreView.events(store)
        #expect(events.allSatisfy { $0.state == "succeeded" })
        #expect(events.count == 2 * count, "one thumbnail and one metadata invocation per file, none doubled")
        #expect(events.allSatisfy { $0.attempt == 1 }, "an invocation cut at shutdown is not counted as an attempt")
        #expect(try await StoreView.metadataRows(store) == count)
        #expect(ServeProcess.files(store, "thumbnails").filter { !$0.contains(".picpipe-tmp") }.count == 3 * count)
        #expect(ServeProcess.files(store, "uploads").isEmpty)
        #expect(ServeProcess.files(store, "failed").isEmpty)
    }
}

extension PicpipeCLI.ServeHardeningTests {
    @Test func sighupReloadsSizesAndLimitsWithoutDroppingWork() async throws {
        let work = try PicpipeProcess.temporaryFolder("picpipe-sighup")
        defer { try? FileManager.default.removeItem(at: work) }
        let store = work.appendingPathComponent("store")
        let config = work.appendingPathComponent("picpipe.yaml")
        try "thumbnails:\n  sizes: [128]\n".write(to: config, atomically: true, encoding: .utf8)
        let serve = try await ServeProcess(store: store, environment: ["PICPIPE_CONFIG": config.path])
        do {
            try await reloads(serve, store: store, config: config)
        } catch {
            await serve.stop()
            throw error
        }
        await serve.stop()
    }

    func reloads(_ serve: ServeProcess, store: URL, config: URL) async throws {
        try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
        let port = try #require(PicpipeCLI.ServeHTTPTests.port(in: serve.log))
        let uploads = store.appendingPathComponent("uploads")
        let first = try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 501, width: 800, height: 600)
        try first.write(to: uploads.appendingPathComponent("before.jpg"))
        try await ServeProcess.eventually("before processed") {
            try await StoreView.processed(store).contains("before.jpg")
        }
        let firstHash = Array(first).withUnsafeBytes { ContentHash(of: $0).hex }
        #expect(
            Set(
                ServeProcess.files(store, "thumbnails").filter { $0.contains(firstHash) }.map {
                    $0.split(separator: "/")[0]
                }) == ["128"])

        // Drop twenty files and reload while they are in flight.
        for n in 0..<20 {
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 600 + n, width: 800, height: 600)
                .write(to: uploads.appendingPathComponent("during-\(n).jpg"))
        }
        try "thumbnails:\n  sizes: [128, 300]\nfunctions:\n  thumbnail:\n    timeout: 20\n".write(
            to: config, atomically: true, encoding: .utf8)
        serve.signal(SIGHUP)
        try await ServeProcess.eventually("reloaded") { serve.log.contains("configuration reloaded") }
        try await ServeProcess.eventually("all twenty processed") {
            let processed = try await StoreView.processed(store)
            return (0..<20).allSatisfy { processed.contains("during-\($0).jpg") }
        }
        #expect(try await StoreView.events(store, state: "dead").isEmpty)

        let after = try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 777, width: 800, height: 600)
        try after.write(to: uploads.appendingPathComponent("after.jpg"))
        try await ServeProcess.eventually("after processed") {
            try await StoreView.processed(store).contains("after.jpg")
        }
        let afterHash = Array(after).withUnsafeBytes { ContentHash(of: $0).hex }
        #expect(
            Set(
                ServeProcess.files(store, "thumbnails").filter { $0.contains(afterHash) }.map {
                    $0.split(separator: "/")[0]
                }) == ["128", "300"])
        // The HTTP API serves the new size too, for an older picture as well (made on request).
        #expect(Self.blockingGet("http://127.0.0.1:\(port)/images/\(firstHash)/thumbnails/300").status == 200)

        // A broken file keeps the running configuration.
        try "thumbnails:\n  sizes: [oops\n".write(to: config, atomically: true, encoding: .utf8)
        serve.signal(SIGHUP)
        try await ServeProcess.eventually("refused") { serve.log.contains("configuration not reloaded") }
        #expect(Self.blockingGet("http://127.0.0.1:\(port)/healthz").status == 200)
        #expect(Self.blockingGet("http://127.0.0.1:\(port)/images/\(afterHash)/thumbnails/300").status == 200)
    }
}

extension PicpipeCLI.ServeHardeningTests {
    /// A request with `Authorization: Bearer key` (none when nil).
    static func keyed(_ method: String, _ url: String, key: String?, body: Data? = nil) async throws -> Int {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = method
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.setValue("image/jpeg", forHTTPHeaderField: "Content-Type")
            request.httpBody = body
        }
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    /// SIGHUP puts new keys, scoped keys and `protect_reads` in force at once: a revoked key is refused, a new one
    /// taken, and a thumbnail answered from the event loop's memory before is not given without a key once reads
    /// are protected. Until session 28 `auth` and the keys needed a restart (so revoking a key did).
    @Test func sighupRevokesKeysAndProtectsReadsWithoutARestart() async throws {
        let work = try PicpipeProcess.temporaryFolder("picpipe-sighup-auth")
        defer { try? FileManager.default.removeItem(at: work) }
        let store = work.appendingPathComponent("store")
        let config = work.appendingPathComponent("picpipe.yaml")
        let scoped =
            "auth:\n  api_keys:\n    - {name: ci, key: scoped-key-one-1234, scopes: [images:read, images:write]}\n"
        try ("http:\n  api_keys: [old-key-0123456789]\n" + scoped).write(to: config, atomically: true, encoding: .utf8)
        let serve = try await ServeProcess(
            store: store, environment: ["PICPIPE_CONFIG": config.path, "PICPIPE_AWS_ENABLED": "false"])
        do {
            try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
            let port = try #require(PicpipeCLI.ServeHTTPTests.port(in: serve.log))
            let base = "http://127.0.0.1:\(port)"
            let picture = try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 880, width: 320, height: 240)
            let hash = Array(picture).withUnsafeBytes { ContentHash(of: $0).hex }
            #expect(try await Self.keyed("POST", "\(base)/images", key: "old-key-0123456789", body: picture) == 202)
            #expect(try await Self.keyed("POST", "\(base)/images", key: "scoped-key-one-1234", body: picture) == 202)
            try await ServeProcess.eventually("thumbnail made") {
                try await Self.keyed("GET", "\(base)/images/\(hash)/thumbnails/128", key: nil) == 200
            }
            // Twice: the second is answered from the event loop's memory.
            #expect(try await Self.keyed("GET", "\(base)/images/\(hash)/thumbnails/128", key: nil) == 200)

            try ("http:\n  api_keys: [new-key-0123456789]\n  protect_reads: true\n")
                .write(to: config, atomically: true, encoding: .utf8)
            serve.signal(SIGHUP)
            try await ServeProcess.eventually("reloaded") { serve.log.contains("access reloaded") }
            #expect(try await Self.keyed("POST", "\(base)/images", key: "old-key-0123456789", body: picture) == 401)
            #expect(try await Self.keyed("POST", "\(base)/images", key: "scoped-key-one-1234", body: picture) == 401)
            #expect(try await Self.keyed("POST", "\(base)/images", key: "new-key-0123456789", body: picture) == 202)
            #expect(try await Self.keyed("GET", "\(base)/images/\(hash)/thumbnails/128", key: nil) == 401)
            #expect(
                try await Self.keyed("GET", "\(base)/images/\(hash)/thumbnails/128", key: "new-key-0123456789") == 200)
            #expect(!serve.log.contains("needs_restart=auth") && !serve.log.contains("needs_restart=http"))
        } catch {
            await serve.stop()
            throw error
        }
        await serve.stop()
    }
}
