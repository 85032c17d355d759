// Import by URL through the real `serve` (POST /images {"url"}) and `picpipe import`, from a loopback source
// (scripts/import-test-source.py): a JPEG, a redirect chain, a 2 GB stream cut at the cap, a slow drip cut by the
// timeout, an HTML page, and redirects to the metadata address and to IPv4-mapped loopback, all refused safely.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The loopback picture source.
final class ImportSource {
    let process = Process()
    let port: Int
    let jpeg: Data
    var base: String { "http://127.0.0.1:\(port)" }

    init(folder: URL) async throws {
        jpeg = try PicpipeCLI.OIDCAuthTests.jpeg(seed: 21)
        let picture = folder.appendingPathComponent("source.jpg")
        try jpeg.write(to: picture)
        let portFile = folder.appendingPathComponent("source.port")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", PicpipeProcess.packageRoot.appendingPathComponent("scripts/import-test-source.py").path,
            portFile.path, picture.path,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var found: Int?
        let process = self.process
        try await ServeProcess.eventually("the source listening", within: 60) {
            found = (try? String(contentsOf: portFile, encoding: .utf8)).flatMap { Int($0) }
            return found != nil || !process.isRunning
        }
        guard let found else { throw ServeTestError.timedOut("the import source did not start") }
        port = found
    }

    /// Kills it: a child of the test process inherits its ignored SIGTERM, so only SIGKILL ends it.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

extension PicpipeCLI {
    @Suite(.serialized) struct ImportTests {
        static func importing(_ base: String, _ url: String) async throws -> HTTPCall {
            try await HTTPCall.send(
                "POST", "\(base)/images", headers: ["Content-Type": "application/json"],
                body: try JSONSerialization.data(withJSONObject: ["url": url]))
        }

        static func expect(
            _ answer: HTTPCall, _ status: Int, _ code: String, _ words: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            #expect(answer.status == status, "\(answer.text)", sourceLocation: sourceLocation)
            #expect(answer.text.contains("\"\(code)\""), "\(answer.text)", sourceLocation: sourceLocation)
            #expect(answer.text.contains(words), "\(answer.text)", sourceLocation: sourceLocation)
        }

        @Test func importsThroughServeAndRefusesWhatIsUnsafe() async throws {
            let root = try PicpipeProcess.temporaryFolder("import")
            defer { try? FileManager.default.removeItem(at: root) }
            let source = try await ImportSource(folder: root)
            defer { source.stop() }
            let (serve, base) = try await OIDCAuthTests.serve(
                in: root,
                config: """
                    import:
                      allow: [127.0.0.1/32]
                      max_bytes: 1048576
                      timeout: 4
                    """)
            do {
                // A JPEG served with a lying Content-Type: imported by its bytes, under its content id, named
                // by its URL in the index and in the event record.
                let url = "\(source.base)/photo.jpg"
                let imported = try await Self.importing(base, url)
                #expect(imported.status == 202, "\(imported.text)")
                let id = try #require(
                    (try JSONSerialization.jsonObject(with: imported.body) as? [String: Any])?["id"] as? String)
                let original = try await HTTPCall.send("GET", "\(base)/images/\(id)")
                #expect(original.body == source.jpeg)
                try await ServeProcess.eventually("the imported picture processed") {
                    try StoreView.processed(serve.store).contains(url)
                }
                let events = try StoreView.events(serve.store)
                #expect(events.contains { $0.sourceName == url && $0.eventName == "ObjectCreated:Put" })
                let listing = try await HTTPCall.send("GET", "\(base)/images")
                #expect(listing.text.contains("\"name\":\"\(url.replacingOccurrences(of: "/", with: "\\/"))\"")
                    || listing.text.contains("\"name\":\"\(url)\""), "\(listing.text)")

                // A chain of 5 redirects is followed; 10 are too many.
                let chained = try await Self.importing(base, "\(source.base)/r/4")
                #expect(chained.status == 202, "\(chained.text)")
                Self.expect(try await Self.importing(base, "\(source.base)/r/9"), 422, "import_failed", "redirects")

                // A 2 GB stream is cut at the 1 MiB cap; a drip of a byte a second is cut by the 4 s timeout; an
                // HTML page is not a picture. Nothing of them stays in uploads/.
                Self.expect(try await Self.importing(base, "\(source.base)/huge"), 413, "import_too_large", "1048576")
                Self.expect(try await Self.importing(base, "\(source.base)/drip"), 422, "import_timeout", "import.timeout")
                Self.expect(
                    try await Self.importing(base, "\(source.base)/page.html"), 415, "unsupported_media_type",
                    "not a JPEG, PNG, WebP, GIF, HEIC or AVIF image")
                try await ServeProcess.eventually("uploads/ empty") { StoreView.files(serve.store, "uploads").isEmpty }

                // Redirects to the metadata address and to loopback spelled as IPv4-mapped IPv6 are refused even
                // though 127.0.0.1/32 is allowed.
                Self.expect(
                    try await Self.importing(base, "\(source.base)/to-metadata"), 400, "url_refused",
                    "169.254.169.254 is link-local")
                Self.expect(
                    try await Self.importing(base, "\(source.base)/to-mapped"), 400, "url_refused",
                    "::ffff:127.0.0.1 embeds 127.0.0.1 is loopback")
                Self.expect(try await Self.importing(base, "ftp://127.0.0.1/a.jpg"), 400, "url_refused", "only http")
                Self.expect(try await Self.importing(base, "file:///etc/passwd"), 400, "url_refused", "only http")
                Self.expect(
                    try await Self.importing(base, "http://user:secret@127.0.0.1:\(source.port)/photo.jpg"), 400,
                    "url_refused", "user or password")
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()

            // The default configuration: loopback, private and metadata addresses refused before any connection.
            let (plain, plainBase) = try await OIDCAuthTests.serve(in: root, config: "logging: {level: info}\n")
            do {
                Self.expect(
                    try await Self.importing(plainBase, "\(source.base)/photo.jpg"), 400, "url_refused",
                    "127.0.0.1 is loopback")
                Self.expect(
                    try await Self.importing(plainBase, "http://[::ffff:127.0.0.1]:\(source.port)/photo.jpg"), 400,
                    "url_refused", "embeds 127.0.0.1 is loopback")
                Self.expect(
                    try await Self.importing(plainBase, "http://169.254.169.254/latest/meta-data/"), 400,
                    "url_refused", "link-local")
                Self.expect(try await Self.importing(plainBase, "http://10.1.2.3/a.jpg"), 400, "url_refused", "private")
                Self.expect(
                    try await Self.importing(plainBase, "http://100.64.0.1/a.jpg"), 400, "url_refused", "carrier-grade")
                Self.expect(try await Self.importing(plainBase, "http://[fd00::1]/a.jpg"), 400, "url_refused", "unique local")
                Self.expect(try await Self.importing(plainBase, "http://224.0.0.1/a.jpg"), 400, "url_refused", "multicast")
                Self.expect(
                    try await Self.importing(plainBase, "http://[64:ff9b::a9fe:a9fe]/"), 400, "url_refused",
                    "embeds 169.254.169.254")
            } catch {
                await plain.stop()
                throw error
            }
            await plain.stop()
        }

        @Test func importCommandQueuesOrRunsTheFunctions() async throws {
            let root = try PicpipeProcess.temporaryFolder("import-cli")
            defer { try? FileManager.default.removeItem(at: root) }
            let source = try await ImportSource(folder: root)
            defer { source.stop() }
            let store = root.appendingPathComponent("store")
            try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
            let allow = ["PICPIPE_IMPORT_ALLOW": "127.0.0.1/32"]

            // RequestResponse: the functions ran; thumbnails are on disk.
            let url = "\(source.base)/photo.jpg"
            let now = try PicpipeProcess.run(
                ["import", url, "--store", store.path, "--invocation-type", "RequestResponse"], environment: allow)
            #expect(now.status == 0, "\(now.stderr)")
            let line = try #require(
                try JSONSerialization.jsonObject(with: Data(now.stdout.utf8)) as? [String: Any])
            #expect(line["url"] as? String == url)
            #expect((line["results"] as? [String: Any])?.keys.sorted() == ["metadata", "thumbnail"])
            #expect(!StoreView.files(store, "thumbnails").isEmpty)
            #expect(try StoreView.events(store).contains { $0.sourceName == url })

            // Event (the default): queued for serve; a refused URL is named with its reason, the others go on.
            let chain = "\(source.base)/r/2"
            let queued = try PicpipeProcess.run(
                ["import", chain, "http://169.254.169.254/", "--store", store.path], environment: allow)
            #expect(queued.status == 1)
            #expect(queued.stderr.contains("picpipe: http://169.254.169.254/: "))
            #expect(queued.stderr.contains("link-local"))
            let queuedLine = try #require(
                try JSONSerialization.jsonObject(with: Data(queued.stdout.utf8)) as? [String: Any])
            #expect(queuedLine["event_id"] != nil)
            let pending = try StoreView.events(store, state: "queued")
            #expect(pending.contains { $0.sourceName == chain })

            // Without the allow-list, loopback is refused.
            let refused = try PicpipeProcess.run(["import", url, "--store", store.path])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("127.0.0.1 is loopback"))
        }
    }
}
