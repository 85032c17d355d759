// HEIC, WebP, GIF and AVIF as a user drives them: files made by Debian's reference tools through `thumbnail`,
// `metadata`, `batch --also-formats --json`, the upload folder and the HTTP API (Accept negotiation, Vary, ETags,
// ?format=).
import Foundation
import ImageCore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct FormatsEndToEndTests {
        /// The Accept headers browsers send for images, and what each gets.
        static let browsers: [(name: String, accept: String, format: ImageFormat)] = [
            ("Chrome", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", .avif),
            ("Firefox", "image/avif,image/webp,*/*", .avif),
            (
                "Safari",
                "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",
                .avif
            ),
            ("Safari 14", "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5", .webp),
            ("AVIF disliked", "image/avif;q=0.4,image/webp;q=0.9,*/*;q=0.1", .webp),
            ("AVIF refused", "image/avif;q=0,image/jpeg", .jpeg),
            ("curl", "*/*", .jpeg),
            ("none", "", .jpeg),
        ]

        static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

        static func tool(_ name: String) -> String? {
            ["/usr/bin/", "/usr/local/bin/", "/bin/"].map { $0 + name }.first {
                FileManager.default.isExecutableFile(atPath: $0)
            }
        }

        /// Skips outside CI when a reference tool is missing; fails in CI, where `.ci/run` installs them.
        static func available(_ names: String...) -> Bool {
            let missing = names.filter { tool($0) == nil }
            guard !missing.isEmpty else { return true }
            #expect(!isCI, "reference tools missing in CI: \(missing.joined(separator: ", "))")
            print("skipped: reference tools missing: \(missing.joined(separator: ", "))")
            return false
        }

        static func run(_ name: String, _ arguments: [String]) async throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try #require(tool(name)))
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try await process.runToExit()
            try #require(process.terminationStatus == 0, "\(name) \(arguments) failed")
        }

        /// A JPEG with an EXIF block holding Make "FormatCam" and the orientation.
        static func jpegWithEXIF(orientation: Int, seed: Int) throws -> Data {
            let jpeg = [UInt8](try BatchCommandTests.picture(.jpeg, seed: seed, width: 160, height: 96))
            func u16(_ v: Int) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
            func u32(_ v: Int) -> [UInt8] { u16(v >> 16) + u16(v & 0xFFFF) }
            // Big-endian TIFF, IFD0 with two entries: Make (ASCII, at offset 38) and Orientation (SHORT).
            let make = Array("FormatCam".utf8) + [0]
            let tiff: [UInt8] =
                [0x4D, 0x4D] + u16(42) + u32(8) + u16(2)
                + u16(0x010F) + u16(2) + u32(make.count) + u32(38)
                + u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0)
                + u32(0) + make
            let payload = Array("Exif".utf8) + [0, 0] + tiff
            return Data([0xFF, 0xD8, 0xFF, 0xE1] + u16(payload.count + 2) + payload + jpeg.dropFirst(2))
        }

        /// One file of each new format, made by the reference tools from JPEGs with EXIF: HEIC (orientation 6),
        /// WebP (EXIF kept by cwebp), AVIF (EXIF kept by avifenc), GIF.
        static func makeFiles(in folder: URL) async throws -> [String: URL] {
            let source = folder.appendingPathComponent("source6.jpg")
            try jpegWithEXIF(orientation: 6, seed: 3).write(to: source)
            let plain = folder.appendingPathComponent("source1.jpg")
            try jpegWithEXIF(orientation: 1, seed: 4).write(to: plain)
            var files: [String: URL] = [:]
            files["heic"] = folder.appendingPathComponent("phone.heic")
            try await run("heif-enc", ["-q", "85", source.path, "-o", files["heic"]!.path])
            files["webp"] = folder.appendingPathComponent("web.webp")
            try await run("cwebp", ["-quiet", "-metadata", "exif", plain.path, "-o", files["webp"]!.path])
            files["avif"] = folder.appendingPathComponent("web.avif")
            try await run("avifenc", ["-s", "9", plain.path, files["avif"]!.path])
            files["gif"] = folder.appendingPathComponent("anim.gif")
            try await run("convert", [plain.path, files["gif"]!.path])
            return files
        }

        @Test func thumbnailAndMetadataOfEachFormat() async throws {
            guard Self.available("heif-enc", "cwebp", "avifenc", "convert") else { return }
            let work = try PicpipeProcess.temporaryFolder("picpipe-formats")
            defer { try? FileManager.default.removeItem(at: work) }
            let files = try await Self.makeFiles(in: work)
            for (format, file) in files {
                let output = work.appendingPathComponent("\(format)-thumb.webp")
                let run = try await PicpipeProcess.run(["thumbnail", file.path, "-o", output.path, "--size", "80"])
                #expect(run.status == 0, "\(format): \(run.stderr)")
                let header = try Data(contentsOf: output).withUnsafeBytes { try ImageHeader.read(from: $0) }
                #expect(header.format == .webp)
                // 160x96 stored; the HEIC's EXIF orientation 6 turns it to 96x160.
                let upright = format == "heic" ? (48, 80) : (80, 48)
                #expect((header.width, header.height) == upright, "\(format)")

                let metadata = try await PicpipeProcess.run(["metadata", file.path])
                #expect(metadata.status == 0, "\(format): \(metadata.stderr)")
                let json = try #require(
                    try JSONSerialization.jsonObject(with: Data(metadata.stdout.utf8)) as? [String: Any])
                #expect(json["format"] as? String == format)
                #expect(json["width"] as? Int == 160 && json["height"] as? Int == 96, "\(format): \(json)")
                if format != "gif" {
                    #expect(json["make"] as? String == "FormatCam", "\(format) EXIF reaches the metadata service")
                    #expect(json["orientation"] as? Int == (format == "heic" ? 6 : 1), "\(format)")
                }
            }
            // Truncated: refused with the file and a reason, exit 1, nothing written.
            let heic = try Data(contentsOf: files["heic"]!)
            let cut = work.appendingPathComponent("cut.heic")
            try heic.prefix(heic.count / 2).write(to: cut)
            let output = work.appendingPathComponent("cut.jpg")
            let refused = try await PicpipeProcess.run(["thumbnail", cut.path, "-o", output.path])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("cut.heic: "), "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output.path))
        }

        /// EXIF that is there but cannot be read says why in a WebP and a HEIC, as in a JPEG or PNG: a WebP EXIF chunk
        /// running past the end of the file, a HEIC Exif item whose TIFF header offset is past its end. Until session
        /// 31 both gave `exif_error` null, as a picture without EXIF does. The line is still printed, exit 0.
        @Test func unreadableEXIFSaysWhyInWebPAndHEIC() async throws {
            guard Self.available("heif-enc", "cwebp") else { return }
            let work = try PicpipeProcess.temporaryFolder("picpipe-bad-exif")
            defer { try? FileManager.default.removeItem(at: work) }
            let source = work.appendingPathComponent("source.jpg")
            try Self.jpegWithEXIF(orientation: 6, seed: 6).write(to: source)
            let heic = work.appendingPathComponent("item.heic")
            try await Self.run("heif-enc", ["-q", "50", source.path, "-o", heic.path])
            let webp = work.appendingPathComponent("chunk.webp")
            try await Self.run("cwebp", ["-quiet", "-metadata", "exif", source.path, "-o", webp.path])
            var heicBytes = [UInt8](try Data(contentsOf: heic))
            let tiff = try #require(Self.firstIndex(of: [0x4D, 0x4D, 0x00, 0x2A], in: heicBytes))
            // The item starts with the TIFF header's offset, then any "Exif\0\0", then the TIFF header.
            let skipped = Self.firstIndex(of: Array("Exif".utf8) + [0, 0], in: heicBytes) == tiff - 6 ? 6 : 0
            heicBytes.replaceSubrange(tiff - skipped - 4..<tiff - skipped, with: [0, 0, 0x01, 0xF4])  // 500
            let badHEIC = work.appendingPathComponent("item-offset-past-end.heic")
            try Data(heicBytes).write(to: badHEIC)
            var webpBytes = [UInt8](try Data(contentsOf: webp))
            let chunk = try #require(Self.firstIndex(of: Array("EXIF".utf8), in: webpBytes))
            webpBytes.replaceSubrange(chunk + 4..<chunk + 8, with: [0xF0, 0xFF, 0xFF, 0x7F])
            let badWebP = work.appendingPathComponent("chunk-past-end.webp")
            try Data(webpBytes).write(to: badWebP)

            let run = try await PicpipeProcess.run(["metadata", heic.path, badHEIC.path, webp.path, badWebP.path])
            #expect(run.status == 0, "\(run.stderr)")
            let lines = try run.stdout.split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            try #require(lines.count == 4)
            for sound in [lines[0], lines[2]] {
                #expect(sound["make"] as? String == "FormatCam" && sound["exif_error"] is NSNull, "\(sound)")
            }
            let itemError = lines[1]["exif_error"] as? String ?? "null"
            #expect(
                itemError.wholeMatch(of: /Exif item's TIFF header offset 500 is past its end \(\d+ bytes\)/) != nil,
                "\(itemError)")
            #expect(lines[3]["exif_error"] as? String == "EXIF chunk of 2147483632 bytes runs past the end of the file")
            for bad in [lines[1], lines[3]] {
                #expect(bad["make"] is NSNull && bad["width"] as? Int == 160, "\(bad)")
            }
        }

        /// An EXIF block longer than a JPEG APP1 can hold, as exiftool reads it, in an AVIF's Exif item (avifenc
        /// --exif), a PNG eXIf chunk and a WebP EXIF chunk: IFD0's Make, an 84,000-byte XPComment, then the ExifIFD
        /// (FNumber, DateTimeOriginal) and the GPS position, all stored past 64 KiB. Until session 34 libexif read
        /// the first 65,528 bytes: taken_at, f_number and the position were null, and `exif_error` "ExifData: Tag
        /// data past end of buffer (12 > 65528)" named neither the tag nor the cut.
        @Test func longEXIFBlocksAreReadWhole() async throws {
            guard Self.available("avifenc") else { return }
            let work = try PicpipeProcess.temporaryFolder("picpipe-long-exif")
            defer { try? FileManager.default.removeItem(at: work) }
            func u16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
            func u32(_ v: Int) -> [UInt8] { u16(v >> 16) + u16(v & 0xFFFF) }
            func entry(_ tag: Int, _ type: Int, _ count: Int, _ value: [UInt8]) -> [UInt8] {
                u16(tag) + u16(type) + u32(count) + value
            }
            let caption: [UInt8] = "Long caption. ".utf16.flatMap { [UInt8($0), 0] }  // UCS-2LE
            let comment: [UInt8] = (0..<3_000).flatMap { _ in caption }  // 84,000 bytes
            // IFD0 at 8 (4 entries: 54 bytes), Make at 62, the comment at 70, the ExifIFD at 84070 (2 entries, its
            // values at 84100), the GPS IFD at 84128 (4 entries, its values at 84182).
            var tiff: [UInt8] = [0x4D, 0x4D] + u16(42) + u32(8) + u16(4)
            tiff += entry(0x010F, 2, 8, u32(62)) + entry(0x8769, 4, 1, u32(84_070))
            tiff += entry(0x8825, 4, 1, u32(84_128)) + entry(0x9C9C, 1, comment.count, u32(70)) + u32(0)
            tiff += [UInt8]("LongCam".utf8) + [0] + comment
            tiff += u16(2) + entry(0x829D, 5, 1, u32(84_100)) + entry(0x9003, 2, 20, u32(84_108)) + u32(0)
            tiff += u32(28) + u32(10) + [UInt8]("2023:07:14 18:30:00".utf8) + [0]
            tiff += u16(4) + entry(1, 2, 2, [0x4E, 0, 0, 0]) + entry(2, 5, 3, u32(84_182))
            tiff += entry(3, 2, 2, [0x45, 0, 0, 0]) + entry(4, 5, 3, u32(84_206)) + u32(0)
            tiff += [48, 1, 51, 1, 30, 1, 2, 1, 17, 1, 40, 1].flatMap(u32)
            try #require(tiff.count == 84_230)
            let exif = work.appendingPathComponent("caption.exif")
            try Data(tiff).write(to: exif)
            let source = work.appendingPathComponent("source.png")
            try BatchCommandTests.picture(.png, seed: 7, width: 64, height: 48).write(to: source)
            let avif = work.appendingPathComponent("caption.avif")
            try await Self.run("avifenc", ["-s", "9", "--exif", exif.path, source.path, avif.path])
            // The PNG and WebP: the source's chunks with an eXIf chunk, or a WebP holding only a VP8X, a tiny VP8L
            // and the EXIF chunk (all the header probe reads).
            let png = work.appendingPathComponent("caption.png")
            var pngBytes = [UInt8](try Data(contentsOf: source))
            let eXIf = Array("eXIf".utf8) + tiff
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in eXIf {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            pngBytes.insert(contentsOf: u32(tiff.count) + eXIf + u32(Int(~crc)), at: 33)  // after IHDR
            try Data(pngBytes).write(to: png)
            func le(_ value: Int, _ count: Int) -> [UInt8] { (0..<count).map { UInt8(value >> (8 * $0) & 0xFF) } }
            let lossless: [UInt8] = [0x2F] + le(63 | 47 << 14, 4) + [0, 0, 0]
            var body = Array("WEBPVP8X".utf8) + le(10, 4) + [0x08, 0, 0, 0] + le(63, 3) + le(47, 3)
            body += Array("VP8L".utf8) + le(lossless.count, 4) + lossless
            body += Array("EXIF".utf8) + le(tiff.count, 4) + tiff
            let webp = work.appendingPathComponent("caption.webp")
            try Data(Array("RIFF".utf8) + le(body.count, 4) + body).write(to: webp)

            let run = try await PicpipeProcess.run(["metadata", "--raw", avif.path, png.path, webp.path])
            #expect(run.status == 0, "\(run.stderr)")
            let lines = try run.stdout.split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            try #require(lines.count == 3)
            for line in lines {
                let file = line["file"] as? String ?? "?"
                #expect(line["make"] as? String == "LongCam", "\(file)")
                #expect(line["taken_at"] as? String == "2023-07-14T18:30:00", "\(file)")
                #expect(line["f_number"] as? Double == 2.8, "\(file)")
                #expect(line["gps_latitude"] as? Double == 48.858333333333334, "\(file)")
                #expect(line["gps_longitude"] as? Double == 2.2944444444444443, "\(file)")
                #expect(line["exif_error"] is NSNull, "\(file): \(line["exif_error"] ?? "")")
                let ifd0 = (line["exif"] as? [String: Any])?["IFD0"] as? [String: Any]
                #expect((ifd0?["XPComment"] as? String)?.count == 42_000, "\(file)")
            }
        }

        static func firstIndex(of needle: [UInt8], in bytes: [UInt8]) -> Int? {
            guard bytes.count >= needle.count else { return nil }
            return (0...(bytes.count - needle.count)).first { bytes[$0..<$0 + needle.count].elementsEqual(needle) }
        }

        /// A HEIF turned by its container (irot) reports the size before the turn, as a JPEG turned by its EXIF does
        /// and as exiftool's ImageWidth/ImageHeight (the `ispe`) say: `width`/`height` once meant the size after
        /// irot for HEIF only, and the gallery turned an AVIF with EXIF orientation 6 a second time. Its
        /// `orientation` is the one the container's irot/imir amount to, which libheif applies, over any EXIF
        /// Orientation: until session 30 it was the EXIF's (null for irot alone, 6 for a file libheif turns to 8).
        @Test func metadataSizeIsBeforeTheContainersTurn() async throws {
            guard Self.available("avifenc") else { return }
            let work = try PicpipeProcess.temporaryFolder("picpipe-irot")
            defer { try? FileManager.default.removeItem(at: work) }
            let source = work.appendingPathComponent("source6.jpg")
            try Self.jpegWithEXIF(orientation: 6, seed: 5).write(to: source)
            // avifenc turns EXIF orientation 6 into irot (270° anticlockwise) and keeps the EXIF; the second file
            // has the irot alone; the third the EXIF 6 beside an irot of 90° anticlockwise (libheif turns it that
            // way: orientation 8); the fourth is mirrored top to bottom (imir axis 0: orientation 4).
            let withEXIF = work.appendingPathComponent("exif6.avif")
            try await Self.run("avifenc", ["-s", "9", source.path, withEXIF.path])
            let irotOnly = work.appendingPathComponent("irot.avif")
            try await Self.run("avifenc", ["-s", "9", "--ignore-exif", "--irot", "3", source.path, irotOnly.path])
            let irotOverEXIF = work.appendingPathComponent("irot1-exif6.avif")
            try await Self.run("avifenc", ["-s", "9", "--irot", "1", source.path, irotOverEXIF.path])
            let mirrored = work.appendingPathComponent("imir0.avif")
            try await Self.run("avifenc", ["-s", "9", "--ignore-exif", "--imir", "0", source.path, mirrored.path])
            let cases: [(URL, Int?, (Int, Int))] = [
                (withEXIF, 6, (48, 80)), (irotOnly, 6, (48, 80)), (irotOverEXIF, 8, (48, 80)), (mirrored, 4, (80, 48)),
                (source, 6, (48, 80)),
            ]
            for (file, orientation, size) in cases {
                let metadata = try await PicpipeProcess.run(["metadata", file.path])
                #expect(metadata.status == 0, "\(metadata.stderr)")
                let json = try #require(
                    try JSONSerialization.jsonObject(with: Data(metadata.stdout.utf8)) as? [String: Any])
                #expect(
                    json["width"] as? Int == 160 && json["height"] as? Int == 96
                        && json["orientation"] as? Int == orientation,
                    "\(file.lastPathComponent): \(json)")
                // The thumbnail is turned once, as `orientation` says: 5 to 8 show as height x width.
                let output = work.appendingPathComponent("\(file.lastPathComponent)-thumb.jpg")
                let run = try await PicpipeProcess.run(["thumbnail", file.path, "-o", output.path, "--size", "80"])
                #expect(run.status == 0, "\(run.stderr)")
                let header = try Data(contentsOf: output).withUnsafeBytes { try ImageHeader.read(from: $0) }
                #expect((header.width, header.height) == size, "\(file.lastPathComponent)")
            }
        }

        /// `GET /images` items of AVIFs turned by their container: the orientation irot amounts to beside the stored
        /// size, so a grid laid out from the listing has the thumbnails' shape (until session 30: null and 6).
        @Test func listingGivesTheOrientationOfTheContainersTurn() async throws {
            guard Self.available("avifenc") else { return }
            let work = try PicpipeProcess.temporaryFolder("picpipe-irot-listing")
            defer { try? FileManager.default.removeItem(at: work) }
            let source = work.appendingPathComponent("source6.jpg")
            try Self.jpegWithEXIF(orientation: 6, seed: 7).write(to: source)
            let irotOnly = work.appendingPathComponent("irot1.avif")
            try await Self.run("avifenc", ["-s", "9", "--ignore-exif", "--irot", "1", source.path, irotOnly.path])
            let irotOverEXIF = work.appendingPathComponent("irot1-exif6.avif")
            try await Self.run("avifenc", ["-s", "9", "--irot", "1", source.path, irotOverEXIF.path])
            let serve = try await ServeProcess(store: work.appendingPathComponent("store"))
            do {
                try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
                let base = "http://127.0.0.1:\(try #require(ServeHTTPTests.port(in: serve.log)))"
                for file in [irotOnly, irotOverEXIF] {
                    var upload = URLRequest(
                        url: try #require(URL(string: "\(base)/images?name=\(file.lastPathComponent)")))
                    upload.httpMethod = "POST"
                    upload.setValue("image/avif", forHTTPHeaderField: "Content-Type")
                    let (_, response) = try await URLSession.shared.upload(for: upload, from: Data(contentsOf: file))
                    #expect((response as? HTTPURLResponse)?.statusCode == 202)
                }
                var items: [[String: Any]] = []
                try await ServeProcess.eventually("both AVIFs listed") {
                    let request = URLRequest(url: URL(string: "\(base)/images")!)
                    guard let (data, _) = try? await URLSession.shared.data(for: request),
                        let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
                    else { return false }
                    items = json["items"] as? [[String: Any]] ?? []
                    return items.count == 2
                }
                for item in items {
                    #expect(
                        item["orientation"] as? Int == 8 && item["width"] as? Int == 160
                            && item["height"] as? Int == 96, "\(item)")
                }
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()
        }

        @Test func batchReportsBytesByFormat() async throws {
            guard Self.available("heif-enc", "cwebp", "avifenc", "convert") else { return }
            let work = try PicpipeProcess.temporaryFolder("picpipe-formats")
            defer { try? FileManager.default.removeItem(at: work) }
            let inputs = work.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            _ = try await Self.makeFiles(in: inputs)
            for name in ["source6.jpg", "source1.jpg"] {
                try FileManager.default.removeItem(at: inputs.appendingPathComponent(name))
            }
            let store = work.appendingPathComponent("store")
            let run = try await PicpipeProcess.run([
                "batch", inputs.path, "--store", store.path, "--sizes", "64,128", "--also-formats", "webp,avif",
                "--json", "-q",
            ])
            #expect(run.status == 0, "\(run.stderr)")
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            #expect(summary["ok"] as? Int == 4)
            let outputs = try #require(summary["outputs"] as? [String: [String: Int]])
            #expect(Set(outputs.keys) == ["jpeg", "webp", "avif"])
            let thumbnails = PicpipeProcess.files(under: store.appendingPathComponent("thumbnails"))
            for format in ["jpeg", "webp", "avif"] {
                #expect(outputs[format]?["thumbnails"] == 8, "4 pictures x 2 sizes in \(format)")
                let onDisk = thumbnails.filter { $0.hasSuffix(format == "jpeg" ? ".jpg" : "." + format) }
                let bytes = try onDisk.reduce(0) {
                    $0
                        + (try FileManager.default.attributesOfItem(
                            atPath: store.appendingPathComponent("thumbnails").appendingPathComponent($1).path)[.size]
                            as? Int ?? 0)
                }
                #expect(outputs[format]?["bytes"] == bytes, "\(format): the summary's bytes are the files' bytes")
            }
            // Originals keep their own format.
            let originals = PicpipeProcess.files(under: store.appendingPathComponent("originals"))
            #expect(Set(originals.map { ($0 as NSString).pathExtension }) == ["heic", "webp", "avif", "gif"])
        }

        @Test func httpNegotiatesTheFormatFromAcceptAndTheUploadFolderTakesHEIC() async throws {
            guard Self.available("heif-enc", "cwebp", "avifenc", "convert") else { return }
            let work = try PicpipeProcess.temporaryFolder("picpipe-formats")
            defer { try? FileManager.default.removeItem(at: work) }
            let files = try await Self.makeFiles(in: work)
            let store = work.appendingPathComponent("store")
            let serve = try await ServeProcess(store: store)
            do {
                try await negotiate(serve, files: files)
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()
        }

        func negotiate(_ serve: ServeProcess, files: [String: URL]) async throws {
            try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
            let base = "http://127.0.0.1:\(try #require(ServeHTTPTests.port(in: serve.log)))"

            // libheif and its codecs are opened on the first HEIF file, not at start (they slowed every start).
            let maps = "/proc/\(serve.process.processIdentifier)/maps"
            // Read to the end: /proc reports a size of 0, so a sized read (String(contentsOfFile:)) gets nothing.
            func mapped() throws -> String {
                let file = try #require(FileHandle(forReadingAtPath: maps))
                defer { try? file.close() }
                return String(decoding: try file.readToEnd() ?? Data(), as: UTF8.self)
            }
            let startMaps = try mapped()
            #expect(startMaps.contains("libjpeg.so"))
            for library in ["libheif.so", "libde265.so", "libx265.so", "libaom.so", "libdav1d.so"] {
                #expect(!startMaps.contains(library), "\(library) is mapped before any HEIF file")
            }

            // The upload folder takes a HEIC: its original is stored as .heic and its thumbnails are made.
            let dropped = serve.store.appendingPathComponent("uploads/phone.heic")
            try FileManager.default.copyItem(at: files["heic"]!, to: dropped)
            try await ServeProcess.eventually("HEIC from uploads/ made into thumbnails") {
                ServeProcess.files(serve.store, "originals").contains { $0.hasSuffix(".heic") }
                    && ServeProcess.files(serve.store, "thumbnails").contains { $0.hasSuffix(".jpg") }
            }
            #expect(try mapped().contains("libheif.so"))

            // POST a WebP with its own media type.
            var upload = URLRequest(url: try #require(URL(string: "\(base)/images")))
            upload.httpMethod = "POST"
            upload.setValue("image/webp", forHTTPHeaderField: "Content-Type")
            let (posted, postResponse) = try await URLSession.shared.upload(
                for: upload, from: try Data(contentsOf: files["webp"]!))
            #expect((postResponse as? HTTPURLResponse)?.statusCode == 202)
            let id = try #require((try JSONSerialization.jsonObject(with: posted) as? [String: Any])?["id"] as? String)

            func get(_ query: String = "", accept: String?, ifNoneMatch: String? = nil) async throws -> (
                Data, HTTPURLResponse
            ) {
                var request = URLRequest(url: try #require(URL(string: "\(base)/images/\(id)/thumbnails/128\(query)")))
                request.setValue(accept ?? "", forHTTPHeaderField: "Accept")
                if let ifNoneMatch { request.setValue(ifNoneMatch, forHTTPHeaderField: "If-None-Match") }
                request.cachePolicy = .reloadIgnoringLocalAndRemoteCacheData
                let (data, response) = try await URLSession.shared.data(for: request)
                return (data, try #require(response as? HTTPURLResponse))
            }

            var eTags: [ImageFormat: String] = [:]
            for browser in Self.browsers {
                // Twice: made on demand the first time, from disk or the cache the second.
                for attempt in 1...2 {
                    let (body, response) = try await get(accept: browser.accept)
                    #expect(response.statusCode == 200, "\(browser.name)")
                    #expect(
                        response.value(forHTTPHeaderField: "Content-Type") == browser.format.mediaType,
                        "\(browser.name) #\(attempt)")
                    #expect(response.value(forHTTPHeaderField: "Vary") == "Accept", "\(browser.name) #\(attempt)")
                    #expect(body.withUnsafeBytes { ImageFormat.sniff($0) } == browser.format, "\(browser.name)")
                    let decoded = try body.withUnsafeBytes {
                        try ImageDecoder.decode($0, limits: .default, minimumSize: nil)
                    }
                    #expect(decoded.pixels.width == 128 && decoded.pixels.height == 77, "\(browser.name)")
                    let eTag = try #require(response.value(forHTTPHeaderField: "ETag"))
                    if let known = eTags[browser.format] { #expect(known == eTag, "one ETag per format") }
                    eTags[browser.format] = eTag
                }
            }
            #expect(Set(eTags.values).count == 3, "AVIF, WebP and JPEG each have their own ETag: \(eTags)")
            let avifTag = try #require(eTags[.avif])
            let (_, notModified) = try await get(accept: Self.browsers[0].accept, ifNoneMatch: avifTag)
            #expect(notModified.statusCode == 304)
            let (_, changed) = try await get(accept: "*/*", ifNoneMatch: avifTag)
            #expect(changed.statusCode == 200, "the JPEG does not match the AVIF's ETag")

            // ?format= forces one, whatever Accept says, and does not vary.
            let (png, forced) = try await get("?format=png", accept: Self.browsers[0].accept)
            #expect(forced.statusCode == 200)
            #expect(forced.value(forHTTPHeaderField: "Content-Type") == "image/png")
            #expect(forced.value(forHTTPHeaderField: "Vary") == nil)
            #expect(png.withUnsafeBytes { ImageFormat.sniff($0) } == .png)
            let (_, gif) = try await get("?format=gif", accept: nil)
            #expect(gif.statusCode == 400)

            // Each format is its own derivative in the store, named by recipe.
            let thumbnails = ServeProcess.files(serve.store, "thumbnails").filter {
                $0.contains(id) && $0.hasPrefix("128/")
            }
            for suffix in [
                "-inside-q82-srgb.jpg", "-inside-q85-srgb.webp", "-inside-q70-s6-srgb.avif", "-inside-srgb.png",
            ] {
                #expect(thumbnails.contains { $0.hasSuffix(suffix) }, "\(suffix) in \(thumbnails)")
            }
        }

        @Test func negotiationOffAnswersTheConfiguredFormat() async throws {
            guard Self.available("cwebp") else { return }
            let work = try PicpipeProcess.temporaryFolder("picpipe-formats")
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            let serve = try await ServeProcess(store: store, environment: ["PICPIPE_NEGOTIATE_FORMATS": "false"])
            do {
                try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
                let base = "http://127.0.0.1:\(try #require(ServeHTTPTests.port(in: serve.log)))"
                var upload = URLRequest(url: try #require(URL(string: "\(base)/images")))
                upload.httpMethod = "POST"
                upload.setValue("image/jpeg", forHTTPHeaderField: "Content-Type")
                let (posted, _) = try await URLSession.shared.upload(
                    for: upload, from: try BatchCommandTests.picture(.jpeg, seed: 9))
                let id = try #require(
                    (try JSONSerialization.jsonObject(with: posted) as? [String: Any])?["id"] as? String)
                var request = URLRequest(url: try #require(URL(string: "\(base)/images/\(id)/thumbnails/256")))
                request.setValue(Self.browsers[0].accept, forHTTPHeaderField: "Accept")
                let (_, response) = try await URLSession.shared.data(for: request)
                let http = try #require(response as? HTTPURLResponse)
                #expect(http.value(forHTTPHeaderField: "Content-Type") == "image/jpeg")
                #expect(http.value(forHTTPHeaderField: "Vary") == nil)
                let forced = URLRequest(
                    url: try #require(URL(string: "\(base)/images/\(id)/thumbnails/256?format=webp")))
                let (body, _) = try await URLSession.shared.data(for: forced)
                #expect(body.withUnsafeBytes { ImageFormat.sniff($0) } == .webp)
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()
        }
    }
}
