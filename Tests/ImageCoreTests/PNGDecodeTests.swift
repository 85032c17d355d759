// PNG kinds decode to 8-bit RGB(A): 16-bit, palette with tRNS, gray, gray+alpha, low bit depths, Adam7.

import ImageCore
import Testing

struct PNGDecodeTests {
    static let width = 11
    static let height = 9

    @Test func sixteenBitRGBKeepsTheHighByte() throws {
        var samples = [Int]()
        for y in 0..<Self.height {
            for x in 0..<Self.width { samples += [x * 6000 + 0xAB, y * 7000 + 0x12, 0xFFFF] }
        }
        let file = TestPictures.png(
            width: Self.width, height: Self.height, colorType: 2, bitDepth: 16, samples: samples)
        let pixels = try TestPictures.decode(file).pixels
        #expect(pixels.channels == 3)
        for (x, y) in [(0, 0), (5, 4), (10, 8)] {
            let expected = [UInt8((x * 6000 + 0xAB) * 255 / 65535), UInt8((y * 7000 + 0x12) * 255 / 65535), 255]
            #expect(TestPictures.close(pixels.pixel(x: x, y: y), expected, tolerance: 1))
        }
    }

    @Test func sixteenBitGrayAlpha() throws {
        var samples = [Int]()
        for y in 0..<Self.height {
            for x in 0..<Self.width { samples += [x * 6553, y * 8191] }
        }
        let file = TestPictures.png(
            width: Self.width, height: Self.height, colorType: 4, bitDepth: 16, samples: samples)
        let pixels = try TestPictures.decode(file).pixels
        #expect(pixels.channels == 4)
        let gray = UInt8(5 * 6553 * 255 / 65535)
        let alpha = UInt8(4 * 8191 * 255 / 65535)
        #expect(TestPictures.close(pixels.pixel(x: 5, y: 4), [gray, gray, gray, alpha], tolerance: 1))
    }

    @Test func eightBitGrayAlpha() throws {
        var samples = [Int]()
        for y in 0..<Self.height {
            for x in 0..<Self.width { samples += [x * 20, 255 - y * 20] }
        }
        let file = TestPictures.png(width: Self.width, height: Self.height, colorType: 4, bitDepth: 8, samples: samples)
        let pixels = try TestPictures.decode(file).pixels
        #expect(Array(pixels.pixel(x: 3, y: 2)) == [60, 60, 60, 215])
    }

    @Test(arguments: [1, 2, 4, 8])
    func paletteWithTransparency(bitDepth: Int) throws {
        let entries = min(1 << bitDepth, 4)
        let palette: [[UInt8]] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 8, 7]].prefix(entries).map { $0 }
        let alphas: [UInt8] = [0, 128, 255, 255].prefix(entries).map { $0 }
        var samples = [Int]()
        for y in 0..<Self.height {
            for x in 0..<Self.width { samples.append((x + y) % entries) }
        }
        let file = TestPictures.png(
            width: Self.width, height: Self.height, colorType: 3, bitDepth: UInt8(bitDepth), samples: samples,
            palette: palette, transparency: alphas)
        let pixels = try TestPictures.decode(file).pixels
        #expect(pixels.channels == 4)
        for (x, y) in [(0, 0), (1, 0), (2, 5), (10, 8)] {
            let index = (x + y) % entries
            let actual = Array(pixels.pixel(x: x, y: y))
            #expect(actual[3] == alphas[index])
            // libpng may zero the colour of a fully transparent entry.
            if alphas[index] > 0 { #expect(Array(actual[0..<3]) == palette[index]) }
        }
    }

    @Test func paletteWithoutTransparencyIsRGB() throws {
        let file = TestPictures.png(
            width: 2, height: 1, colorType: 3, bitDepth: 8, samples: [0, 1], palette: [[1, 2, 3], [4, 5, 6]])
        let pixels = try TestPictures.decode(file).pixels
        #expect(pixels.channels == 3 && pixels.bytes == [1, 2, 3, 4, 5, 6])
    }

    @Test func paletteIndexPastTheEndIsRefused() {
        let file = TestPictures.png(
            width: 2, height: 1, colorType: 3, bitDepth: 8, samples: [0, 7], palette: [[1, 2, 3], [4, 5, 6]])
        #expect(throws: ImageError.self) { try TestPictures.decode(file) }
    }

    @Test(arguments: [1, 2, 4, 8, 16])
    func grayBitDepths(bitDepth: Int) throws {
        let maximum = (1 << bitDepth) - 1
        let samples = (0..<(Self.width * Self.height)).map { $0 % 2 == 0 ? maximum : 0 }
        let file = TestPictures.png(
            width: Self.width, height: Self.height, colorType: 0, bitDepth: UInt8(bitDepth), samples: samples)
        let pixels = try TestPictures.decode(file).pixels
        #expect(Array(pixels.pixel(x: 0, y: 0)) == [255, 255, 255])
        #expect(Array(pixels.pixel(x: 1, y: 0)) == [0, 0, 0])
    }

    @Test(arguments: [
        (2, 8, 3), (6, 8, 4), (6, 16, 4), (2, 16, 3), (4, 16, 2), (0, 16, 1), (3, 4, 1), (0, 1, 1), (4, 8, 2),
    ])
    func adam7MatchesTheSamePictureNonInterlaced(colorType: Int, bitDepth: Int, perPixel: Int) throws {
        let (width, height) = (13, 11)
        let maximum = (1 << bitDepth) - 1
        var samples = [Int]()
        for y in 0..<height {
            for x in 0..<width {
                for s in 0..<perPixel { samples.append((x * 37 + y * 11 + s * 5) * 1009 % (maximum + 1)) }
            }
        }
        let palette: [[UInt8]] = colorType == 3 ? (0..<16).map { [UInt8($0 * 16), UInt8(255 - $0 * 16), 7] } : []
        let plain = TestPictures.png(
            width: width, height: height, colorType: UInt8(colorType), bitDepth: UInt8(bitDepth), samples: samples,
            palette: palette)
        let interlaced = TestPictures.png(
            width: width, height: height, colorType: UInt8(colorType), bitDepth: UInt8(bitDepth), samples: samples,
            palette: palette, interlaced: true)
        let a = try TestPictures.decode(interlaced).pixels
        let b = try TestPictures.decode(plain).pixels
        #expect(a.width == b.width && a.height == b.height && a.channels == b.channels)
        // 16-bit interlaced files take a different libpng path (see PNGDecoder): allow rounding differences.
        let tolerance = bitDepth == 16 ? 2 : 0
        let differing = zip(a.bytes, b.bytes).enumerated().filter {
            abs(Int($0.element.0) - Int($0.element.1)) > tolerance
        }
        .prefix(5)
        #expect(differing.isEmpty, "first differences (index, interlaced, plain): \(Array(differing))")
    }

    @Test func truncatedFileIsRefused() throws {
        let file = try ImageEncoder.encode(TestPictures.photo(width: 64, height: 64), format: .png)
        for length in [file.count - 1, file.count - 12, file.count / 2, 40] {
            #expect(throws: ImageError.self) { try TestPictures.decode(Array(file.prefix(length))) }
        }
    }
}
