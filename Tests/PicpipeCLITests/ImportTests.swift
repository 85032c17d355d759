// Import by URL through the real `serve` (POST /images {"url"}) and `picpipe import`, from a loopback source
// (scripts/import-test-source.py): a JPEG, a redirect chain, a 2 GB stream cut at the cap, a slow drip cut by the
// timeout, an HTML page, and redirects to the metadata address and to IPv4-mapped loopback, all refused safely.
import Crypto
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
        /// POST /images {"url"}: Event (the default, queued) or RequestResponse (answered with the picture).
        static func importing(
            _ base: String, _ url: String, wait: Bool = true, headers: [String: String] = [:]
        ) async throws -> HTTPCall {
            var body: [String: String] = ["url": url]
            if wait { body["invocation_type"] = "RequestResponse" }
            return try await HTTPCall.send(
                "POST", "\(base)/images", headers: headers.merging(["Content-Type": "application/json"]) { $1 },
                body: try JSONSerialization.data(withJSONObject: body))
        }

        static func object(_ answer: HTTPCall) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any]) ?? [:]
        }

        /// Expects a refusal; with `naming`, that its message names that URL once (and the redirect it led to).
        static func expect(
            _ answer: HTTPCall, _ status: Int, _ code: String, _ words: String, naming url: String? = nil,
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            if let url {
                let message = (object(answer)["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(
                    message.hasPrefix(url + ": ") || message.hasPrefix(url + " (redirected to "), "\(message)",
                    sourceLocation: sourceLocation)
                #expect(message.components(separatedBy: url).count == 2, "\(message)", sourceLocation: sourceLocation)
            }
            #expect(answer.status == status, "\(answer.text)", sourceLocation: sourceLocation)
            #expect(answer.text.contains("\"\(code)\""), "\(answer.text)", sourceLocation: sourceLocation)
            #expect(answer.text.contains(words), "\(answer.text)", sourceLocation: sourceLocation)
        }

        @Test func importsThroughTheFetchFunctionAndRefusesWhatIsUnsafe() async throws {
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
                    functions:
                      fetch: {max_retries: 1}
                    """)
            do {
                // Event (the default): 202 with the fetch invocation and its journal record; serve's fetch worker
                // downloads the JPEG (served with a lying Content-Type: taken by its bytes), stores it under its
                // content id, and its ObjectCreated:Put, named by the URL, runs the thumbnail and metadata functions.
                let url = "\(source.base)/photo.jpg"
                let queued = try await Self.importing(base, url, wait: false)
                #expect(queued.status == 202, "\(queued.text)")
                let answer = Self.object(queued)
                #expect(answer["function"] as? String == "fetch")
                #expect(answer["invocation_id"] as? Int != nil)
                let record = answer["record"] as? [String: Any]
                #expect(record?["eventName"] as? String == "ObjectImport:URL")
                #expect(
                    ((record?["s3"] as? [String: Any])?["object"] as? [String: Any])?["sourceName"] as? String == url)
                try await ServeProcess.eventually("the imported picture processed") {
                    try await StoreView.processed(serve.store).contains(url)
                }
                let id = SHA256.hash(data: source.jpeg).map { String(format: "%02x", $0) }.joined()
                #expect(try await HTTPCall.send("GET", "\(base)/images/\(id)").body == source.jpeg)
                let events = try await StoreView.events(serve.store)
                let fetch = events.first { $0.function == "fetch" && $0.sourceName == url }
                #expect(fetch?.state == "succeeded" && fetch?.eventName == "ObjectImport:URL" && fetch?.type == "Event")
                #expect(events.contains { $0.sourceName == url && $0.eventName == "ObjectCreated:Put" })
                let listing = try await HTTPCall.send("GET", "\(base)/images")
                #expect(
                    listing.text.contains("\"name\":\"\(url.replacingOccurrences(of: "/", with: "\\/"))\"")
                        || listing.text.contains("\"name\":\"\(url)\""), "\(listing.text)")
                let stats = try await PicpipeProcess.run(["stats", "--store", serve.store.path, "--json"], timeout: 60)
                #expect(stats.stdout.contains("\"fetch\""), "\(stats.stdout)")

                // RequestResponse: answered with the picture once it is stored. A chain of 4 redirects is followed.
                let chained = try await Self.importing(base, "\(source.base)/r/4")
                #expect(chained.status == 201, "\(chained.text)")
                #expect(Self.object(chained)["id"] as? String == id)
                #expect(Self.object(chained)["source"] as? String == "\(source.base)/r/4")
                #expect(chained.header("Location") == "/images/\(id)")
                // The ETag of what it stored, as a POST's or PUT's answer carries (until session 31 none).
                #expect(chained.header("ETag") == "\"\(id)\"")
                #expect(Self.object(chained)["duplicate"] as? Bool == false)
                // The same URL again created nothing: 200, as a PUT of an existing id (until session 37 201).
                let again = try await Self.importing(base, "\(source.base)/r/4")
                #expect(again.status == 200, "\(again.text)")
                #expect(Self.object(again)["duplicate"] as? Bool == true)
                #expect(Self.object(again)["id"] as? String == id)
                #expect(again.header("Location") == "/images/\(id)")
                // Each refusal names the URL once, and where redirects led (until session 31 a redirect limit, a
                // size cap, a timeout and a refused address did not name it).
                Self.expect(
                    try await Self.importing(base, "\(source.base)/r/9"), 422, "import_failed",
                    "redirects (import.max_redirects), the last to \(source.base)/r/", naming: "\(source.base)/r/9")

                // A 2 GB stream is cut at the 1 MiB cap; a drip of a byte a second is cut by the 4 s timeout; an
                // HTML page is not a picture. Nothing of them stays in uploads/.
                Self.expect(
                    try await Self.importing(base, "\(source.base)/huge"), 413, "import_too_large", "1048576",
                    naming: "\(source.base)/huge")
                Self.expect(
                    try await Self.importing(base, "\(source.base)/drip"), 422, "import_timeout", "import.timeout",
                    naming: "\(source.base)/drip")
                Self.expect(
                    try await Self.importing(base, "\(source.base)/page.html"), 415, "unsupported_media_type",
                    "not a JPEG, PNG, WebP, GIF, HEIC or AVIF image", naming: "\(source.base)/page.html")
                Self.expect(
                    try await Self.importing(base, "\(source.base)/cut"), 422, "import_failed",
                    "the source closed the connection after ", naming: "\(source.base)/cut")
                try await ServeProcess.eventually("uploads/ empty") { StoreView.files(serve.store, "uploads").isEmpty }

                // Redirects to the metadata address and to loopback spelled as IPv4-mapped IPv6 are refused even
                // though 127.0.0.1/32 is allowed.
                Self.expect(
                    try await Self.importing(base, "\(source.base)/to-metadata"), 400, "url_refused",
                    "(redirected to http://169.254.169.254/latest/meta-data/): 169.254.169.254 is link-local",
                    naming: "\(source.base)/to-metadata")
                Self.expect(
                    try await Self.importing(base, "\(source.base)/to-mapped"), 400, "url_refused",
                    "::ffff:127.0.0.1 embeds 127.0.0.1 is loopback")
                // A port past 65535, asked or redirected to, is refused: the HTTP client trapped on it, and the
                // queued import took serve down again at every start.
                Self.expect(
                    try await Self.importing(base, "http://8.8.8.8:65536/a.jpg"), 400, "url_refused",
                    "port 65536 is not a TCP port")
                Self.expect(
                    try await Self.importing(base, "\(source.base)/to-bad-port"), 400, "url_refused",
                    "port 70000 is not a TCP port")
                Self.expect(try await Self.importing(base, "ftp://127.0.0.1/a.jpg"), 400, "url_refused", "only http")
                Self.expect(
                    try await Self.importing(base, "file:///etc/passwd", wait: false), 400, "url_refused", "only http")
                // A URL without a host is refused before anything is journaled (until session 31 it was queued, then
                // dead-lettered).
                for text in ["http:///photo.jpg", "http:127.0.0.1:\(source.port)/photo.jpg"] {
                    Self.expect(
                        try await Self.importing(base, text, wait: false), 400, "url_refused", "the URL has no host")
                    #expect(try await !StoreView.events(serve.store).contains { $0.sourceName == text }, "\(text)")
                }
                Self.expect(
                    try await Self.importing(base, "http://user:secret@127.0.0.1:\(source.port)/photo.jpg"), 400,
                    "url_refused", "user or password")

                // Queued imports fail as any function does: a refused address is not retried and goes to the dead
                // letter at once; a source that does not answer is retried (max_retries 1), then dead-lettered.
                let refusedURL = "\(source.base)/to-metadata"
                #expect(try await Self.importing(base, refusedURL, wait: false).status == 202)
                let missingURL = "\(source.base)/missing.jpg"
                #expect(try await Self.importing(base, missingURL, wait: false).status == 202)
                // A body the source cuts short may come whole next time: retried too (until session 31 it was the
                // upload spool's malformed_request and dead-lettered at once).
                let cutURL = "\(source.base)/cut"
                #expect(try await Self.importing(base, cutURL, wait: false).status == 202)
                try await ServeProcess.eventually("the three imports dead-lettered") {
                    let dead = try await StoreView.events(serve.store, state: "dead").filter { $0.function == "fetch" }
                    return Set(dead.compactMap(\.sourceName)).isSuperset(of: [refusedURL, missingURL, cutURL])
                }
                let dead = try await StoreView.events(serve.store, state: "dead").filter { $0.function == "fetch" }
                let refusedLine = dead.first { $0.sourceName == refusedURL }
                #expect(refusedLine?.attempt == 1 && refusedLine?.error?.contains("link-local") == true)
                let missingLine = dead.first { $0.sourceName == missingURL }
                #expect(missingLine?.attempt == 2 && missingLine?.error?.contains("import_failed") == true)
                let cutLine = dead.first { $0.sourceName == cutURL }
                #expect(cutLine?.attempt == 2, "\(String(describing: cutLine))")
                #expect(cutLine?.error?.contains("\(cutURL): import_failed: the source closed the connection") == true)
                let letters = StoreView.files(serve.store, "failed")
                #expect(letters.contains("to-metadata.fetch.error.json"), "\(letters)")
                let letter = try Data(
                    contentsOf: serve.store.appendingPathComponent("failed/to-metadata.fetch.error.json"))
                #expect(String(decoding: letter, as: UTF8.self).contains(refusedURL))
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
                Self.expect(
                    try await Self.importing(plainBase, "http://[fd00::1]/a.jpg"), 400, "url_refused", "unique local")
                Self.expect(
                    try await Self.importing(plainBase, "http://224.0.0.1/a.jpg"), 400, "url_refused", "multicast")
                Self.expect(
                    try await Self.importing(plainBase, "http://[64:ff9b::a9fe:a9fe]/"), 400, "url_refused",
                    "embeds 169.254.169.254")
                // A name is checked by the addresses it resolves to (localhost: 127.0.0.1, and ::1 where the
                // resolver has it), not by how it is spelled.
                Self.expect(
                    try await Self.importing(plainBase, "http://localhost:\(source.port)/photo.jpg"), 400,
                    "url_refused", "is loopback")
            } catch {
                await plain.stop()
                throw error
            }
            await plain.stop()

            // With API keys, an import needs functions:invoke besides images:write (it runs the fetch function).
            let writeOnly = "import-writer-key-0123"
            let invoker = "import-invoker-key-0123"
            let (keyed, keyedBase) = try await OIDCAuthTests.serve(
                in: root,
                config: """
                    import:
                      allow: [127.0.0.1/32]
                    auth:
                      api_keys:
                        - {name: writer, key: \(writeOnly), scopes: [images:read, images:write]}
                        - {name: invoker, key: \(invoker), scopes: [images:read, images:write, functions:invoke]}
                    """)
            do {
                let refused = try await Self.importing(
                    keyedBase, "\(source.base)/photo.jpg", headers: HTTPCall.bearer(writeOnly))
                OIDCAuthTests.expectMissingScope(refused, "functions:invoke")
                let admitted = try await Self.importing(
                    keyedBase, "\(source.base)/photo.jpg", headers: HTTPCall.bearer(invoker))
                #expect(admitted.status == 201, "\(admitted.text)")
            } catch {
                await keyed.stop()
                throw error
            }
            await keyed.stop()
        }

        @Test func importCommandInvokesTheFetchFunction() async throws {
            let root = try PicpipeProcess.temporaryFolder("import-cli")
            defer { try? FileManager.default.removeItem(at: root) }
            let source = try await ImportSource(folder: root)
            defer { source.stop() }
            let store = root.appendingPathComponent("store")
            // A store (import makes none: an empty folder is refused as `events` refuses it).
            try FileManager.default.createDirectory(
                at: store.appendingPathComponent("originals"), withIntermediateDirectories: true)
            let allow = ["PICPIPE_IMPORT_ALLOW": "127.0.0.1/32"]

            // RequestResponse: the fetch ran, then the thumbnail and metadata functions; thumbnails are on disk.
            let url = "\(source.base)/photo.jpg"
            let now = try await PicpipeProcess.run(
                ["import", url, "--store", store.path, "--invocation-type", "RequestResponse"], environment: allow)
            #expect(now.status == 0, "\(now.stderr)")
            let line = try #require(
                try JSONSerialization.jsonObject(with: Data(now.stdout.utf8)) as? [String: Any])
            #expect(line["url"] as? String == url)
            #expect(
                line["sha256"] as? String == SHA256.hash(data: source.jpeg).map { String(format: "%02x", $0) }.joined())
            #expect(line["results"] as? [String: String] == ["metadata": "succeeded", "thumbnail": "succeeded"])
            #expect(!StoreView.files(store, "thumbnails").isEmpty)
            let events = try await StoreView.events(store)
            #expect(events.contains { $0.function == "fetch" && $0.sourceName == url && $0.type == "RequestResponse" })
            #expect(events.contains { $0.eventName == "ObjectCreated:Put" && $0.sourceName == url })

            // Event (the default): the fetch invocation is queued for serve; a refused URL is named with its
            // reason, the others go on.
            let chain = "\(source.base)/r/2"
            let queued = try await PicpipeProcess.run(
                ["import", chain, "ftp://example.com/a.jpg", "http:///a.jpg", "--store", store.path],
                environment: allow)
            #expect(queued.status == 1)
            #expect(queued.stderr.contains("picpipe: ftp://example.com/a.jpg: "))
            #expect(queued.stderr.contains("only http and https"))
            #expect(
                queued.stderr.contains("picpipe: http:///a.jpg: url_refused: the URL has no host"), "\(queued.stderr)")
            let queuedLine = try #require(
                try JSONSerialization.jsonObject(with: Data(queued.stdout.utf8)) as? [String: Any])
            #expect(queuedLine["invocation_id"] as? Int != nil)
            #expect(queuedLine["state"] as? String == "queued")
            let pending = try await StoreView.events(store, state: "queued")
            #expect(pending.contains { $0.sourceName == chain && $0.function == "fetch" })
            #expect(try await !StoreView.events(store).contains { $0.sourceName == "http:///a.jpg" })

            // The fetch function's memory_mb bounds the pixels a picture may declare, as the thumbnail function's
            // does, and the refusal names it (until session 31 it blamed limits.max_pixels, which was 100 MP here).
            let wide = "\(source.base)/wide.png"
            let bounded = try await PicpipeProcess.run(
                ["import", wide, "--store", store.path, "--invocation-type", "RequestResponse"],
                environment: allow.merging(["PICPIPE_FUNCTIONS_FETCH_MEMORY_MB": "1"]) { $1 })
            #expect(bounded.status == 1)
            #expect(bounded.stderr.contains("1000000 pixels, over the limit of 131072 pixels"), "\(bounded.stderr)")
            #expect(
                bounded.stderr.contains(
                    "(set by functions.fetch.memory_mb: 1 MiB at 8 bytes a pixel; raise memory_mb for larger pictures)"),
                "\(bounded.stderr)")
            #expect(!bounded.stderr.contains("limits.max_pixels"), "\(bounded.stderr)")

            // A refusal's line names the URL once (until session 31 a 415 and a retried failure named it twice:
            // `picpipe: URL: unsupported_media_type: URL is not a JPEG …`).
            let page = "\(source.base)/page.html"
            let missing = "\(source.base)/missing.jpg"
            let refusals = try await PicpipeProcess.run(
                ["import", page, missing, "--store", store.path, "--invocation-type", "RequestResponse"],
                environment: allow)
            #expect(refusals.status == 1)
            #expect(
                refusals.stderr.contains(
                    "picpipe: \(page): unsupported_media_type: not a JPEG, PNG, WebP, GIF, HEIC or AVIF image"),
                "\(refusals.stderr)")
            #expect(
                refusals.stderr.contains("picpipe: \(missing): import_failed: the source answered 404"),
                "\(refusals.stderr)")
            #expect(refusals.stderr.components(separatedBy: page).count == 2, "\(refusals.stderr)")
            #expect(refusals.stderr.components(separatedBy: missing).count == 2, "\(refusals.stderr)")

            // Without the allow-list, loopback is refused by the function (RequestResponse reports it).
            let refused = try await PicpipeProcess.run(
                ["import", url, "--store", store.path, "--invocation-type", "RequestResponse"])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("127.0.0.1 is loopback"), "\(refused.stderr)")
            // The line names the URL once, then the code and the reason.
            #expect(refused.stderr.components(separatedBy: url).count == 2, "\(refused.stderr)")
            #expect(refused.stderr.contains("picpipe: \(url): url_refused: 127.0.0.1 is loopback"), "\(refused.stderr)")
            // A URL refused before anything is journaled reads the same, code included (until session 37 it had
            // none).
            let secret = "http://user:pw@127.0.0.1:\(source.port)/x.jpg"
            let unjournaled = try await PicpipeProcess.run(["import", secret, "--store", store.path])
            #expect(unjournaled.status == 1)
            #expect(
                unjournaled.stderr.contains(
                    "picpipe: http://***@127.0.0.1:\(source.port)/x.jpg: url_refused: a URL with a user or password "
                        + "is refused"), "\(unjournaled.stderr)")
        }
    }
}
