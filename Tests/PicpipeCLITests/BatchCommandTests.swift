// `picpipe batch` and `picpipe thumbnail`, driven through the real binary.
import Foundation
import ImageCore
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct BatchCommandTests {
        /// A small picture with distinct bytes per `seed`.
        static func picture(_ format: ImageFormat, seed: Int, width: Int = 320, height: Int = 200) throws -> Data {
            var bytes = [UInt8](repeating: 0, count: width * height * 3)
            for y in 0..<height {
                for x in 0..<width {
                    let i = (y * width + x) * 3
                    bytes[i] = UInt8((x + seed * 37) & 0xFF)
                    bytes[i + 1] = UInt8((y * 2 + seed) & 0xFF)
                    bytes[i + 2] = UInt8((x ^ y ^ seed) & 0xFF)
                }
            }
            return Data(
                try ImageEncoder.encode(
                    PixelBuffer(width: width, height: height, channels: 3, bytes: bytes), format: format))
        }

        /// `WORK/in` holding one 320x200 JPEG, `a.jpg`.
        static func folderWithOnePicture(in work: URL) throws -> URL {
            let inputs = work.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            try picture(.jpeg, seed: 1).write(to: inputs.appendingPathComponent("a.jpg"))
            return inputs
        }

        /// Inputs: 2 JPEGs, 1 PNG (one in a subfolder, one PNG with a .jpg name), a truncated JPEG,
        /// HTML named .jpg, and a text file that is not an input at all.
        static func makeInputs(in folder: URL) throws {
            let sub = folder.appendingPathComponent("sub")
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            try picture(.jpeg, seed: 1).write(to: folder.appendingPathComponent("a.jpg"))
            try picture(.jpeg, seed: 2).write(to: sub.appendingPathComponent("b.jpeg"))
            try picture(.png, seed: 3).write(to: folder.appendingPathComponent("c-really-png.jpg"))
            try picture(.jpeg, seed: 4).prefix(700).write(to: folder.appendingPathComponent("truncated.jpg"))
            try Data("<html>not a picture</html>".utf8).write(to: sub.appendingPathComponent("page.jpg"))
            try Data("notes".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        }

        struct Summary: Decodable {
            var ok: Int
            var failed: Int
            var skipped: Int
            var total: Int
            var failures: [Failure]
            struct Failure: Decodable {
                var file: String
                var error: String
            }
        }

        @Test func batchStoresGoodFilesReportsBadOnesAndIsIdempotent() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let inputs = work.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            try Self.makeInputs(in: inputs)
            let store = work.appendingPathComponent("store")

            let first = try await PicpipeProcess.run(["batch", inputs.path, "--store", store.path, "-j", "2", "--json"])
            #expect(first.status == 1)  // some failed
            let summary = try JSONDecoder().decode(Summary.self, from: Data(first.stdout.utf8))
            #expect(summary.ok == 3)
            #expect(summary.failed == 2)
            #expect(summary.total == 5)
            #expect(
                Set(summary.failures.map { URL(fileURLWithPath: $0.file).lastPathComponent }) == [
                    "truncated.jpg", "page.jpg",
                ])
            #expect(first.stderr.contains("truncated.jpg: image data is truncated"))
            #expect(first.stderr.contains("page.jpg: not a JPEG, PNG"))

            let files = PicpipeProcess.files(under: store)
            #expect(files.filter { $0.hasPrefix("originals/") }.count == 3)
            #expect(files.filter { $0.hasPrefix("originals/") && $0.hasSuffix(".png") }.count == 1)  // sniffed, not named
            for size in ["128", "256", "1024"] {
                #expect(files.filter { $0.hasPrefix("thumbnails/\(size)/") }.count == 3)
            }
            #expect(
                Set(files.filter { $0.hasPrefix("failed/") }) == [
                    "failed/truncated.jpg", "failed/truncated.jpg.error.json", "failed/page.jpg",
                    "failed/page.jpg.error.json",
                ])
            #expect(!files.contains { $0.contains(".picpipe-tmp-") })
            let letter =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: store.appendingPathComponent("failed/truncated.jpg.error.json")))
                as? [String: Any]
            #expect((letter?["file"] as? String)?.hasSuffix("in/truncated.jpg") == true)
            #expect((letter?["error"] as? String)?.contains("truncated") == true)

            // The second run skips what is done and changes nothing in the store.
            let second = try await PicpipeProcess.run(["batch", inputs.path, "--store", store.path, "--json"])
            #expect(second.status == 1)
            let again = try JSONDecoder().decode(Summary.self, from: Data(second.stdout.utf8))
            #expect(again.ok == 0)
            #expect(again.skipped == 3)
            #expect(again.failed == 2)
            #expect(PicpipeProcess.files(under: store) == files)
        }

        @Test func batchHonoursStoreEnvironmentAndSizes() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            try Self.picture(.jpeg, seed: 9).write(to: work.appendingPathComponent("one.jpg"))
            let store = work.appendingPathComponent("env-store")
            let run = try await PicpipeProcess.run(
                ["batch", work.appendingPathComponent("one.jpg").path, "--sizes", "64", "--format", "png"],
                environment: ["PICPIPE_STORE": store.path])
            #expect(run.status == 0)
            #expect(run.stdout.contains("1 ok, 0 failed, 0 skipped"))
            let thumbs = PicpipeProcess.files(under: store).filter { $0.hasPrefix("thumbnails/") }
            #expect(thumbs.count == 1)
            #expect(thumbs.first?.hasPrefix("thumbnails/64/") == true)
            #expect(thumbs.first?.hasSuffix("-inside-srgb.png") == true)
        }

        @Test(arguments: [
            ["batch", "x", "--sizes", "12,abc"], ["batch", "x", "-j", "0"], ["batch", "x", "--quality", "0"],
            ["thumbnail", "in.jpg"], ["thumbnail", "in.jpg", "-o", "o.jpg", "--size", "10", "--width", "5"],
            ["batch", "--no-such-flag"],
        ])
        func usageErrorsExitWithTwo(arguments: [String]) async throws {
            let run = try await PicpipeProcess.run(arguments)
            #expect(run.status == 2)
            #expect(!run.stderr.isEmpty)
        }

        @Test func thumbnailCommandWritesOneFile() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let input = work.appendingPathComponent("in.jpg")
            try Self.picture(.jpeg, seed: 5, width: 400, height: 100).write(to: input)
            let output = work.appendingPathComponent("out.png")
            let run = try await PicpipeProcess.run([
                "thumbnail", input.path, "-o", output.path, "--width", "50", "--height", "50", "--fit", "cover",
            ])
            #expect(run.status == 0)
            let header = try Data(contentsOf: output).withUnsafeBytes { try ImageHeader.read(from: $0) }
            #expect(header.format == .png)  // from the output's extension
            #expect(header.width == 50 && header.height == 50)

            let bad = work.appendingPathComponent("bad.jpg")
            try Data("GIF89a".utf8).write(to: bad)
            let failed = try await PicpipeProcess.run([
                "thumbnail", bad.path, "-o", work.appendingPathComponent("x.jpg").path,
            ])
            #expect(failed.status == 1)
            #expect(failed.stderr.contains("bad.jpg"))
            #expect(failed.stderr.contains("the GIF data ends before its logical screen descriptor"))
            #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("x.jpg").path))
            let text = work.appendingPathComponent("notes.jpg")
            try Data("hello, not a picture".utf8).write(to: text)
            let notImage = try await PicpipeProcess.run([
                "thumbnail", text.path, "-o", work.appendingPathComponent("y.jpg").path,
            ])
            #expect(notImage.status == 1)
            #expect(notImage.stderr.contains("notes.jpg: not a JPEG, PNG, WebP, GIF, HEIC or AVIF image"))
        }

        /// GIF and HEIC are read, not written; an output named for them, or an extension that disagrees with
        /// `--format`, is a usage error (exit 2) that lists what picpipe writes, and nothing is written.
        @Test func anOutputNamedForAFormatPicpipeCannotWriteIsAUsageError() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let input = work.appendingPathComponent("in.jpg")
            try Self.picture(.jpeg, seed: 6, width: 200, height: 100).write(to: input)
            let refused: [(String, [String])] = [
                ("out.heic", []), ("out.HEIF", []), ("out.gif", []), ("out.gif", ["--format", "jpeg"]),
                ("out.webp", ["--format", "jpeg"]), ("out.AVIF", ["--format", "webp"]), ("out.tiff", []),
                ("out.jpg", ["--format", "gif"]),
            ]
            for (name, extra) in refused {
                let output = work.appendingPathComponent(name)
                let run = try await PicpipeProcess.run(["thumbnail", input.path, "-o", output.path] + extra)
                #expect(run.status == 2, "\(name) \(extra)")
                #expect(
                    run.stderr.contains("jpeg (.jpg), png (.png), webp (.webp), avif (.avif)")
                        || run.stderr.contains("make them agree"), "\(name) \(extra): \(run.stderr)")
                #expect(!FileManager.default.fileExists(atPath: output.path), "nothing written under a false name")
            }
        }

        /// `.webp` and `.avif` outputs are written in the format they name (sniffed back from the bytes), with or
        /// without a `--format` that agrees.
        @Test func webpAndAVIFOutputsAreWrittenInTheFormatTheyName() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let input = work.appendingPathComponent("in.jpg")
            try Self.picture(.jpeg, seed: 7, width: 200, height: 100).write(to: input)
            for (name, extra, format) in [
                ("out.webp", [String](), ImageFormat.webp), ("out.AVIF", [], .avif),
                ("b.webp", ["--format", "webp"], .webp),
                ("lossless.webp", ["--lossless"], .webp), ("fast.avif", ["--speed", "9", "--quality", "50"], .avif),
            ] {
                let output = work.appendingPathComponent(name)
                let run = try await PicpipeProcess.run(
                    ["thumbnail", input.path, "-o", output.path, "--size", "64"] + extra)
                #expect(run.status == 0, "\(name): \(run.stderr)")
                let bytes = try Data(contentsOf: output)
                #expect(bytes.withUnsafeBytes { ImageFormat.sniff($0) } == format, "\(name)")
                let decoded = try bytes.withUnsafeBytes {
                    try ImageDecoder.decode($0, limits: .default, minimumSize: nil)
                }
                #expect(decoded.pixels.width == 64 && decoded.pixels.height == 32, "\(name)")
            }
        }

        /// `--color keep` leaves a tagged picture's pixels alone and embeds its profile; the default converts to sRGB
        /// and embeds none; anything else is a usage error.
        @Test func thumbnailColorOption() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let profile = try #require(ColorProfile.adobeRGB)
            let input = work.appendingPathComponent("adobe.jpg")
            let pixels = PixelBuffer(width: 64, height: 32, filledWith: [20, 200, 60])
            try Data(try ImageEncoder.encode(pixels, format: .jpeg, quality: 95, iccProfile: profile.bytes)).write(
                to: input)
            func thumbnail(_ extra: [String]) async throws -> DecodedImage {
                let output = work.appendingPathComponent("out.png")
                let run = try await PicpipeProcess.run(
                    ["thumbnail", input.path, "-o", output.path, "--size", "64"] + extra)
                #expect(run.status == 0, "\(run.stderr)")
                return try Data(contentsOf: output).withUnsafeBytes {
                    try ImageDecoder.decode($0, limits: .default, minimumSize: nil)
                }
            }
            let converted = try await thumbnail([])
            let kept = try await thumbnail(["--color", "keep"])
            #expect(converted.colorProfile == nil)
            #expect(kept.colorProfile == profile)
            // Adobe RGB (20, 200, 60) is about (0, 201, 37) in sRGB: a green sRGB can only just show.
            let keptPixel = Array(kept.pixels.pixel(x: 32, y: 16)).map(Int.init)
            let convertedPixel = Array(converted.pixels.pixel(x: 32, y: 16)).map(Int.init)
            #expect(abs(keptPixel[0] - 20) <= 3 && abs(keptPixel[1] - 200) <= 3 && abs(keptPixel[2] - 60) <= 3)
            #expect(convertedPixel[0] <= 5 && abs(convertedPixel[1] - 201) <= 3 && abs(convertedPixel[2] - 37) <= 3)
            let bad = try await PicpipeProcess.run(
                ["thumbnail", input.path, "-o", work.appendingPathComponent("x.png").path, "--color", "p3"])
            #expect(bad.status == 2)
        }

        /// The real-world corpus: ok files become originals with thumbnails, reject files land in failed/
        /// with a reason naming them; `either` files end up on exactly one side.
        @Test(.enabled(if: PicpipeProcess.hasCorpus)) func corpusBatchMatchesManifest() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            let run = try await PicpipeProcess.run([
                "batch", PicpipeProcess.corpus.path, "--store", store.path, "--sizes", "128", "--json",
            ])
            #expect(run.status == 1)
            let summary = try JSONDecoder().decode(Summary.self, from: Data(run.stdout.utf8))
            let failedFiles = Set(
                summary.failures.map { String($0.file.dropFirst(PicpipeProcess.corpus.path.count + 1)) })
            let manifest = try String(
                contentsOf: PicpipeProcess.corpus.appendingPathComponent("MANIFEST.tsv"), encoding: .utf8)
            var checked = 0
            for line in manifest.split(separator: "\n").dropFirst() {
                let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                guard columns.count > 5 else { continue }
                let (path, sha) = (columns[0], columns[2])
                // Read since picpipe reads WebP (ImageCoreTests' CorpusTests.readSinceTheManifest says why).
                let verdict = path == "bad/webp-named-as.png" ? "ok" : columns[5]
                let original = "originals/\(sha.prefix(2))/\(sha)"
                let stored = ImageFormat.allCases.map(\.fileExtension).contains {
                    FileManager.default.fileExists(atPath: store.appendingPathComponent("\(original).\($0)").path)
                }
                switch verdict {
                case "ok":
                    #expect(stored, "\(path) should be stored")
                    #expect(!failedFiles.contains(path), "\(path) should not fail")
                case "reject":
                    #expect(failedFiles.contains(path), "\(path) should be refused")
                    if let failure = summary.failures.first(where: { $0.file.hasSuffix("/" + path) }) {
                        #expect(!failure.error.isEmpty)
                    }
                default:
                    #expect(stored != failedFiles.contains(path), "\(path) must be either stored or refused")
                }
                checked += 1
            }
            #expect(checked == summary.total)
            #expect(!PicpipeProcess.files(under: store).contains { $0.contains(".picpipe-tmp-") })
        }
    }
}
