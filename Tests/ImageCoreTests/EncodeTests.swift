// Encoding: PNG is lossless, JPEG flattens alpha on the background and carries no EXIF.

import Testing

@testable import ImageCore

struct EncodeTests {
    @Test func pngRoundTripsExactly() throws {
        let opaque = TestPictures.photo(width: 37, height: 23)
        #expect(try TestPictures.decode(try ImageEncoder.encode(opaque, format: .png)).pixels == opaque)
        var bytes = [UInt8]()
        for index in 0..<(17 * 5) { bytes += [UInt8(index), UInt8(255 - index), 7, UInt8(index * 3 % 256)] }
        let translucent = PixelBuffer(width: 17, height: 5, channels: 4, bytes: bytes)
        #expect(try TestPictures.decode(try ImageEncoder.encode(translucent, format: .png)).pixels == translucent)
    }

    @Test(arguments: [RGBColor.white, RGBColor(red: 0, green: 128, blue: 255)])
    func jpegFlattensAlphaOnTheBackground(background: RGBColor) throws {
        // Left half transparent, right half half-transparent red.
        var bytes = [UInt8]()
        for _ in 0..<32 {
            for x in 0..<64 { bytes += x < 32 ? [0, 255, 0, 0] : [255, 0, 0, 128] }
        }
        let picture = PixelBuffer(width: 64, height: 32, channels: 4, bytes: bytes)
        let file = try ImageEncoder.encode(picture, format: .jpeg, quality: 95, background: background)
        let decoded = try TestPictures.decode(file).pixels
        #expect(decoded.channels == 3)
        let back = [background.red, background.green, background.blue]
        #expect(TestPictures.close(decoded.pixel(x: 8, y: 16), back, tolerance: 6))
        let red: Int = 255 * 128 + Int(back[0]) * 127
        let sums: [Int] = [red, Int(back[1]) * 127, Int(back[2]) * 127]
        let blended: [UInt8] = sums.map { UInt8(($0 + 127) / 255) }
        #expect(TestPictures.close(decoded.pixel(x: 48, y: 16), blended, tolerance: 6))
    }

    @Test func thumbnailsCarryNoEXIF() throws {
        let source = TestPictures.jpeg(
            try ImageEncoder.encode(TestPictures.photo(width: 120, height: 80), format: .jpeg),
            withEXIF: TestPictures.tiff(orientation: 3, bigEndian: true))
        let render = try TestPictures.render(
            source, [ThumbnailSpec(width: 60, height: 60), ThumbnailSpec(width: 60, height: 60, progressive: true)])
        for thumbnail in render.thumbnails {
            let bytes = thumbnail.bytes
            let hasAPP1 = (0..<(bytes.count - 1)).contains { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xE1 }
            #expect(!hasAPP1)
            #expect(try TestPictures.header(bytes).orientation == 1)
        }
    }

    @Test func progressiveOutputIsProgressive() throws {
        let file = try ImageEncoder.encode(TestPictures.photo(width: 64, height: 64), format: .jpeg, progressive: true)
        let hasSOF2 = (0..<(file.count - 1)).contains { file[$0] == 0xFF && file[$0 + 1] == 0xC2 }
        #expect(hasSOF2)
    }

    @Test func invalidRequestsThrow() {
        let picture = TestPictures.photo(width: 4, height: 4)
        #expect(throws: ImageError.self) { try ImageEncoder.encode(picture, format: .jpeg, quality: 0) }
        #expect(throws: ImageError.self) {
            try TestPictures.render([0xFF, 0xD8, 0xFF], [ThumbnailSpec(width: 0, height: 10)])
        }
    }

    @Test func colourHex() {
        #expect(RGBColor(hex: "#FF8000") == RGBColor(red: 255, green: 128, blue: 0))
        #expect(RGBColor(hex: "ffffff") == .white)
        #expect(RGBColor(hex: "fff") == nil && RGBColor(hex: "gggggg") == nil)
        #expect(RGBColor(red: 1, green: 2, blue: 171).hex == "0102ab")
    }
}

/// AVIF subsamples chroma: the colour under a fully transparent pixel is averaged into its visible neighbours.
/// Until session 31 that colour was the black the premultiplied resize leaves, and red next to transparency came
/// out dark red (166, 38, 39): stripes of red (opaque, and half transparent at their edges) beside transparent black.
struct TransparentColourTests {
    static func stripes() -> PixelBuffer {
        var bytes = [UInt8]()
        for _ in 0..<48 {
            for x in 0..<64 {
                switch x % 10 {
                case 0, 6: bytes += [255, 0, 0, 128]
                case 1...5: bytes += [255, 0, 0, 255]
                default: bytes += [0, 0, 0, 0]
                }
            }
        }
        return PixelBuffer(width: 64, height: 48, channels: 4, bytes: bytes)
    }

    @Test func avifKeepsVisibleColourBesideTransparency() throws {
        let source = Self.stripes()
        let decoded = try TestPictures.decode(try ImageEncoder.encode(source, format: .avif, quality: 80, speed: 8))
        let pixels = decoded.pixels
        #expect(pixels.channels == 4 && pixels.width == 64 && pixels.height == 48)
        var worst = 0
        for index in stride(from: 0, to: source.bytes.count, by: 4) where source.bytes[index + 3] != 0 {
            for channel in 0..<3 {
                worst = max(worst, abs(Int(pixels.bytes[index + channel]) - Int(source.bytes[index + channel])))
            }
        }
        #expect(worst <= 24, "the largest colour error of a visible pixel is \(worst)")
    }

    @Test func onlyFullyTransparentPixelsChange() {
        var source = Self.stripes()
        // A fully transparent row, and a row whose only visible pixel is its last.
        let row = 64 * 4
        source.bytes.replaceSubrange((row * 10)..<(row * 12 - 4), with: [UInt8](repeating: 0, count: row * 2 - 4))
        source.bytes.replaceSubrange((row * 12 - 4)..<(row * 12), with: [0, 0, 255, 9])
        let filled = source.withVisibleColourUnderTransparency()
        for index in stride(from: 0, to: source.bytes.count, by: 4) {
            #expect(filled.bytes[index + 3] == source.bytes[index + 3])
            if source.bytes[index + 3] != 0 {
                #expect(Array(filled.bytes[index..<index + 4]) == Array(source.bytes[index..<index + 4]))
            }
        }
        // Stripes: the transparent columns take the nearer side's red; the empty row takes the row above; the
        // row with one blue pixel is blue throughout.
        #expect(Array(filled.bytes[(7 * 4)..<(7 * 4 + 3)]) == [255, 0, 0])
        #expect(Array(filled.bytes[(row * 10 + 8 * 4)..<(row * 10 + 8 * 4 + 3)]) == [255, 0, 0])
        #expect(Array(filled.bytes[(row * 11)..<(row * 11 + 3)]) == [0, 0, 255])
    }
}
