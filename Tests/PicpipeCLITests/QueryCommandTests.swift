// `picpipe query` end to end: a store filled by `picpipe batch`, then filters, JSON lines and the table.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct QueryCommandTests {
        /// Three pictures with different makes, times and positions, put into a fresh store by `picpipe batch`.
        static func filledStore() async throws -> (store: URL, folder: URL) {
            let folder = try PicpipeProcess.temporaryFolder()
            let inputs = folder.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            let pictures: [(String, String, String, (Double, Double)?)] = [
                ("paris.jpg", "Canon", "2020:01:01 10:00:00", (48.85, 2.35)),
                ("sydney.jpg", "NIKON", "2022:06:01 12:00:00", (-33.87, 151.21)),
                ("nowhere.jpg", "Canon", "2021:03:03 03:03:03", nil),
            ]
            for (name, make, time, position) in pictures {
                try await Data(QueryFixture.jpeg(make: make, time: time, position: position)).write(
                    to: inputs.appendingPathComponent(name))
            }
            let store = folder.appendingPathComponent("store")
            let batch = try await PicpipeProcess.run([
                "batch", inputs.path, "--store", store.path, "--sizes", "16", "--quiet",
            ])
            try #require(batch.status == 0, "batch failed: \(batch.stderr)")
            return (store, folder)
        }

        static func makes(_ stdout: String) throws -> [String] {
            try stdout.split(separator: "\n").map { line in
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                return object["make"] as? String ?? "?"
            }
        }

        @Test func filtersOrderAndJSONLines() async throws {
            let (store, folder) = try await Self.filledStore()
            defer { try? FileManager.default.removeItem(at: folder) }
            func query(_ arguments: [String]) async throws -> [String] {
                let run = try await PicpipeProcess.run(["query", "--store", store.path, "--json"] + arguments)
                #expect(run.status == 0, "\(run.stderr)")
                return try Self.makes(run.stdout)
            }
            #expect(try await query([]) == ["NIKON", "Canon", "Canon"])  // newest first
            #expect(try await query(["--make", "canon"]).count == 2)
            #expect(try await query(["--taken-after", "2021-01-01", "--taken-before", "2022"]) == ["Canon"])
            #expect(try await query(["--bbox", "40,-10,60,20"]) == ["Canon"])
            #expect(try await query(["--bbox=-40,150,-30,152"]) == ["NIKON"])  // "=" lets a value start with "-"
            #expect(try await query(["--near", "48.86,2.34,10"]) == ["Canon"])
            #expect(try await query(["--limit", "1"]) == ["NIKON"])

            let run = try await PicpipeProcess.run(["query", "--store", store.path, "--json", "--make", "NIKON"])
            let line = try #require(run.stdout.split(separator: "\n").first)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let id = try #require(object["id"] as? String)
            #expect(id.count == 64 && object["sha256"] as? String == id)
            #expect(object["taken_at"] as? String == "2022-06-01T12:00:00")
            #expect((object["file"] as? String)?.contains(String(id.prefix(8))) == true)  // the stored original
            #expect(Set(object.keys) == Set(MetadataCommandTests.keys + ["id", "added_at"]))
        }

        /// A picture without an EXIF date is listed by when it was added (its original written into the store), so a
        /// screenshot batched today comes before pictures taken years ago; batching the same bytes again does not
        /// move it. Until session 32 it came after every dated picture, and the line had no `added_at`.
        @Test func anUndatedPictureIsListedByWhenItWasAdded() async throws {
            let (store, folder) = try await Self.filledStore()
            defer { try? FileManager.default.removeItem(at: folder) }
            let later = folder.appendingPathComponent("later")
            try FileManager.default.createDirectory(at: later, withIntermediateDirectories: true)
            let screenshot = await QueryFixture.jpeg(make: "Screen", time: "0000:00:00 00:00:00", position: nil)
            try Data(screenshot).write(to: later.appendingPathComponent("screenshot.jpg"))
            func batch() async throws {
                let run = try await PicpipeProcess.run([
                    "batch", later.path, "--store", store.path, "--sizes", "16", "--quiet",
                ])
                try #require(run.status == 0, "batch failed: \(run.stderr)")
            }
            func lines() async throws -> [[String: Any]] {
                let run = try await PicpipeProcess.run(["query", "--store", store.path, "--json"])
                #expect(run.status == 0, "\(run.stderr)")
                return try run.stdout.split(separator: "\n").map {
                    try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
                }
            }
            try await batch()
            let listed = try await lines()
            #expect(listed.map { $0["make"] as? String ?? "?" } == ["Screen", "NIKON", "Canon", "Canon"])
            let first = try #require(listed.first)
            #expect(first["taken_at"] is NSNull)
            let original = store.appendingPathComponent(try #require(first["file"] as? String))
            let written = try #require(
                try FileManager.default.attributesOfItem(atPath: original.path)[.modificationDate] as? Date)
            let local = DateFormatter()
            local.locale = Locale(identifier: "en_US_POSIX")
            local.timeZone = TimeZone.current
            local.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
            let added = local.string(from: written)
            #expect(first["added_at"] as? String == added)
            #expect(listed.dropFirst().allSatisfy { $0["added_at"] is String })
            // The original dated back, then the same bytes batched again under another name: the picture stays put.
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: 978_307_200)], ofItemAtPath: original.path)
            try Data(screenshot).write(to: later.appendingPathComponent("screenshot copy.jpg"))
            try await batch()
            let again = try await lines()
            #expect(again.map { $0["make"] as? String ?? "?" } == ["Screen", "NIKON", "Canon", "Canon"])
            #expect(again.first?["added_at"] as? String == added)
        }

        /// An empty filter is not given, for every filter, as over HTTP (until session 29 `--make ""` listed nothing
        /// with exit 0 while `--taken-after ""` was refused).
        @Test func anEmptyFilterIsNotGiven() async throws {
            let (store, folder) = try await Self.filledStore()
            defer { try? FileManager.default.removeItem(at: folder) }
            let options = ["--make", "--model", "--taken-after", "--taken-before", "--bbox", "--near"]
            for arguments in options.map({ [$0, ""] }) + [options.flatMap { [$0, ""] }] {
                let run = try await PicpipeProcess.run(["query", "--store", store.path, "--json"] + arguments)
                #expect(run.status == 0, "\(arguments): \(run.stderr)")
                #expect(try Self.makes(run.stdout) == ["NIKON", "Canon", "Canon"], "\(arguments)")
            }
            // An empty --bbox beside a --near is not a second area.
            let near = try await PicpipeProcess.run(
                ["query", "--store", store.path, "--json", "--bbox", "", "--near", "48.86,2.34,10", "--make", ""])
            #expect(near.status == 0, "\(near.stderr)")
            #expect(try Self.makes(near.stdout) == ["Canon"])
        }

        @Test func tableAndUsageErrors() async throws {
            let (store, folder) = try await Self.filledStore()
            defer { try? FileManager.default.removeItem(at: folder) }
            let table = try await PicpipeProcess.run(["query", "--store", store.path])
            #expect(table.status == 0)
            let lines = table.stdout.split(separator: "\n")
            #expect(lines.count == 4)  // header + 3 images
            #expect(lines.first?.hasPrefix("ID") == true && lines.contains { $0.contains("NIKON") })
            for bad in [
                ["--bbox", "1,2,3"], ["--near", "1,2,-5"], ["--near", "1,2,0"], ["--limit", "0"],
                ["--taken-after", "yesterday"], ["--limit", "-1"], ["--taken-after", "2020-13-01"],
                ["--taken-before", "2021-02-29"],
            ] {
                let run = try await PicpipeProcess.run(["query", "--store", store.path] + bad)
                #expect(run.status == 2, "\(bad)")
            }
            // A store without a metadata database yet holds no image (a folder that is no store is refused:
            // CommandSlipsTests).
            let emptyStore = folder.appendingPathComponent("empty")
            try FileManager.default.createDirectory(
                at: emptyStore.appendingPathComponent("originals"), withIntermediateDirectories: true)
            let empty = try await PicpipeProcess.run(["query", "--store", emptyStore.path, "--json"])
            #expect(empty.status == 0 && empty.stdout.isEmpty)
            // A store that does not exist is a mistake (a typo in --store), not an empty result (StorePathTests).
            let missing = try await PicpipeProcess.run(["query", "--store", folder.appendingPathComponent("typo").path])
            #expect(missing.status == 2)
        }
    }
}

/// A small but complete baseline JPEG (8x8 grey, so batch can decode it) with EXIF Make, DateTimeOriginal, GPS.
enum QueryFixture {
    static func jpeg(make: String, time: String, position: (Double, Double)?) async -> [UInt8] {
        func short(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        func long(_ value: Int) -> [UInt8] { short(value >> 16) + short(value & 0xFFFF) }
        // Layout: header 8, IFD0 (2 or 3 entries), Exif IFD (1 entry), GPS IFD (4 entries), then values.
        let makeBytes = Array(make.utf8) + [0]
        let ifd0Count = position == nil ? 2 : 3
        let ifd0Size = 2 + 12 * ifd0Count + 4
        let exifOffset = 8 + ifd0Size
        let exifSize = 2 + 12 + 4
        let gpsOffset = exifOffset + exifSize
        let gpsSize = position == nil ? 0 : 2 + 12 * 4 + 4
        var valuesOffset = gpsOffset + gpsSize
        var values: [UInt8] = []
        func place(_ bytes: [UInt8]) -> Int {
            let offset = valuesOffset + values.count
            values += bytes
            return offset
        }
        let makeOffset = place(makeBytes)
        let timeOffset = place(Array(time.utf8) + [0])
        func rational(_ degrees: Double) -> [UInt8] {
            long(Int((abs(degrees) * 1_000_000).rounded())) + long(1_000_000)
        }
        let latitudeOffset = position.map { place(rational($0.0)) } ?? 0
        let longitudeOffset = position.map { place(rational($0.1)) } ?? 0
        valuesOffset = 0
        var tiff: [UInt8] = [0x4D, 0x4D, 0x00, 0x2A] + long(8)
        tiff += short(ifd0Count)
        tiff += short(0x010F) + short(2) + long(makeBytes.count) + long(makeOffset)
        tiff += short(0x8769) + short(4) + long(1) + long(exifOffset)
        if position != nil { tiff += short(0x8825) + short(4) + long(1) + long(gpsOffset) }
        tiff += long(0)
        tiff += short(1) + short(0x9003) + short(2) + long(20) + long(timeOffset) + long(0)
        if let position {
            tiff += short(4)
            tiff += short(1) + short(2) + long(2) + [position.0 < 0 ? 0x53 : 0x4E, 0, 0, 0]
            tiff += short(2) + short(5) + long(1) + long(latitudeOffset)
            tiff += short(3) + short(2) + long(2) + [position.1 < 0 ? 0x57 : 0x45, 0, 0, 0]
            tiff += short(4) + short(5) + long(1) + long(longitudeOffset)
            tiff += long(0)
        }
        tiff += values
        let app1 = Array("Exif".utf8) + [0, 0] + tiff
        return [0xFF, 0xD8, 0xFF, 0xE1] + short(app1.count + 2) + app1 + greyJPEGBody
    }

    /// DQT, SOF0 (8x8, one component), DHT and a scan of one all-grey block, then EOI.
    static let greyJPEGBody: [UInt8] = {
        var out: [UInt8] = [0xFF, 0xDB, 0x00, 0x43, 0x00] + [UInt8](repeating: 1, count: 64)
        out += [0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00]
        // DC table: one code of length 1 for category 0. AC table: one code of length 1 for EOB (0x00).
        out += [0xFF, 0xC4, 0x00, 0x14, 0x00] + [1] + [UInt8](repeating: 0, count: 15) + [0x00]
        out += [0xFF, 0xC4, 0x00, 0x14, 0x10] + [1] + [UInt8](repeating: 0, count: 15) + [0x00]
        out += [0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]
        out += [0x3F]  // DC diff category 0 (bit 0), EOB (bit 0), then 1-bits padding
        out += [0xFF, 0xD9]
        return out
    }()
}
