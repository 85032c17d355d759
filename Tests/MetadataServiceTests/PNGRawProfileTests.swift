// PNG EXIF in ImageMagick's raw profile text chunks (tEXt, zTXt, iTXt "Raw profile type exif" / "APP1"), read as
// exiftool reads them; eXIf wins over them; a zTXt bomb is refused after at most PNGRawProfile.largestText bytes.
import CDeflate
import Foundation
import ImageCore
import MetadataService
import Testing

struct PNGRawProfileTests {
    /// ImageMagick's layout: a newline, the profile name, the length right-aligned in 8 columns, then 72 hex digits
    /// a line.
    static func profileText(_ block: [UInt8], name: String = "exif", declared: Int? = nil) -> [UInt8] {
        let hex = block.map { String(format: "%02x", $0) }.joined()
        var lines: [String] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let end = hex.index(index, offsetBy: 72, limitedBy: hex.endIndex) ?? hex.endIndex
            lines.append(String(hex[index..<end]))
            index = end
        }
        let length = String(declared ?? block.count)
        let header = "\n\(name)\n" + String(repeating: " ", count: max(0, 8 - length.count)) + length + "\n"
        return Array((header + lines.joined(separator: "\n") + "\n").utf8)
    }

    static func zlib(_ bytes: [UInt8]) -> [UInt8] {
        guard let compressor = libdeflate_alloc_compressor(6) else { return [] }
        defer { libdeflate_free_compressor(compressor) }
        var out = [UInt8](repeating: 0, count: libdeflate_zlib_compress_bound(compressor, bytes.count))
        let written = bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in
                libdeflate_zlib_compress(compressor, input.baseAddress, input.count, output.baseAddress, output.count)
            }
        }
        return Array(out.prefix(written))
    }

    /// A text chunk holding `text` under `keyword`: tEXt, zTXt, iTXt compressed ("iTXt") or not ("iTXt-plain").
    static func chunk(_ kind: String, keyword: String = "Raw profile type exif", text: [UInt8]) -> (String, [UInt8]) {
        let name = Array(keyword.utf8) + [0]
        switch kind {
        case "zTXt": return ("zTXt", name + [0] + zlib(text))
        case "iTXt": return ("iTXt", name + [1, 0] + [0] + [0] + zlib(text))
        case "iTXt-plain": return ("iTXt", name + [0, 0] + Array("en".utf8) + [0] + Array("Raw".utf8) + [0] + text)
        default: return ("tEXt", name + text)
        }
    }

    static let tiff = ExifFixture.camera(
        latitude: ("S", [(33, 1), (51, 1), (2448, 100)]), longitude: ("E", [(151, 1), (12, 1), (5508, 100)])
    ).tiff()

    /// Every text chunk kind, both keywords, with and without the "Exif\0\0" header, before and after IDAT: the same
    /// fields and raw tags as the same block in an eXIf chunk. Until session 31 such a PNG had no EXIF at all.
    @Test(arguments: ["tEXt", "zTXt", "iTXt", "iTXt-plain"])
    func rawProfilesAreReadLikeAnEXIfChunk(kind: String) throws {
        let viaEXIf = try ExifFixture.read(ExifFixture.png(tiff: Self.tiff))
        #expect(viaEXIf.make == "FixtureCam" && viaEXIf.gpsLatitude != nil)
        for keyword in ["Raw profile type exif", "Raw profile type APP1"] {
            for block in [Array("Exif".utf8) + [0, 0] + Self.tiff, Self.tiff] {
                let text = Self.profileText(block, name: keyword.hasSuffix("APP1") ? "APP1" : "exif")
                let chunk = Self.chunk(kind, keyword: keyword, text: text)
                for png in [ExifFixture.png(tiff: nil, before: [chunk]), ExifFixture.png(tiff: nil, after: [chunk])] {
                    var metadata = try ExifFixture.read(png)
                    #expect(metadata.bytes == png.count)
                    metadata.bytes = viaEXIf.bytes
                    #expect(metadata == viaEXIf, "\(kind) \(keyword) \(block.count)")
                }
            }
        }
    }

    /// eXIf wins over a raw profile, before or after it (exiftool reads both in chunk order: the later one's value of
    /// a tag both hold wins, and an eXIf whose IFD0 is where the profile's was is refused as a directory read twice).
    @Test func eXIfWinsOverARawProfile() throws {
        var other = ExifFixture()
        other.ifd0 = [.ascii(0x010F, "ChunkCam")]
        let profile = Self.chunk("zTXt", text: Self.profileText(Array("Exif".utf8) + [0, 0] + Self.tiff))
        for png in [
            ExifFixture.png(tiff: other.tiff(), before: [profile]),
            ExifFixture.png(tiff: other.tiff(), after: [profile]),
        ] {
            let metadata = try ExifFixture.read(png)
            #expect(metadata.make == "ChunkCam" && metadata.gpsLatitude == nil && metadata.exifError == nil)
        }
        // Of two raw profiles, the first, even when it holds XMP: one inflation at most, whatever the file holds.
        var second = ExifFixture()
        second.ifd0 = [.ascii(0x010F, "SecondCam")]
        let png = ExifFixture.png(
            tiff: nil, before: [profile], after: [Self.chunk("tEXt", text: Self.profileText(second.tiff()))])
        #expect(try ExifFixture.read(png).make == "FixtureCam")
        let xmp = Array("http://ns.adobe.com/xap/1.0/".utf8) + [0] + Array("<x:xmpmeta/>".utf8)
        let xmpFirst = ExifFixture.png(
            tiff: nil, before: [Self.chunk("zTXt", keyword: "Raw profile type APP1", text: Self.profileText(xmp))],
            after: [profile])
        let metadata = try ExifFixture.read(xmpFirst)
        #expect(metadata.make == nil && metadata.exifError == nil)
    }

    /// The thumbnails are turned by a raw profile's Orientation as by an eXIf's (the header the thumbnail service
    /// reads agrees with `orientation`), and an eXIf's wins.
    @Test func theHeaderTakesTheRawProfilesOrientation() throws {
        let profile = Self.chunk("zTXt", text: Self.profileText(Self.tiff))
        func orientation(_ png: [UInt8]) throws -> Int {
            try png.withUnsafeBytes { try ImageHeader.read(from: $0) }.orientation
        }
        #expect(try orientation(ExifFixture.png(tiff: nil, before: [profile])) == 6)
        #expect(try orientation(ExifFixture.png(tiff: nil, after: [profile])) == 6)
        #expect(try ExifFixture.read(ExifFixture.png(tiff: nil, after: [profile])).orientation == 6)
        var upright = ExifFixture()
        upright.ifd0 = [upright.short(0x0112, [1])]
        #expect(try orientation(ExifFixture.png(tiff: upright.tiff(), after: [profile])) == 1)
        #expect(try orientation(ExifFixture.png(tiff: nil)) == 1)
    }

    /// A zTXt (or compressed iTXt) that inflates past PNGRawProfile.largestText is refused with a reason, after at
    /// most that many bytes: 16 MiB of text in 16 KiB of zlib.
    @Test(arguments: ["zTXt", "iTXt"])
    func aZTXtBombIsRefused(kind: String) throws {
        let text = Array("\nexif\n 8388608\n".utf8) + [UInt8](repeating: 0x30, count: 16 << 20)
        let chunk = Self.chunk(kind, text: text)
        #expect(chunk.1.count < 64 * 1024)
        let metadata = try ExifFixture.read(ExifFixture.png(tiff: nil, before: [chunk]))
        #expect(metadata.width == 32 && metadata.make == nil)
        #expect(
            metadata.exifError == "\(kind) chunk 'Raw profile type exif' inflates to more than 1048576 bytes (refused)")
    }

    /// A raw profile that cannot be read says why, as exiftool warns; one with the wrong declared length is read
    /// with exiftool's warning; an APP1 profile that holds XMP is not EXIF.
    @Test func damagedProfilesSayWhy() throws {
        let name = "'Raw profile type exif'"
        let good = Self.profileText(Self.tiff)
        var badHex = good
        badHex[badHex.count - 3] = UInt8(ascii: "g")
        let xmp = Array("http://ns.adobe.com/xap/1.0/".utf8) + [0] + Array("<x:xmpmeta/>".utf8)
        let cases: [((String, [UInt8]), String?)] = [
            (
                ("zTXt", Array("Raw profile type exif".utf8) + [0, 0, 0x78, 0x9C, 0xFF, 0xFF]),
                "zTXt chunk \(name) is not valid zlib data"
            ),
            (
                ("zTXt", Array("Raw profile type exif".utf8) + [0, 1] + Self.zlib(good)),
                "zTXt chunk \(name) uses compression method 1, not zlib"
            ),
            (Self.chunk("tEXt", text: badHex), "tEXt chunk \(name) holds a character that is not hex"),
            (
                Self.chunk("tEXt", text: Array("exif 12 abcd".utf8)),
                "tEXt chunk \(name) is not ImageMagick's raw profile (a newline, the profile name, the length, hex)"
            ),
            (
                Self.chunk("tEXt", text: Self.profileText(xmp)),
                "tEXt chunk \(name) holds neither an \"Exif\\0\\0\" header nor a TIFF header"
            ),
            (Self.chunk("tEXt", keyword: "Raw profile type APP1", text: Self.profileText(xmp, name: "APP1")), nil),
            (Self.chunk("tEXt", keyword: "Raw profile type xmp", text: good), nil),
        ]
        for (chunk, reason) in cases {
            let metadata = try ExifFixture.read(ExifFixture.png(tiff: nil, before: [chunk]))
            #expect(metadata.width == 32 && metadata.make == nil)
            #expect(metadata.exifError == reason, "\(reason ?? "nil")")
        }
        let wrongSize = try ExifFixture.read(
            ExifFixture.png(tiff: nil, before: [Self.chunk("zTXt", text: Self.profileText(Self.tiff, declared: 999))]))
        #expect(wrongSize.make == "FixtureCam")
        #expect(
            wrongSize.exifError
                == "zTXt chunk \(name) is wrong size (should be 999 bytes but is \(Self.tiff.count))")
        // A profile cut by the end of the file.
        let cut = ExifFixture.png(tiff: nil, after: [Self.chunk("zTXt", text: good)]).dropLast(12 + 20)
        let metadata = try ExifFixture.read(Array(cut))
        #expect(metadata.exifError?.hasPrefix("zTXt chunk of ") == true, "\(metadata.exifError ?? "nil")")
    }

    /// Read from disk, head first: a profile after 300 KiB of other chunks is found (the head grows to the whole
    /// file, as for any PNG without eXIf).
    @Test func aProfileFarIntoTheFileIsFound() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("meta-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let padding = ("tEXt", Array("Comment".utf8) + [0] + [UInt8](repeating: 0x61, count: 300 * 1024))
        let png = ExifFixture.png(
            tiff: nil, before: [padding], after: [Self.chunk("zTXt", text: Self.profileText(Self.tiff))])
        let url = folder.appendingPathComponent("far.png")
        try Data(png).write(to: url)
        let metadata = try MetadataReader.read(fileAt: url.path, hash: false, includeRaw: false)
        #expect(metadata.make == "FixtureCam" && metadata.exifError == nil)
    }
}
