// EXIF blocks longer than the 64 KiB libexif reads (PNG eXIf, WebP EXIF chunk, PNG raw profile; HEIF in
// MetadataCommandTests): read whole up to MetadataReader.largestExifBlock, by picpipe's walk, which reads every
// block libexif reads as libexif does.
import Foundation
import MetadataService
import Testing

struct LongExifBlockTests {
    /// A camera block whose ExifIFD starts with a UserComment of `commentLength` bytes: every value written after
    /// it (the ExifIFD's others, the GPS directory, IFD0 and its values) lies past it.
    static func captioned(commentLength: Int, bigEndian: Bool = true) -> [UInt8] {
        var fixture = ExifFixture.camera(
            bigEndian: bigEndian, latitude: ("N", [(48, 1), (51, 1), (30, 1)]),
            longitude: ("E", [(2, 1), (17, 1), (40, 1)]))
        let comment = Array("ASCII".utf8) + [0, 0, 0] + [UInt8](repeating: 0x61, count: commentLength - 8)
        fixture.exif.insert(.undefined(0x9286, comment), at: 0)
        return fixture.tiff()
    }

    /// The containers a block longer than a JPEG APP1 can come in.
    static let containers = ["PNG eXIf", "WebP EXIF", "WebP EXIF with Exif\\0\\0", "PNG raw profile"]

    static func file(_ tiff: [UInt8], in container: String) -> [UInt8] {
        switch container {
        case "PNG eXIf": return ExifFixture.png(tiff: tiff)
        case "WebP EXIF": return ExifFixture.webp(exif: tiff)
        case "PNG raw profile":
            let profile = PNGRawProfileTests.chunk("zTXt", text: PNGRawProfileTests.profileText(tiff))
            return ExifFixture.png(tiff: nil, before: [profile])
        default: return ExifFixture.webp(exif: Array("Exif".utf8) + [0, 0] + tiff)
        }
    }

    /// A tag stored past 64 KiB is read, as exiftool reads it: until session 34 libexif read the first 65,528 bytes
    /// of the block, so the date, the f-number, the position (and a Make stored after a long description) were null
    /// and `exif_error` said "Tag starts past end of buffer (84180 > 65528)" of a tag inside the 84 KB block.
    @Test(arguments: containers, [true, false])
    func tagsPast64KiBAreRead(container: String, bigEndian: Bool) throws {
        let tiff = Self.captioned(commentLength: 84_000, bigEndian: bigEndian)
        #expect(tiff.count > 84_000)
        let metadata = try ExifFixture.read(Self.file(tiff, in: container))
        #expect(metadata.make == "FixtureCam" && metadata.model == "Model X" && metadata.orientation == 6)
        #expect(metadata.takenAt == "2021-06-15T08:30:05" && metadata.takenAtOffset == "-04:00")
        #expect(metadata.fNumber == 2.8 && metadata.iso == 400 && metadata.lensModel == "Fixture 50mm F2.8")
        #expect(metadata.gpsLatitude == 48.858333333333334 && metadata.gpsLongitude == 2.2944444444444443)
        #expect(metadata.exifError == nil)
        let comment = metadata.exif?.tags.first { $0.group == .exif && $0.name == "UserComment" }?.value
        #expect(comment == .text(String(repeating: "a", count: 84_000 - 8)))
    }

    /// A block longer than `largestExifBlock` is read up to there, and `exif_error` says it was cut (where
    /// libexif's "past end of buffer" named no cut at all).
    @Test func aBlockLongerThanTheLargestIsCutAndSaysSo() throws {
        let largest = MetadataReader.largestExifBlock
        #expect(largest == 1_048_576)
        // The ExifIFD, GPS and IFD0 directories lie within the first MiB, the comment runs past it.
        var fixture = ExifFixture.camera(latitude: ("S", [(1, 1)]), longitude: ("W", [(2, 1)]))
        fixture.ifd0.append(
            FixtureEntry(tag: 0x9C9C, type: 1, count: 1_100_000, payload: [UInt8](repeating: 0x41, count: 1_100_000)))
        let tiff = fixture.tiff()
        let metadata = try ExifFixture.read(ExifFixture.png(tiff: tiff))
        #expect(metadata.make == "FixtureCam" && metadata.takenAt == "2021-06-15T08:30:05")
        #expect(metadata.gpsLatitude == -1 && metadata.gpsLongitude == -2)
        #expect(metadata.exif?.tags.contains { $0.name == "XPComment" } == false)
        #expect(
            metadata.exifError
                == "EXIF block of \(tiff.count) bytes is longer than the 1048576 bytes picpipe reads: tags stored past "
                + "them are not read (and 1 more problems)")
    }

    /// Entries of a long block that all point at the same bytes keep no more than 1 MiB of values between them,
    /// so 4,000 entries at one 90 KB string cannot make 360 MB of raw tags (nor a 1 MiB block some 23 GB); until
    /// session 35 the bound was 16 MiB.
    @Test func entriesSharingTheirBytesCannotMultiplyTheBlock() throws {
        let fixture = ExifFixture()
        var out: [UInt8] = [0x4D, 0x4D, 0x00, 0x2A] + fixture.bytes32(8)
        let count = 4_000
        let text = 8 + 2 + 12 * count + 4
        out += fixture.bytes16(UInt16(count))
        for index in 0..<count {
            out +=
                fixture.bytes16(UInt16(0x1000 + index)) + fixture.bytes16(2) + fixture.bytes32(90_000)
                + fixture.bytes32(UInt32(text))
        }
        out += fixture.bytes32(0)
        out += [UInt8](repeating: 0x62, count: 89_999) + [0]
        let metadata = try ExifFixture.read(ExifFixture.png(tiff: out), raw: false)
        // 11 values of 90,000 bytes fit in 1 MiB: the 12th, tag 0x100b, is the first not read.
        #expect(
            metadata.exifError
                == "Tag 0x100b is not read: the values read add up to more than the 1048576 bytes picpipe keeps "
                + "(entries that share their bytes) (and \(count - 12) more problems)")
    }

    /// picpipe's walk reads every block libexif reads as libexif does: the same fields, raw tags and `exif_error`
    /// for every file of the corpus (hostile ones included) and for blocks with random bytes changed.
    @Test(.enabled(if: CorpusLocation.hasManifest, "../shared/corpus is absent"))
    func theWalkReadsAsLibexifDoes() throws {
        @discardableResult func agree(_ bytes: [UInt8], _ name: String) -> ImageMetadata? {
            let read = { (reader: ExifBlockReader) in
                bytes.withUnsafeBytes { buffer in
                    try? MetadataReader.read(
                        bytes: buffer, isWholeFile: true, fileSize: buffer.count, file: name, sha256: nil,
                        includeRaw: true, reader: reader
                    ).get()
                }
            }
            let libexif = read(.bySize)
            let walk = read(.directoryWalk)
            #expect(libexif == walk, "\(name): \(libexif?.exifError ?? "-") / \(walk?.exifError ?? "-")")
            return libexif
        }
        var files = 0
        var withExif = 0
        for folder in try FileManager.default.contentsOfDirectory(atPath: CorpusLocation.root.path).sorted() {
            let url = CorpusLocation.root.appendingPathComponent(folder)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) else { continue }
            for name in names.sorted() {
                let bytes = try [UInt8](Data(contentsOf: url.appendingPathComponent(name)))
                files += 1
                if agree(bytes, folder + "/" + name)?.make != nil { withExif += 1 }
            }
        }
        #expect(files > 300 && withExif > 45, "\(files) files, \(withExif) with a make")
        // Blocks with bytes changed at random (a fixed seed, so a failure repeats), in both byte orders.
        var seed: UInt64 = 0x5EED_0034
        func next(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(bound))
        }
        for bigEndian in [true, false] {
            let good = ExifFixture.camera(
                bigEndian: bigEndian, latitude: ("S", [(1, 1), (2, 1), (3, 1)]), longitude: ("W", [(4, 1)])
            ).tiff()
            agree(ExifFixture.jpeg(tiff: HostileExifTests.loopingBlock(bigEndian: bigEndian)), "loop")
            for round in 0..<2_000 {
                var block = good
                for _ in 0..<(1 + next(12)) { block[next(block.count)] = UInt8(next(256)) }
                agree(ExifFixture.jpeg(tiff: block), "mutated \(bigEndian) \(round)")
            }
        }
    }
}
