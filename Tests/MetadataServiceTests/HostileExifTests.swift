// Bad EXIF never crashes or hangs: the picture is still read, exif_error says why.
import Foundation
import ImageCore
import MetadataService
import Testing

struct HostileExifTests {
    /// A block whose IFD0 points to itself as IFD1 and as its ExifIFD.
    static func loopingBlock(bigEndian: Bool) -> [UInt8] {
        var fixture = ExifFixture(bigEndian: bigEndian)
        var out: [UInt8] = bigEndian ? [0x4D, 0x4D, 0x00, 0x2A] : [0x49, 0x49, 0x2A, 0x00]
        out += fixture.bytes32(8)
        fixture.ifd0 = [.ascii(0x010F, "Loop"), fixture.long(0x8769, [8]), fixture.long(0x8825, [8])]
        _ = fixture.write(fixture.ifd0, next: 8, into: &out)
        return out
    }

    @Test func ifdLoopsTerminate() throws {
        for bigEndian in [true, false] {
            let metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: Self.loopingBlock(bigEndian: bigEndian)))
            #expect(metadata.make == "Loop")
            #expect(metadata.width == 64)
        }
    }

    /// A pointer to a directory already read is not followed, as exiftool refuses it ("GPS pointer references
    /// previous ExifIFD directory"): until session 31 libexif read the ExifIFD again as GPS (its entries as unknown
    /// GPS tags in `--raw`) and IFD0 again as IFD1.
    @Test(arguments: [true, false])
    func aPointerToADirectoryAlreadyReadIsNotFollowed(bigEndian: Bool) throws {
        var fixture = ExifFixture.camera(bigEndian: bigEndian)
        // The ExifIFD is written first, at 8: a GPS pointer of its own to the same offset, as Gran Turismo 5 writes.
        fixture.ifd0.append(fixture.long(0x8825, [8]))
        let metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff()))
        let groups = Set((metadata.exif?.tags ?? []).map(\.group))
        #expect(groups == [.ifd0, .exif])
        #expect(metadata.make == "FixtureCam" && metadata.takenAt == "2021-06-15T08:30:05" && metadata.iso == 400)
        #expect(metadata.gpsLatitude == nil)
        #expect(metadata.exifError == "GPS pointer references previous ExifIFD directory")

        // IFD0 whose next IFD is itself, and an ExifIFD pointer to IFD0 (two warnings, as exiftool gives).
        let looping = ExifFixture(bigEndian: bigEndian)
        var out: [UInt8] = bigEndian ? [0x4D, 0x4D, 0x00, 0x2A] : [0x49, 0x49, 0x2A, 0x00]
        out += looping.bytes32(8)
        _ = looping.write([.ascii(0x010F, "Loop"), looping.long(0x8769, [8])], next: 8, into: &out)
        let loop = try ExifFixture.read(ExifFixture.jpeg(tiff: out))
        #expect(loop.make == "Loop")
        #expect((loop.exif?.tags ?? []).map(\.group) == [.ifd0])
        #expect(
            loop.exifError
                == "ExifIFD pointer references previous IFD0 directory (and 1 more problems)")
    }

    /// A GPS or ExifIFD pointer stored as a string, rational or float is not followed, as exiftool does not follow it
    /// ("Wrong format (string) for IFD0 0x8825 GPSInfo"; until session 36 libexif followed it, and the corpus's
    /// exif-gps-type-error.jpg showed 9 ExifIFD tags as unknown GPS tags); an integer type of any width is followed,
    /// by libexif and by picpipe's own walk alike.
    @Test(arguments: [true, false])
    func aPointerStoredAsAStringOrRationalIsNotFollowed(bigEndian: Bool) throws {
        let fixture = ExifFixture.camera(bigEndian: bigEndian, latitude: ("N", [(1, 1)]), longitude: ("E", [(2, 1)]))
        let tiff = fixture.tiff()
        func u16(_ at: Int) -> Int {
            bigEndian ? Int(tiff[at]) << 8 | Int(tiff[at + 1]) : Int(tiff[at + 1]) << 8 | Int(tiff[at])
        }
        let ifd0 = bigEndian ? u16(4) << 16 | u16(6) : u16(6) << 16 | u16(4)
        /// The block with IFD0's pointer `tag` given TIFF type `format`.
        func retyped(_ tag: Int, _ format: UInt16) throws -> [UInt8] {
            let index = try #require((0..<u16(ifd0)).first { u16(ifd0 + 2 + 12 * $0) == tag })
            var block = tiff
            block.replaceSubrange(ifd0 + 4 + 12 * index..<ifd0 + 6 + 12 * index, with: fixture.bytes16(format))
            return block
        }
        func read(_ block: [UInt8], _ reader: ExifBlockReader) throws -> ImageMetadata {
            let jpeg = ExifFixture.jpeg(tiff: block)
            return try jpeg.withUnsafeBytes { buffer in
                try MetadataReader.read(
                    bytes: buffer, isWholeFile: true, fileSize: buffer.count, file: "fixture", sha256: nil,
                    includeRaw: true, reader: reader
                ).get()
            }
        }
        for reader in [ExifBlockReader.bySize, .directoryWalk] {
            for (format, name) in [(2, "string"), (5, "rational64u"), (11, "float"), (12, "double")] {
                let gps = try read(retyped(0x8825, UInt16(format)), reader)
                #expect(gps.gpsLatitude == nil && gps.takenAt == "2021-06-15T08:30:05")
                #expect(Set((gps.exif?.tags ?? []).map(\.group)) == [.ifd0, .exif])
                #expect(gps.exifError == "Wrong format (\(name)) for IFD0 0x8825 GPSInfo", "\(reader)")
                let exif = try read(retyped(0x8769, UInt16(format)), reader)
                #expect(exif.takenAt == nil && exif.iso == nil && exif.gpsLatitude == 1 && exif.make == "FixtureCam")
                #expect(exif.exifError == "Wrong format (\(name)) for IFD0 0x8769 ExifOffset", "\(reader)")
            }
            for format in [3, 9, 13] {
                let followed = try read(retyped(0x8825, UInt16(format)), reader)
                #expect(followed.gpsLatitude == 1 && followed.exifError == nil, "type \(format), \(reader)")
            }
        }
    }

    @Test func hugeCountsAndOffsetsPastTheEndAreRefused() throws {
        var fixture = ExifFixture.camera()
        var huge = fixture.long(0x0111, [1])
        huge.count = 0x7FFF_FFFF
        huge.forcedOffset = 16
        var pastEnd = FixtureEntry.ascii(0x0131, "a long software name that is stored out of line")
        pastEnd.forcedOffset = 0xFFFF_FF00
        fixture.ifd0 += [huge, pastEnd]
        fixture.gps = []
        let tiff = fixture.tiff()
        // And an IFD that declares 65535 entries.
        var absurd = ExifFixture()
        absurd.ifd0 = [.ascii(0x010F, "Absurd")]
        var absurdTiff = absurd.tiff()
        absurdTiff.replaceSubrange(8..<10, with: [0xFF, 0xFF])
        for block in [tiff, absurdTiff] {
            let metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: block))
            #expect(metadata.width == 64 && metadata.height == 48)
        }
        let metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: tiff))
        #expect(metadata.make == "FixtureCam")  // the good tags survive
        #expect(metadata.exifError != nil)
        #expect(try ExifFixture.read(ExifFixture.jpeg(tiff: absurdTiff)).exifError != nil)
    }

    @Test func truncatedBlocksAndWrongTypes() throws {
        let whole = ExifFixture.camera(latitude: ("N", [(1, 1)]), longitude: ("E", [(2, 1)])).tiff()
        for length in stride(from: 0, through: whole.count, by: 7) {
            let metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: Array(whole.prefix(length))))
            #expect(metadata.width == 64)
        }
        var wrong = ExifFixture()
        wrong.ifd0 = [wrong.short(0x010F, [7]), wrong.long(0x0112, [3])]  // Make as a number, Orientation as LONG
        wrong.exif = [wrong.long(0x9003, [1]), wrong.short(0x829A, [2])]
        wrong.gps = [.ascii(0x0002, "north"), .ascii(0x0006, "high")]
        let metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: wrong.tiff()))
        #expect(metadata.make == nil)
        #expect(metadata.orientation == 3)
        #expect(metadata.takenAt == nil)
        #expect(metadata.exposureTime == 2)
        #expect(metadata.gpsLatitude == nil && metadata.gpsAltitude == nil)
    }

    @Test func brokenContainers() throws {
        // APP1 that claims more bytes than the file has.
        var cut = ExifFixture.jpeg(tiff: ExifFixture.camera().tiff())
        cut = Array(cut.prefix(40))
        #expect(throws: MetadataError.self) { try ExifFixture.read(cut) }  // no SOF: not a readable image
        // eXIf chunk with a length past the end, and an empty one.
        var png = ExifFixture.png(tiff: [])
        let metadata = try ExifFixture.read(png)
        #expect(metadata.exifError != nil && metadata.make == nil)
        png = ExifFixture.png(tiff: ExifFixture.camera().tiff())
        png.replaceSubrange(33..<37, with: [0x3F, 0xFF, 0xFF, 0xFF])
        let huge = try ExifFixture.read(png)
        #expect(huge.exifError?.contains("eXIf") == true && huge.make == nil)
        // A block that is not TIFF.
        let garbage = try ExifFixture.read(ExifFixture.jpeg(tiff: Array("XX garbage that is not TIFF".utf8)))
        #expect(garbage.exifError != nil)
    }

    /// EXIF that is there but cannot be read says why, in every container (until session 31 an IFD0 offset outside
    /// the block, in a JPEG, PNG or WebP, and a WebP EXIF chunk running past the end gave `exif_error` null, as if
    /// the picture had no EXIF); the picture is still read.
    @Test(arguments: [true, false])
    func exifThatCannotBeReadSaysWhy(bigEndian: Bool) throws {
        let fixture = ExifFixture.camera(bigEndian: bigEndian)
        var tiff = fixture.tiff()
        for offset: UInt32 in [0xFFFF_FFFF, UInt32(tiff.count - 1)] {
            tiff.replaceSubrange(4..<8, with: fixture.bytes32(offset))
            for bytes in [ExifFixture.jpeg(tiff: tiff), ExifFixture.png(tiff: tiff), ExifFixture.webp(exif: tiff)] {
                let metadata = try ExifFixture.read(bytes)
                #expect(metadata.width != nil && metadata.make == nil)
                #expect(metadata.exifError == "IFD0 offset \(offset) is outside the EXIF block of \(tiff.count) bytes")
            }
        }
        let good = fixture.tiff()
        #expect(try ExifFixture.read(ExifFixture.webp(exif: good)).make == "FixtureCam")
        let cut = try ExifFixture.read(ExifFixture.webp(exif: good, exifLength: 0x7FFF_FFF0))
        #expect(cut.width == 24 && cut.make == nil)
        #expect(cut.exifError == "EXIF chunk of 2147483632 bytes runs past the end of the file")
        // Read from disk, head first: the head of a longer file reads on to the end before calling the chunk cut.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("meta-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var long = ExifFixture.webp(exif: good + [UInt8](repeating: 0, count: 40_000))
        let whole = try long.withUnsafeBytes { try #require(RIFFChunks.find("EXIF", in: $0)) }
        long.replaceSubrange(whole.lowerBound - 4..<whole.lowerBound, with: [0xF0, 0xFF, 0, 0])  // 65,520 bytes
        let url = folder.appendingPathComponent("cut.webp")
        try Data(long).write(to: url)
        let head = try MetadataReader.read(fileAt: url.path, hash: false, includeRaw: false)
        #expect(head.exifError == "EXIF chunk of 65520 bytes runs past the end of the file")
    }

    @Test func strayBytesBeforeAMarkerAreSkipped() throws {
        // SOI, APP0 (JFIF), one stray 0x0A, then the Exif APP1: libjpeg and exiftool skip the byte, and so do we.
        let app0: [UInt8] = [0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]
        var bytes = ExifFixture.jpeg(tiff: ExifFixture.camera().tiff(), width: 99, height: 77)
        bytes.insert(contentsOf: app0 + [0x0A], at: 2)
        let metadata = try ExifFixture.read(bytes)
        #expect(metadata.make == "FixtureCam" && metadata.width == 99 && metadata.exifError == nil)
        // Stray bytes, then 300 KiB of APP2 before the EXIF: the head read still grows until it finds the block.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("meta-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var padding: [UInt8] = [0x0A, 0x00, 0x0D]
        for _ in 0..<5 { padding += [0xFF, 0xE2, 0xFF, 0xFF] + [UInt8](repeating: 0x41, count: 0xFFFD) + [0x20] }
        bytes.insert(contentsOf: padding, at: 2 + app0.count + 1)
        let url = folder.appendingPathComponent("stray.jpg")
        try Data(bytes).write(to: url)
        let head = try MetadataReader.read(fileAt: url.path, hash: false, includeRaw: false)
        #expect(head.make == "FixtureCam" && head.width == 99 && head.height == 77)
    }

    @Test func randomGarbageNeverCrashes() throws {
        var generator = SystemRandomNumberGenerator()
        let good = ExifFixture.camera(latitude: ("S", [(1, 1), (2, 1), (3, 1)]), longitude: ("W", [(4, 1)])).tiff()
        for _ in 0..<300 {
            var block = good
            for _ in 0..<8 {
                let index = Int.random(in: 0..<block.count, using: &generator)
                block[index] = UInt8.random(in: 0...255, using: &generator)
            }
            let metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: block), raw: true)
            #expect(metadata.width == 64)
            _ = metadata.jsonLine()
        }
    }

    /// A block libexif reads (under 64 KiB) whose 2,000 IFD0 entries all point at the same 30 KB string keeps no
    /// more than 1 MiB of values between them, and `exif_error` names the limit: until session 35 libexif copied
    /// the string for each entry, some 60 MB of raw tags (about 90 MB for the worst 64 KiB block), all of it stored.
    @Test(arguments: ["JPEG APP1", "PNG eXIf"])
    func entriesSharingOneValueCannotMultiplyTheBlock(container: String) throws {
        let fixture = ExifFixture()
        let count = 2_000
        let valueLength = 30_000
        let value = 8 + 2 + 12 * count + 4
        var tiff: [UInt8] = [0x4D, 0x4D, 0x00, 0x2A] + fixture.bytes32(8) + fixture.bytes16(UInt16(count))
        for index in 0..<count {
            // ASCII, so each value is kept as text in the raw tags (an UNDEFINED one is a placeholder there).
            tiff +=
                fixture.bytes16(UInt16(0x1000 + index)) + fixture.bytes16(2) + fixture.bytes32(UInt32(valueLength))
                + fixture.bytes32(UInt32(value))
        }
        tiff += fixture.bytes32(0)
        tiff += [UInt8](repeating: 0x62, count: valueLength - 1) + [0]
        #expect(tiff.count < 65_528)  // libexif's whole block
        let file = container == "PNG eXIf" ? ExifFixture.png(tiff: tiff) : ExifFixture.jpeg(tiff: tiff)
        let metadata = try ExifFixture.read(file)
        let tags = metadata.exif?.tags ?? []
        let kept = tags.reduce(0) { total, tag in
            guard case .text(let text) = tag.value else { return total }
            return total + text.utf8.count
        }
        // 34 values of 29,999 bytes of text (30,000 with the NUL) fit in 1 MiB: the 35th, tag 0x1022, is the first
        // not read; the rest are refused too.
        #expect(tags.count == 34 && tags.allSatisfy { $0.value == .text(String(repeating: "b", count: 29_999)) })
        #expect(kept <= 1_048_576)
        #expect(metadata.jsonLine().utf8.count < 1_048_576 + 4_096)
        #expect(
            metadata.exifError
                == "Tag 0x1022 is not read: the values read add up to more than the 1048576 bytes picpipe keeps "
                + "(entries that share their bytes) (and \(count - 35) more problems)")
        #expect(metadata.width != nil && metadata.make == nil)
    }

    @Test(.enabled(if: CorpusLocation.hasManifest, "../shared/corpus is absent"))
    func corpusHostileFilesNeverCrash() throws {
        let fileManager = FileManager.default
        var paths: [String] = []
        for folder in ["bad", "jpeg-odd", "png-odd"] {
            let url = CorpusLocation.root.appendingPathComponent(folder)
            for name in try fileManager.contentsOfDirectory(atPath: url.path).sorted() {
                paths.append(url.appendingPathComponent(name).path)
            }
        }
        #expect(paths.count > 100)
        var read = 0
        for path in paths {
            for includeRaw in [false, true] {
                do {
                    let metadata = try MetadataReader.read(fileAt: path, hash: true, includeRaw: includeRaw)
                    _ = metadata.jsonLine()
                    read += 1
                } catch is MetadataError {
                    // Not a JPEG/PNG with a readable header: reported, never a crash.
                }
            }
        }
        #expect(read > 0)
        // The malformed-EXIF corpus files are still processed, with exif_error where libexif objected.
        for (name, hasError) in [
            ("jpeg-odd/exif-malformed-exifpy-01137.jpg", false), ("jpeg-odd/exif-malformed-exifpy-01551.jpg", false),
            ("jpeg-odd/exif-bad-ifd-offset.jpg", true), ("jpeg-odd/exif-invalid-pillow.jpg", true),
            ("jpeg-odd/exif-bad-hopper.jpg", true),
            // Sound Canon files whose maker note libexif objects to ("Too much tags"): picpipe reads no maker note.
            ("jpeg-exif/canon-powershot-s330.jpg", false), ("jpeg-exif/canon-eos-rebel-t3i.jpg", false),
        ] {
            let metadata = try MetadataReader.read(
                fileAt: CorpusLocation.root.appendingPathComponent(name).path, hash: false, includeRaw: true)
            #expect((metadata.exifError != nil) == hasError, "\(name): \(metadata.exifError ?? "no exif_error")")
        }
    }
}
