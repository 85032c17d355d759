// HEICs whose primary picture is derived: a grid of tiles (every iPhone HEIC) and an overlay. picpipe must decode
// them as libheif's heif-convert does, and refuse one whose descriptor declares a canvas its `ispe` does not
// (libheif 1.15 allocates what the descriptor says: the fuzzer's 1.26 GB overlay, the 768 MB grid).
import Foundation
@testable import ImageCore
import Testing

@Suite struct HEIFDerivedImageTests {
    /// Four solid tiles, 64 x 64, encoded by heif-enc: red, green, blue, white.
    static let colours: [[UInt8]] = [[220, 30, 30], [30, 200, 40], [30, 40, 210], [250, 250, 250]]

    private static func tiles(in work: URL) throws -> [HEIFAssembler.Tile] {
        try colours.enumerated().map { index, colour in
            let png = work.appendingPathComponent("tile\(index).png")
            try ReferenceTools.writePNG(PixelBuffer(width: 64, height: 64, filledWith: colour), to: png)
            let heic = work.appendingPathComponent("tile\(index).heic")
            try ReferenceTools.run("heif-enc", ["-q", "90", png.path, "-o", heic.path])
            return try HEIFAssembler.tile(from: ReferenceTools.bytes(heic))
        }
    }

    /// The RGB of the pixel at (x, y).
    private static func pixel(_ picture: PixelBuffer, _ x: Int, _ y: Int) -> [Int] {
        let start = (y * picture.width + x) * picture.channels
        return picture.bytes[start..<(start + 3)].map(Int.init)
    }

    private static func near(_ a: [Int], _ b: [UInt8]) -> Bool {
        zip(a, b).allSatisfy { abs($0 - Int($1)) <= 16 }
    }

    /// picpipe's decode of `file` against heif-convert's.
    private static func compareWithHeifConvert(_ file: [UInt8], in work: URL, name: String) throws -> PixelBuffer {
        let url = work.appendingPathComponent("\(name).heic")
        try Data(file).write(to: url)
        let reference = work.appendingPathComponent("\(name).png")
        try ReferenceTools.run("heif-convert", [url.path, reference.path])
        let ours = try ReferenceTools.decode(file).pixels
        let theirs = ReferenceTools.rgb(try ReferenceTools.decodePNG(reference))
        let psnr = ReferenceTools.psnr(ReferenceTools.rgb(ours), theirs)
        #expect(psnr >= FormatReferenceTests.minimumPSNR, "\(name): \(psnr) dB against heif-convert")
        return ours
    }

    /// 2 x 2 tiles of 64 pixels cropped to 128 x 112, as a phone crops 512-pixel tiles to 4032 x 3024.
    @Test func aGridOfTilesDecodesLikeHeifConvertWithEachTileInItsPlace() throws {
        guard ReferenceTools.available("heif-enc", "heif-convert") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let file = HEIFAssembler.grid(try Self.tiles(in: work), columns: 2, output: (128, 112))
        let header = try file.withUnsafeBytes { try ImageHeader.read(from: $0) }
        #expect(header.format == .heic && header.width == 128 && header.height == 112)
        let picture = try Self.compareWithHeifConvert(file, in: work, name: "grid")
        #expect(picture.width == 128 && picture.height == 112)
        for (index, colour) in Self.colours.enumerated() {
            let centre = Self.pixel(picture, 32 + 64 * (index % 2), 24 + 64 * (index / 2))
            #expect(Self.near(centre, colour), "tile \(index): \(centre), encoded \(colour)")
        }
        // The thumbnail path (shrink, resize, encode) takes it too.
        let spec = ThumbnailSpec(width: 64, height: 64)
        let thumbnail = try #require(try TestPictures.render(file, [spec]).thumbnails.first)
        #expect(thumbnail.width == 64 && thumbnail.height == 56)
    }

    @Test func anOverlayDecodesLikeHeifConvertWithItsFillAroundThePictures() throws {
        guard ReferenceTools.available("heif-enc", "heif-convert") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let tiles = try Self.tiles(in: work)
        // Red at the top left, blue at the bottom right of a 160 x 144 canvas filled with yellow.
        let file = HEIFAssembler.overlay(
            [tiles[0], tiles[2]], at: [(0, 0), (96, 80)], canvas: (160, 144), fill: [0xFFFF, 0xFFFF, 0, 0xFFFF])
        let picture = try Self.compareWithHeifConvert(file, in: work, name: "overlay")
        #expect(picture.width == 160 && picture.height == 144)
        #expect(Self.near(Self.pixel(picture, 32, 32), Self.colours[0]))
        #expect(Self.near(Self.pixel(picture, 128, 112), Self.colours[2]))
        #expect(Self.near(Self.pixel(picture, 140, 10), [255, 255, 0]), "fill: \(Self.pixel(picture, 140, 10))")
    }

    /// The size libheif would allocate is the descriptor's; the pixel limit saw only `ispe`'s. Both kinds refused
    /// before libheif decodes, with the reason.
    @Test func aDescriptorThatDeclaresALargerCanvasThanItsIspeIsRefused() throws {
        guard ReferenceTools.available("heif-enc") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let tiles = try Self.tiles(in: work)
        let grid = HEIFAssembler.grid(tiles, columns: 2, declared: (20_000, 15_000))
        let overlay = HEIFAssembler.overlay(
            [tiles[0]], at: [(0, 0)], canvas: (64, 64), fill: [0, 0, 0, 0xFFFF], declared: (20_000, 15_000))
        for (file, kind) in [(grid, "a grid"), (overlay, "an overlay")] {
            #expect {
                _ = try ReferenceTools.decode(file)
            } throws: { error in
                "\(error)".contains("\(kind) declares another size than its 'ispe' property")
            }
        }
        // The same files with the declared size right decode (the refusal is about the size, nothing else).
        _ = try ReferenceTools.decode(HEIFAssembler.grid(tiles, columns: 2))
    }

    /// 60,000 grid items of 17 x 17 whose descriptors all say 17 x 17, but for the last one's. The check walks
    /// `iinf`, `iloc` and `ipma` once each: its first version looked each item up from the start of `iloc` and
    /// `ipma`, and on this 2.4 MB file ran for over two minutes (debug build) before libheif saw it.
    @Test func aFileOfManyGridItemsIsCheckedInOneWalk() throws {
        typealias A = HEIFAssembler
        let count = 60_000
        func file(lastDeclares last: Int) -> [UInt8] {
            var infos = A.be(count, 2)
            var locations = A.be(count, 2)
            var associations = A.be(count, 4)
            for id in 1...count {
                infos += A.fullBox("infe", A.be(id, 2) + A.be(0, 2) + Array("grid".utf8) + [0], version: 2)
                // Item `count`'s descriptor is the second one in `idat`.
                locations += A.be(id, 2) + A.be(1, 2) + A.be(0, 2) + A.be(1, 2) + A.be(id == count ? 8 : 0, 4)
                locations += A.be(8, 4)
                associations += A.be(id, 2) + [1, 0x81]
            }
            let descriptors = [0, 0, 0, 0] + A.be(17, 2) + A.be(17, 2) + [0, 0, 0, 0] + A.be(last, 2) + A.be(17, 2)
            let meta = A.fullBox(
                "meta",
                A.fullBox("hdlr", A.be(0, 4) + Array("pict".utf8) + [UInt8](repeating: 0, count: 13))
                    + A.fullBox("pitm", A.be(1, 2)) + A.fullBox("iloc", [0x44, 0] + locations, version: 1)
                    + A.fullBox("iinf", infos)
                    + A.box("iprp", A.box("ipco", A.fullBox("ispe", A.be(17, 4) + A.be(17, 4)))
                        + A.fullBox("ipma", associations))
                    + A.box("idat", descriptors))
            return A.box("ftyp", Array("heic".utf8) + A.be(0, 4) + Array("mif1heic".utf8)) + meta + A.box("mdat", [])
        }
        #expect(file(lastDeclares: 17).withUnsafeBytes { HEIFCanvasSize.mismatch(in: $0) } == nil)
        #expect(file(lastDeclares: 30_000).withUnsafeBytes { HEIFCanvasSize.mismatch(in: $0) } == .grid)
    }
}

/// The decoders size their pictures by the coded stream (HEVC's SPS, AV1's sequence header), not by `ispe`: the
/// pixel limit must hold for that size, before libheif decodes.
@Suite struct HEIFCodedSizeTests {
    /// A 1024 x 1024 file made by the reference encoder, and the same bytes with `ispe` saying 32 x 32.
    private static func files(_ tool: String, _ name: String, _ arguments: [String]) throws
        -> (real: [UInt8], lying: [UInt8])
    {
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let png = work.appendingPathComponent("large.png")
        try ReferenceTools.writePNG(PixelBuffer(width: 1024, height: 1024, filledWith: [40, 120, 200]), to: png)
        let output = work.appendingPathComponent(name)
        try ReferenceTools.run(tool, arguments.map { $0 == "IN" ? png.path : $0 == "OUT" ? output.path : $0 })
        let real = try ReferenceTools.bytes(output)
        var lying = real
        let ispe = Array("ispe".utf8)
        let at = try #require((0...(lying.count - 16)).first { Array(lying[$0..<($0 + 4)]) == ispe })
        lying.replaceSubrange((at + 8)..<(at + 16), with: [0, 0, 0, 32, 0, 0, 0, 32])
        return (real, lying)
    }

    @Test(arguments: [
        ("heif-enc", "large.heic", ["-q", "30", "IN", "-o", "OUT"]),
        ("avifenc", "large.avif", ["-s", "10", "IN", "OUT"]),
    ])
    func aCodedPictureLargerThanIspeMeetsThePixelLimitBeforeDecoding(tool: String, name: String, arguments: [String])
        throws
    {
        guard ReferenceTools.available(tool) else { return }
        let (real, lying) = try Self.files(tool, name, arguments)
        for file in [real, lying] {
            let coded = try #require(file.withUnsafeBytes { HEIFCodedSize.largest(in: $0) }, "\(name): no size read")
            #expect(coded.width == 1024 && coded.height == 1024, "\(name): \(coded)")
        }
        // The honest file decodes under the default limits; the lying one is refused by a limit its `ispe` passes.
        #expect(try ReferenceTools.decode(real).pixels.width == 1024)
        let limits = DecodeLimits(maxPixels: 500_000)
        #expect {
            _ = try ReferenceTools.decode(lying, limits: limits)
        } throws: { error in
            "\(error)".contains("1024x1024 = 1048576 pixels, over the limit of 500000")
        }
    }
}
