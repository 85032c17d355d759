// `picpipe metadata` end to end: the real binary, its JSON lines, stderr and exit code.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct MetadataCommandTests {
        static let keys = [
            "file", "make", "model", "lens_model", "taken_at", "taken_at_offset", "exposure_time", "f_number", "iso",
            "focal_length", "focal_length_35mm", "orientation", "gps_latitude", "gps_longitude", "gps_altitude",
            "width",
            "height", "format", "bytes", "sha256", "exif_error",
        ]

        /// A tiny JPEG header with EXIF (Make "CLI", GPS south-west) and a PNG without EXIF, written to `folder`.
        static func writeFixtures(in folder: URL) throws -> (jpeg: URL, png: URL, text: URL) {
            // Big-endian TIFF: IFD0 {Make "CLI", GPSInfo -> GPS IFD {LatRef "S", Lat 10/1, LonRef "W", Lon 20/1}}.
            var tiff: [UInt8] = [0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8]
            func short(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
            func long(_ value: Int) -> [UInt8] { short(value >> 16) + short(value & 0xFFFF) }
            // IFD0 at 8: 2 entries -> 2 + 24 + 4 = 30 bytes, GPS IFD at 38.
            tiff += short(2)
            tiff += short(0x010F) + short(2) + long(4) + Array("CLI".utf8) + [0]
            tiff += short(0x8825) + short(4) + long(1) + long(38)
            tiff += long(0)
            // GPS IFD at 38: 4 entries -> 2 + 48 + 4 = 54 bytes, values from 92.
            tiff += short(4)
            tiff += short(1) + short(2) + long(2) + [0x53, 0, 0, 0]
            tiff += short(2) + short(5) + long(1) + long(92)
            tiff += short(3) + short(2) + long(2) + [0x57, 0, 0, 0]
            tiff += short(4) + short(5) + long(1) + long(100)
            tiff += long(0)
            tiff += long(10) + long(1) + long(20) + long(1)
            let app1 = Array("Exif".utf8) + [0, 0] + tiff
            var jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE1] + short(app1.count + 2) + app1
            jpeg += [
                0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x30, 0x00, 0x40, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01,
                0x03, 0x11, 0x01, 0xFF, 0xD9,
            ]
            let png: [UInt8] = [
                0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 5, 0, 0,
                0, 3,
                8, 2, 0, 0, 0, 0x3A, 0x7E, 0x9B, 0x55, 0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
            ]
            let urls = (
                folder.appendingPathComponent("camera.jpg"), folder.appendingPathComponent("plain.png"),
                folder.appendingPathComponent("notes.txt")
            )
            try Data(jpeg).write(to: urls.0)
            try Data(png).write(to: urls.1)
            try Data("not a picture".utf8).write(to: urls.2)
            return urls
        }

        static func objects(_ stdout: String) throws -> [[String: Any]] {
            try stdout.split(separator: "\n").map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            }
        }

        @Test func printsOneJSONLinePerFileWithEveryKey() async throws {
            let folder = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let files = try Self.writeFixtures(in: folder)
            let run = try await PicpipeProcess.run(["metadata", "--hash", files.jpeg.path, files.png.path])
            #expect(run.status == 0, "\(run.stderr)")
            let objects = try Self.objects(run.stdout)
            try #require(objects.count == 2)
            for object in objects { #expect(Set(object.keys) == Set(Self.keys)) }
            let jpeg = objects[0]
            #expect(jpeg["file"] as? String == files.jpeg.path)
            #expect(jpeg["make"] as? String == "CLI")
            #expect(jpeg["gps_latitude"] as? Double == -10)
            #expect(jpeg["gps_longitude"] as? Double == -20)
            #expect(jpeg["width"] as? Int == 64 && jpeg["height"] as? Int == 48)
            #expect(jpeg["format"] as? String == "jpeg")
            #expect((jpeg["sha256"] as? String)?.count == 64)
            #expect(jpeg["model"] is NSNull && jpeg["taken_at"] is NSNull && jpeg["exif_error"] is NSNull)
            let png = objects[1]
            #expect(png["format"] as? String == "png" && png["width"] as? Int == 5 && png["height"] as? Int == 3)
            #expect(png["orientation"] is NSNull)
        }

        @Test func rawAddsExifGroupsAndNoHashLeavesSha256Null() async throws {
            let folder = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let files = try Self.writeFixtures(in: folder)
            let run = try await PicpipeProcess.run(["metadata", "--raw", "--no-hash", files.jpeg.path])
            #expect(run.status == 0, "\(run.stderr)")
            let object = try #require(try Self.objects(run.stdout).first)
            #expect(object["sha256"] is NSNull)
            #expect(object["bytes"] as? Int == (try Data(contentsOf: files.jpeg)).count)
            let exif = try #require(object["exif"] as? [String: Any])
            #expect((exif["IFD0"] as? [String: Any])?["Make"] as? String == "CLI")
            let gps = try #require(exif["GPS"] as? [String: Any])
            #expect(gps["GPSLatitudeRef"] as? String == "S")
            #expect(gps["GPSLatitude"] as? Double == 10)  // unsigned, as exiftool prints the GPS group
        }

        /// `-` is standard input, as for exiftool (it was looked for as a file named "-"): the same line as for the
        /// file but `file`, and a stream that is no picture is reported like a file.
        @Test func standardInputIsReadForADash() async throws {
            let folder = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let files = try Self.writeFixtures(in: folder)
            let shell = URL(fileURLWithPath: "/bin/sh")
            let binary = PicpipeProcess.binary.path
            let environment = ProcessInfo.processInfo.environment
            let piped = try await PicpipeProcess.run(
                executable: shell, ["-c", "cat '\(files.jpeg.path)' | '\(binary)' metadata --raw --hash -"],
                environment: environment)
            #expect(piped.status == 0, "\(piped.stderr)")
            var fromPipe = try #require(try Self.objects(piped.stdout).first)
            let direct = try await PicpipeProcess.run(["metadata", "--raw", "--hash", files.jpeg.path])
            var fromFile = try #require(try Self.objects(direct.stdout).first)
            #expect(fromPipe["file"] as? String == "-")
            fromPipe["file"] = nil
            fromFile["file"] = nil
            #expect(NSDictionary(dictionary: fromPipe).isEqual(to: fromFile), "\(piped.stdout) \(direct.stdout)")
            let text = try await PicpipeProcess.run(
                executable: shell, ["-c", "'\(binary)' metadata - < '\(files.text.path)'"], environment: environment)
            #expect(text.status == 1)
            #expect(text.stderr.contains("picpipe metadata: -: not a JPEG, PNG"), "\(text.stderr)")
        }

        @Test func aFileThatIsNotAPictureIsReportedAndTheRestGoesOn() async throws {
            let folder = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let files = try Self.writeFixtures(in: folder)
            let missing = folder.appendingPathComponent("missing.jpg").path
            let run = try await PicpipeProcess.run(["metadata", files.text.path, missing, files.jpeg.path])
            #expect(run.status == 1)
            #expect(try Self.objects(run.stdout).count == 1)
            let errors = run.stderr.split(separator: "\n")
            #expect(errors.count == 2)
            #expect(errors.first?.contains(files.text.path) == true)
            #expect(errors.last?.contains("missing.jpg") == true)
        }

        @Test(.enabled(if: PicpipeProcess.hasCorpus, "../shared/corpus is absent"))
        func hostileCorpusFilesNeverCrashTheProcess() async throws {
            var paths: [String] = []
            for folder in ["bad", "jpeg-odd", "png-odd"] {
                let url = PicpipeProcess.corpus.appendingPathComponent(folder)
                paths += try FileManager.default.contentsOfDirectory(atPath: url.path).sorted().map {
                    url.appendingPathComponent($0).path
                }
            }
            let run = try await PicpipeProcess.run(["metadata", "--raw"] + paths, timeout: 120)
            #expect(run.status == 0 || run.status == 1)  // 1: some files are not pictures, reported on stderr
            let printed = try Self.objects(run.stdout).count
            let reported = run.stderr.split(separator: "\n").filter { $0.hasPrefix("picpipe metadata: ") }.count
            #expect(printed + reported == paths.count)
        }
    }
}
