// The gallery in a real headless Chromium driven by Selenium (Tests/Browser/gallery_test.py) against the real
// `picpipe serve` holding corpus pictures. Screenshots land in .build/gallery-artifacts/ for a person to look at.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct GalleryBrowserTests {
        static let artifacts = PicpipeProcess.packageRoot.appendingPathComponent(".build/gallery-artifacts")

        /// What the suite needs and is missing (chromium, chromedriver, selenium in the venv).
        static func missingComponents() -> [String] {
            var missing: [String] = []
            let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            for tool in ["chromium", "chromedriver"]
            where !paths.contains(where: { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }) {
                missing.append(tool)
            }
            let python = APIConformanceTests.venv.appendingPathComponent("bin/python")
            let selenium = Process()
            selenium.executableURL = python
            selenium.arguments = ["-c", "import selenium"]
            selenium.standardOutput = FileHandle.nullDevice
            selenium.standardError = FileHandle.nullDevice
            if (try? selenium.run()) == nil {
                missing.append("python venv \(APIConformanceTests.venv.path)")
            } else {
                selenium.waitUntilExit()
                if selenium.terminationStatus != 0 {
                    missing.append("selenium (pip) in \(APIConformanceTests.venv.path)")
                }
            }
            return missing
        }

        /// Whether the browser suite can run: outside CI a missing component skips it (with a note), in CI it fails.
        static func browserAvailable() -> Bool {
            let missing = missingComponents()
            guard missing.isEmpty else {
                #expect(
                    ProcessInfo.processInfo.environment["CI"] != "true",
                    "the browser suite needs \(missing.joined(separator: ", ")); .ci/run installs them")
                print(
                    "skipped: the browser suite needs \(missing.joined(separator: ", ")) (apt-get install chromium chromium-driver; pip install selenium)"
                )
                return false
            }
            return true
        }

        @Test(.enabled(if: PicpipeProcess.hasCorpus)) func galleryWorksInARealBrowser() async throws {
            guard Self.browserAvailable() else { return }
            let root = try PicpipeProcess.temporaryFolder("gallery-browser")
            defer { try? FileManager.default.removeItem(at: root) }
            let store = root.appendingPathComponent("store")
            let uploads = store.appendingPathComponent("uploads")
            try FileManager.default.createDirectory(at: uploads, withIntermediateDirectories: true)
            // Every camera file of the corpus and the basic PNGs (no EXIF date): more than one grid page.
            let corpus = PicpipeProcess.corpus
            for (folder, keep) in [
                ("jpeg-exif", { (name: String) in name.hasSuffix(".jpg") }), ("png-suite", { $0.hasPrefix("basn") }),
            ] {
                let source = corpus.appendingPathComponent(folder)
                for name in try FileManager.default.contentsOfDirectory(atPath: source.path).sorted() where keep(name) {
                    try FileManager.default.copyItem(
                        at: source.appendingPathComponent(name), to: uploads.appendingPathComponent(name))
                }
            }
            try? FileManager.default.removeItem(at: Self.artifacts)
            // A fixed free port: the suite restarts serve on the same address, as a user's bookmark would expect.
            let port = try Self.freePort()
            let serve = try await ServeProcess(store: store, environment: ["PICPIPE_LISTEN": "127.0.0.1:\(port)"])
            do {
                try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
                let output = try await Self.runSuite(
                    url: "http://127.0.0.1:\(port)", store: store, servePID: serve.process.processIdentifier,
                    good: corpus.appendingPathComponent("jpeg-odd/baseline-testorig.jpg"),
                    live: corpus.appendingPathComponent("png-suite/basi2c08.png"),
                    put: corpus.appendingPathComponent("jpeg-odd/exif-bad-ifd-offset.jpg"),
                    replacement: corpus.appendingPathComponent("jpeg-odd/cmyk-plain-mozilla.jpg"))
                print(output.text.split(separator: "\n").filter { $0.hasPrefix("gallery browser suite") }.joined())
                #expect(output.status == 0, "\(output.text.suffix(4000))\nserve log:\n\(serve.log.suffix(3000))")
                for screenshot in ["grid.png", "detail.png"] {
                    let path = Self.artifacts.appendingPathComponent(screenshot).path
                    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                    #expect(size > 10_000, "\(screenshot) saved in \(Self.artifacts.path)")
                }
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()
        }

        /// Where a test's key is configured: under `http.api_keys` (every scope) or `auth.api_keys` (named, scoped:
        /// the main form; until session 33 the page did not see those keys, and offered no way to enter one).
        static let keyPlaces = ["http.api_keys", "auth.api_keys"]

        /// A configuration with this key where `place` says (scoped `images:read`, `images:write`,
        /// `images:delete` under `auth.api_keys`), these further `http` settings, and these further keys under
        /// `auth.api_keys` (`{name: …, key: …, scopes: […]}`).
        static func config(key: String, under place: String, http settings: [String] = [], scoped: [String] = [])
            -> String
        {
            let plain = place == "http.api_keys" ? ["api_keys: [\(key)]"] : []
            let lines = plain + settings
            var text = lines.isEmpty ? "" : "http:\n" + lines.map { "  \($0)\n" }.joined()
            var keys = scoped
            if place == "auth.api_keys" {
                keys.insert("{name: gallery, key: \(key), scopes: [images:read, images:write, images:delete]}", at: 0)
            }
            if !keys.isEmpty { text += "auth:\n  api_keys:\n" + keys.map { "    - \($0)\n" }.joined() }
            return text
        }

        /// Reads need a key (`http.protect_reads`, a signing key): the page asks for the key, shows thumbnails through
        /// the listing's signed URLs and follows the stream through a signed stream URL. The key form opens with the
        /// focus in its field and no "Enter API key" beside it, after a refusal too, and Cancel then takes the refusal
        /// away (until session 36 neither).
        @Test(.enabled(if: PicpipeProcess.hasCorpus), arguments: keyPlaces)
        func galleryWorksWhenReadsNeedAKey(keyUnder place: String) async throws {
            let key = "gallery-reader-key-0123"
            try await Self.runWithKeys(
                folder: "gallery-protected",
                config: Self.config(
                    key: key, under: place, http: ["protect_reads: true", "signing_key: gallery-signing-key-0123"]),
                arguments: [
                    "--protected-key", key,
                    "--live", PicpipeProcess.corpus.appendingPathComponent("png-suite/basi2c08.png").path,
                    "--webp", PicpipeProcess.corpus.appendingPathComponent("bad/webp-named-as.png").path,
                ],
                screenshot: "protected-grid.png")
        }

        /// API keys are configured and reads are public (no `protect_reads`): the grid and the detail view work
        /// without a key and show no write control; the key, entered once, shows them and survives a reload (the
        /// tab's session storage); a drag-and-drop upload then sends it. A read-only key and a key that may upload
        /// but not delete are offered only what they may do, and told why (until session 34 every key saw Upload,
        /// the drop zone, Replace and Delete, each ending in the API's 403).
        @Test(.enabled(if: PicpipeProcess.hasCorpus), arguments: keyPlaces)
        func galleryAsksForAKeyOnlyToWrite(keyUnder place: String) async throws {
            let key = "gallery-writer-key-0123"
            let viewer = "gallery-viewer-key-0123"
            let uploader = "gallery-uploader-key-0123"
            try await Self.runWithKeys(
                folder: "gallery-write-key",
                config: Self.config(
                    key: key, under: place,
                    scoped: [
                        "{name: viewer, key: \(viewer), scopes: [images:read]}",
                        "{name: uploader, key: \(uploader), scopes: [images:read, images:write]}",
                    ]),
                arguments: [
                    "--write-key", key, "--read-only-key", viewer, "--upload-key", uploader,
                    "--good", PicpipeProcess.corpus.appendingPathComponent("jpeg-odd/baseline-testorig.jpg").path,
                ],
                screenshot: nil)
        }

        /// The detail view's dimensions of pictures turned by EXIF, by a HEIF container's irot with the EXIF
        /// orientation kept, and by irot alone; date filters in the URL that are not a full day; the detail view's
        /// own URL (deep link, Back, Forward); tiny pictures scaled up and swiped beside the picture; "Find camera" on a
        /// page just opened offers only the cameras found (until session 36 every camera still, until Clear); a click
        /// on the drop zone opens the file picker (until session 36 only Enter and Space did); the arrow keys step
        /// while "All EXIF tags" has the focus (until session 36 they did not); a picture sent without a file name is
        /// named by its id's first 12 digits (until session 36 all 64 were read out); on a phone a refused upload's row
        /// shows its whole name, the answer below, and a bar of the error's colour (until session 36 fixed columns);
        /// on a phone the filters fold behind a "Filters" button that counts those set (until session 36 always open);
        /// the filters set read in the text colour, not the examples' grey (until session 37 their labels' grey); the
        /// camera line names the make once, "NIKON D5000" (until session 37 "NIKON CORPORATION NIKON D5000").
        @Test(.enabled(if: PicpipeProcess.hasCorpus)) func galleryLinksDatesAndOddPictures() async throws {
            guard Self.browserAvailable() else { return }
            guard FormatsEndToEndTests.available("avifenc") else { return }
            let root = try PicpipeProcess.temporaryFolder("gallery-links")
            defer { try? FileManager.default.removeItem(at: root) }
            let store = root.appendingPathComponent("store")
            let uploads = store.appendingPathComponent("uploads")
            try FileManager.default.createDirectory(at: uploads, withIntermediateDirectories: true)
            let corpus = PicpipeProcess.corpus
            for path in [
                "jpeg-exif/orientation-portrait_6.jpg", "jpeg-exif/exiftool-google-pixel-8-pro.jpg",
                "png-suite/basn2c08.png", "jpeg-exif/apple-iphone-4.jpg", "jpeg-exif/nikon-d5000.jpg",
                "jpeg-exif/samsung-gt-i9000-galaxy-s.jpg", "jpeg-exif/htc-desire.jpg", "jpeg-exif/sony-dsc-hx5v.jpg",
                "jpeg-exif/apple-iphone-5.jpg",
            ] {
                let source = corpus.appendingPathComponent(path)
                try FileManager.default.copyItem(
                    at: source, to: uploads.appendingPathComponent(source.lastPathComponent))
            }
            // Made beside uploads/ and moved in whole. avifenc turns EXIF orientation 6 into irot and keeps the EXIF;
            // the second has the irot alone (a landscape picture turned upright by its container).
            let exif = corpus.appendingPathComponent("jpeg-exif")
            for (name, arguments) in [
                ("exif6-irot.avif", ["-s", "9", exif.appendingPathComponent("orientation-portrait_6.jpg").path]),
                (
                    "irot-only.avif",
                    [
                        "-s", "9", "--ignore-exif", "--irot", "3",
                        exif.appendingPathComponent("orientation-landscape_1.jpg").path,
                    ]
                ),
            ] {
                let made = root.appendingPathComponent(name)
                try await FormatsEndToEndTests.run("avifenc", arguments + [made.path])
                try FileManager.default.moveItem(at: made, to: uploads.appendingPathComponent(name))
            }
            let port = try Self.freePort()
            let serve = try await ServeProcess(store: store, environment: ["PICPIPE_LISTEN": "127.0.0.1:\(port)"])
            do {
                try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
                let output = try await Self.runScript(
                    ["--url", "http://127.0.0.1:\(port)", "--store", store.path, "--links"],
                    log: root.appendingPathComponent("browser.log"))
                print(output.text.split(separator: "\n").filter { $0.hasPrefix("gallery browser suite") }.joined())
                #expect(output.status == 0, "\(output.text.suffix(4000))\nserve log:\n\(serve.log.suffix(3000))")
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()
        }

        /// A link to a picture past the first page (`#photo=ID` of the 61st, the 151st and the last of 200), opened
        /// afresh or reloaded, shows that picture; until session 33 the page looked no further than the first page
        /// before the load event and said the picture was not here.
        @Test(.enabled(if: PicpipeProcess.hasCorpus)) func galleryOpensALinkPastTheFirstPage() async throws {
            try await Self.runWithCopies(folder: "gallery-deep-links", count: 200, arguments: ["--deep-links"])
        }

        /// A page of the listing that fails is asked for again until it comes, and the count stays the store's: serve
        /// stopped and started again while the grid of 200 pictures scrolls (the thumbnails that failed meanwhile
        /// load again), and a key's usage plan answering 429 with Retry-After. Until session 33 one failed page
        /// ended the scroll for good, the count fell to the pictures loaded and the failed thumbnails stayed broken.
        @Test(.enabled(if: PicpipeProcess.hasCorpus)) func galleryGoesOnAfterAPageFails() async throws {
            let key = "gallery-slow-key-0123"
            try await Self.runWithCopies(
                folder: "gallery-retries", count: 200,
                config: """
                    auth:
                      api_keys:
                        - name: slow
                          key: \(key)
                          scopes: [images:read]
                          usage_plan: {rate: 0.25, burst: 2, daily_quota: 0}
                    """,
                arguments: ["--retries", "--slow-key", key])
        }

        /// A new, empty library says so and points to the upload zone, whose "choose files" it repeats; a filter
        /// that matches nothing says "No pictures match."; the first upload takes the message away. Until session 37
        /// an empty library said "No pictures match." with no filter set. A file over `http.max_body_bytes` and one
        /// that is no picture are refused each with a full bar of the error's colour (until session 37 the first
        /// kept a grey sliver of a bar). Files chosen together are listed in the order chosen (until session 37 in
        /// reverse). A "within km" with no centre runs no search and says the centre is missing (until session 37
        /// an unfiltered search ran).
        @Test func galleryWelcomesAnEmptyLibrary() async throws {
            guard Self.browserAvailable() else { return }
            let root = try PicpipeProcess.temporaryFolder("gallery-empty")
            defer { try? FileManager.default.removeItem(at: root) }
            let store = root.appendingPathComponent("store")
            try FileManager.default.createDirectory(
                at: store.appendingPathComponent("uploads"), withIntermediateDirectories: true)
            let limit = 2_000_000
            try await Self.serveAndRun(
                root: root, store: store, config: "http:\n  max_body_bytes: \(limit)\n",
                arguments: ["--empty", "--max-body", String(limit)], screenshot: "empty-library.png")
        }

        /// Runs the browser script against a `serve` with this configuration over six corpus camera files, with
        /// `--url` and `--store` and these arguments; expects it to pass and, if named, a screenshot saved.
        static func runWithKeys(folder: String, config text: String, arguments: [String], screenshot: String?)
            async throws
        {
            guard Self.browserAvailable() else { return }
            let root = try PicpipeProcess.temporaryFolder(folder)
            defer { try? FileManager.default.removeItem(at: root) }
            let store = root.appendingPathComponent("store")
            let uploads = store.appendingPathComponent("uploads")
            try FileManager.default.createDirectory(at: uploads, withIntermediateDirectories: true)
            let cameras = PicpipeProcess.corpus.appendingPathComponent("jpeg-exif")
            for name in try FileManager.default.contentsOfDirectory(atPath: cameras.path).sorted()
                .filter({ $0.hasSuffix(".jpg") && !$0.contains("1x1") }).prefix(6)
            {
                try FileManager.default.copyItem(
                    at: cameras.appendingPathComponent(name), to: uploads.appendingPathComponent(name))
            }
            try await serveAndRun(root: root, store: store, config: text, arguments: arguments, screenshot: screenshot)
        }

        /// Runs the browser script against a `serve` of `count` pictures: copies of one small corpus JPEG, each with
        /// a comment of its own (other bytes, so other ids), under this configuration (`nil`: none).
        static func runWithCopies(folder: String, count: Int, config: String? = nil, arguments: [String])
            async throws
        {
            guard Self.browserAvailable() else { return }
            let root = try PicpipeProcess.temporaryFolder(folder)
            defer { try? FileManager.default.removeItem(at: root) }
            let store = root.appendingPathComponent("store")
            let uploads = store.appendingPathComponent("uploads")
            try FileManager.default.createDirectory(at: uploads, withIntermediateDirectories: true)
            let jpeg = try Data(
                contentsOf: PicpipeProcess.corpus.appendingPathComponent("jpeg-odd/baseline-testorig.jpg"))
            for number in 0..<count {
                let comment = Data("copy \(number)".utf8)
                var copy = jpeg.prefix(2)
                let length = comment.count + 2
                copy.append(contentsOf: [0xFF, 0xFE, UInt8(length >> 8), UInt8(length & 0xFF)])
                copy.append(comment)
                copy.append(jpeg.dropFirst(2))
                try copy.write(to: uploads.appendingPathComponent(String(format: "copy-%03d.jpg", number)))
            }
            try await serveAndRun(root: root, store: store, config: config, arguments: arguments, screenshot: nil)
        }

        /// Starts `serve` on the store (with this configuration, when given, also passed as `--config`), runs the
        /// browser script with `--url`, `--store`, `--serve-pid`, `--binary` and these arguments, and expects it to
        /// pass and, if named, a screenshot saved.
        static func serveAndRun(root: URL, store: URL, config text: String?, arguments: [String], screenshot: String?)
            async throws
        {
            var environment: [String: String] = [:]
            var configArguments: [String] = []
            if let text {
                let config = root.appendingPathComponent("config.yaml")
                try text.write(to: config, atomically: true, encoding: .utf8)
                environment["PICPIPE_CONFIG"] = config.path
                configArguments = ["--config", config.path]
            }
            let port = try Self.freePort()
            environment["PICPIPE_LISTEN"] = "127.0.0.1:\(port)"
            let serve = try await ServeProcess(store: store, environment: environment)
            do {
                try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
                let output = try await Self.runScript(
                    [
                        "--url", "http://127.0.0.1:\(port)", "--store", store.path, "--serve-pid",
                        String(serve.process.processIdentifier), "--binary", PicpipeProcess.binary.path,
                    ] + configArguments + arguments,
                    log: root.appendingPathComponent("browser.log"))
                print(output.text.split(separator: "\n").filter { $0.hasPrefix("gallery browser suite") }.joined())
                #expect(output.status == 0, "\(output.text.suffix(4000))\nserve log:\n\(serve.log.suffix(3000))")
                if let screenshot {
                    let path = Self.artifacts.appendingPathComponent(screenshot).path
                    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                    #expect(size > 10_000, "\(screenshot) saved in \(Self.artifacts.path)")
                }
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()
        }

        /// A loopback port nothing listens on now (bound to port 0, read, closed).
        static func freePort() throws -> Int {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
                }
            }
            guard bound else { throw ServeTestError.timedOut("a free port") }
            return Int(UInt16(bigEndian: address.sin_port))
        }

        /// Runs the Selenium script and returns its exit status and output.
        static func runSuite(
            url: String, store: URL, servePID: Int32, good: URL, live: URL, put: URL, replacement: URL
        ) async throws -> (status: Int32, text: String) {
            try await runScript(
                [
                    "--url", url, "--store", store.path, "--good", good.path, "--live", live.path, "--put", put.path,
                    "--replacement", replacement.path, "--serve-pid", String(servePID), "--binary",
                    PicpipeProcess.binary.path,
                ], log: store.deletingLastPathComponent().appendingPathComponent("browser.log"))
        }

        /// Runs Tests/Browser/gallery_test.py with these arguments (and --artifacts); its status and output.
        static func runScript(_ arguments: [String], log: URL) async throws -> (status: Int32, text: String) {
            let process = Process()
            process.executableURL = APIConformanceTests.venv.appendingPathComponent("bin/python")
            process.arguments =
                [PicpipeProcess.packageRoot.appendingPathComponent("Tests/Browser/gallery_test.py").path]
                + arguments + ["--artifacts", artifacts.path]
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try await process.runToExit(timeout: 1800)
            try handle.close()
            return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
        }
    }
}
