// EXIF orientation 1-8: parsed from JPEG APP1 and PNG eXIf (both byte orders) and applied pixel by pixel.

import ImageCore
import Testing

struct OrientationTests {
    /// Where each stored quadrant (TL, TR, BL, BR) is displayed, from the EXIF definition of the tag
    /// ("the 0th row is the visual ..., the 0th column is the visual ..."). Quadrant indices: 0 TL, 1 TR, 2 BL, 3 BR.
    static let displayedQuadrant: [Int: [Int]] = [
        1: [0, 1, 2, 3],
        2: [1, 0, 3, 2],  // mirrored horizontally
        3: [3, 2, 1, 0],  // rotated 180
        4: [2, 3, 0, 1],  // mirrored vertically
        5: [0, 2, 1, 3],  // transposed
        6: [1, 3, 0, 2],  // rotated 90 clockwise
        7: [3, 1, 2, 0],  // transversed
        8: [2, 0, 3, 1],  // rotated 90 counter-clockwise
    ]

    /// Checks the centre of each displayed quadrant against the stored quadrant that should land there.
    static func expectUpright(
        _ picture: PixelBuffer, storedWidth: Int, storedHeight: Int, orientation: Int, tolerance: Int
    ) {
        let swaps = orientation >= 5
        #expect(picture.width == (swaps ? storedHeight : storedWidth))
        #expect(picture.height == (swaps ? storedWidth : storedHeight))
        guard let mapping = displayedQuadrant[orientation] else { return }
        for stored in 0..<4 {
            let shown = mapping[stored]
            let x = shown % 2 == 0 ? picture.width / 4 : picture.width * 3 / 4
            let y = shown < 2 ? picture.height / 4 : picture.height * 3 / 4
            let expected = TestPictures.quadrantColours[stored]
            let actual = Array(picture.pixel(x: x, y: y).prefix(3))
            #expect(
                TestPictures.close(actual[...], expected, tolerance: tolerance),
                "orientation \(orientation): displayed quadrant \(shown) is \(actual), expected \(expected)")
        }
    }

    @Test(arguments: 1...8)
    func orientedMovesEveryQuadrant(orientation: Int) {
        let stored = TestPictures.quadrants(width: 24, height: 16)
        Self.expectUpright(
            stored.oriented(orientation), storedWidth: 24, storedHeight: 16, orientation: orientation, tolerance: 0)
    }

    @Test(arguments: 1...8, [false, true])
    func pngEXIfChunkIsApplied(orientation: Int, bigEndian: Bool) throws {
        let stored = TestPictures.quadrants(width: 40, height: 24)
        let plain = try ImageEncoder.encode(stored, format: .png)
        let file = TestPictures.png(
            plain, inserting: "eXIf", data: TestPictures.tiff(orientation: orientation, bigEndian: bigEndian))
        #expect(try TestPictures.header(file).orientation == orientation)
        let render = try TestPictures.render(file, [ThumbnailSpec(width: 100, height: 100, format: .png)])
        let thumbnail = try #require(render.thumbnails.first)
        let upright = try TestPictures.decode(thumbnail.bytes).pixels
        Self.expectUpright(upright, storedWidth: 40, storedHeight: 24, orientation: orientation, tolerance: 0)
    }

    /// Some writers put JPEG's "Exif\0\0" header before the TIFF structure in an eXIf chunk; the metadata service
    /// skips it (as exiftool does), and until session 32 the thumbnail did not, so the picture stayed unturned.
    @Test(arguments: [3, 6, 8])
    func pngEXIfChunkWithAnExifHeaderIsApplied(orientation: Int) throws {
        let stored = TestPictures.quadrants(width: 40, height: 24)
        let plain = try ImageEncoder.encode(stored, format: .png)
        let header: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]  // "Exif\0\0"
        let file = TestPictures.png(
            plain, inserting: "eXIf", data: header + TestPictures.tiff(orientation: orientation, bigEndian: false))
        #expect(try TestPictures.header(file).orientation == orientation)
        let render = try TestPictures.render(file, [ThumbnailSpec(width: 100, height: 100, format: .png)])
        let upright = try TestPictures.decode(try #require(render.thumbnails.first).bytes).pixels
        Self.expectUpright(upright, storedWidth: 40, storedHeight: 24, orientation: orientation, tolerance: 0)
    }

    @Test(arguments: 1...8, [false, true])
    func jpegAPP1IsApplied(orientation: Int, bigEndian: Bool) throws {
        let stored = TestPictures.quadrants(width: 64, height: 32)
        let plain = try ImageEncoder.encode(stored, format: .jpeg, quality: 95)
        let file = TestPictures.jpeg(plain, withEXIF: TestPictures.tiff(orientation: orientation, bigEndian: bigEndian))
        #expect(try TestPictures.header(file).orientation == orientation)
        let render = try TestPictures.render(file, [ThumbnailSpec(width: 200, height: 200, quality: 95)])
        let thumbnail = try #require(render.thumbnails.first)
        let upright = try TestPictures.decode(thumbnail.bytes).pixels
        Self.expectUpright(upright, storedWidth: 64, storedHeight: 32, orientation: orientation, tolerance: 40)
    }

    /// A HEIF turned by its container (`irot` a quarter anticlockwise per step, `imir` axis 0 top to bottom, 1 left
    /// to right, in the order `ipma` lists them): the header's `containerOrientation` is the EXIF orientation that
    /// shows the stored picture as libheif decodes it, checked pixel by pixel on the thumbnail. Until session 30
    /// the metadata had none for it, so a client laid out an irot-turned AVIF with the stored aspect ratio.
    @Test(arguments: [
        ("irot 0", 1), ("irot 1", 8), ("irot 2", 3), ("irot 3", 6), ("imir 0", 4), ("imir 1", 2),
        ("irot 1, imir 0", 5), ("irot 1, imir 1", 7), ("irot 2, imir 0", 2), ("irot 2, imir 1", 4),
        ("irot 3, imir 0", 7), ("irot 3, imir 1", 5), ("imir 0, irot 1", 7), ("imir 1, irot 3", 7),
    ])
    func heifContainerTurnIsReportedAsItsEXIFOrientation(transforms: String, orientation: Int) throws {
        let stored = TestPictures.quadrants(width: 64, height: 32)
        let plain = try ImageEncoder.encode(stored, format: .avif, quality: 95, speed: 9)
        let boxes = transforms.split(separator: ", ").map { step in
            let parts = step.split(separator: " ")
            return HEIFAssembler.box(String(parts[0]), [UInt8(parts[1])!])
        }
        let file = HEIFAssembler.single(try HEIFAssembler.tile(from: plain), transforms: boxes)
        let header = try TestPictures.header(file)
        #expect(header.containerOrientation == orientation, "\(transforms)")
        #expect(header.orientation == 1 && (header.storedWidth, header.storedHeight) == (64, 32))
        let render = try TestPictures.render(file, [ThumbnailSpec(width: 200, height: 200, format: .png)])
        let upright = try TestPictures.decode(try #require(render.thumbnails.first).bytes).pixels
        Self.expectUpright(
            upright, storedWidth: 64, storedHeight: 32, orientation: header.containerOrientation ?? 0, tolerance: 40)
    }

    @Test func heifWithoutContainerTurnHasNoContainerOrientation() throws {
        let plain = try ImageEncoder.encode(TestPictures.quadrants(width: 64, height: 32), format: .avif, speed: 9)
        let file = HEIFAssembler.single(try HEIFAssembler.tile(from: plain), transforms: [])
        #expect(try TestPictures.header(file).containerOrientation == nil)
        #expect(try TestPictures.header(plain).containerOrientation == nil)
    }

    @Test func fitBoxAppliesToTheUprightPicture() throws {
        // Stored 400x200, orientation 6: upright it is 200x400, so a 100x100 box gives 50x100.
        let plain = try ImageEncoder.encode(TestPictures.quadrants(width: 400, height: 200), format: .jpeg)
        let file = TestPictures.jpeg(plain, withEXIF: TestPictures.tiff(orientation: 6, bigEndian: true))
        let render = try TestPictures.render(file, [ThumbnailSpec(width: 100, height: 100)])
        #expect(render.thumbnails.first?.width == 50)
        #expect(render.thumbnails.first?.height == 100)
    }

    @Test func invalidOrBrokenEXIFMeansUpright() throws {
        let plain = try ImageEncoder.encode(TestPictures.quadrants(width: 16, height: 16), format: .jpeg)
        for tiff in [
            TestPictures.tiff(orientation: 0, bigEndian: false), TestPictures.tiff(orientation: 9, bigEndian: true),
            Array(TestPictures.tiff(orientation: 6, bigEndian: false).prefix(12)),  // IFD cut short
            [0x49, 0x49, 0x2A, 0x00, 0xFF, 0xFF, 0xFF, 0x7F],  // IFD offset far past the end
        ] {
            #expect(try TestPictures.header(TestPictures.jpeg(plain, withEXIF: tiff)).orientation == 1)
        }
    }
}
