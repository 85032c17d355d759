// The streaming PNG path (rows box-shrunk while libpng reads them) against the full decode of the same picture
// (an interlaced copy always takes the full path): same thumbnail within rounding, same refusals.

import ImageCore
import Testing

struct PNGStreamingTests {
    static let width = 300
    static let height = 200

    /// A smooth picture (gradients, a soft alpha ramp) as PNG samples; palette files cycle through 16 entries.
    static func samples(colorType: Int, bitDepth: Int) -> [Int] {
        let maximum = (1 << bitDepth) - 1
        let perPixel = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType] ?? 1
        var samples = [Int]()
        samples.reserveCapacity(width * height * perPixel)
        for y in 0..<height {
            for x in 0..<width {
                if colorType == 3 {
                    samples.append((x / 25 + y / 25) % 16)
                    continue
                }
                let values = [x * maximum / width, y * maximum / height, (x + y) * maximum / (width + height)]
                let alpha = maximum - x * maximum / (2 * width) - (y / 50) * maximum / 8
                switch colorType {
                case 0: samples.append(values[2])
                case 2: samples += values
                case 4: samples += [values[2], alpha]
                default: samples += values + [alpha]
                }
            }
        }
        return samples
    }

    static let palette: [[UInt8]] = (0..<16).map { (entry: Int) -> [UInt8] in
        [UInt8(entry * 16), UInt8(255 - entry * 16), UInt8(entry * 7)]
    }
    static let alphas: [UInt8] = (0..<16).map { (entry: Int) -> UInt8 in UInt8(entry * 17) }

    static func file(colorType: Int, bitDepth: Int, interlaced: Bool) -> [UInt8] {
        TestPictures.png(
            width: width, height: height, colorType: UInt8(colorType), bitDepth: UInt8(bitDepth),
            samples: samples(colorType: colorType, bitDepth: bitDepth), palette: colorType == 3 ? palette : [],
            transparency: colorType == 3 ? alphas : nil, interlaced: interlaced)
    }

    @Test(arguments: [(2, 8), (6, 8), (0, 8), (0, 4), (4, 8), (3, 8), (3, 4), (2, 16), (6, 16), (0, 16)])
    func streamedThumbnailMatchesTheFullDecode(colorType: Int, bitDepth: Int) throws {
        let spec = ThumbnailSpec(width: 48, height: 48, format: .png)
        let plain = Self.file(colorType: colorType, bitDepth: bitDepth, interlaced: false)
        let interlaced = Self.file(colorType: colorType, bitDepth: bitDepth, interlaced: true)
        let streamed = try TestPictures.render(plain, [spec])
        let full = try TestPictures.render(interlaced, [spec])
        #expect(streamed.shrink == 3 && full.shrink == 1)
        let a = try TestPictures.decode(#require(streamed.thumbnails.first).bytes).pixels
        let b = try TestPictures.decode(#require(full.thumbnails.first).bytes).pixels
        #expect(a.width == 48 && a.height == 32 && a.width == b.width && a.height == b.height)
        #expect(a.channels == b.channels)
        let difference = TestPictures.meanAbsoluteDifference(a, b)
        #expect(difference < 1.0, "mean absolute difference \(difference)")
    }

    @Test func decodeShrinksByTheLargestWholeBoxThatLeavesTwiceTheSize() throws {
        let file = Self.file(colorType: 2, bitDepth: 8, interlaced: false)
        let decoded = try TestPictures.decode(file, minimumSize: (width: 40, height: 27))
        #expect(decoded.shrink == 3)
        #expect(decoded.pixels.width == 100 && decoded.pixels.height == 67 && decoded.pixels.channels == 3)
        // The box average of a horizontal gradient: the centre of the box, rounded.
        let full = try TestPictures.decode(file)
        #expect(full.shrink == 1 && full.pixels.width == Self.width)
        let red = { (image: PixelBuffer, x: Int) in Int(image.bytes[x * image.channels]) }
        let expected = (red(full.pixels, 30) + red(full.pixels, 31) + red(full.pixels, 32) + 1) / 3
        #expect(abs(red(decoded.pixels, 10) - expected) <= 1)
    }

    @Test func nonSRGBGammaTakesTheFullDecoder() throws {
        let plain = Self.file(colorType: 2, bitDepth: 8, interlaced: false)
        let linear = TestPictures.png(plain, inserting: "gAMA", data: TestPictures.be32(100_000))
        #expect(try TestPictures.decode(linear, minimumSize: (width: 40, height: 27)).shrink == 1)
        let srgb = TestPictures.png(plain, inserting: "gAMA", data: TestPictures.be32(45_455))
        #expect(try TestPictures.decode(srgb, minimumSize: (width: 40, height: 27)).shrink == 3)
    }

    @Test func transparentColourDoesNotBleedWhileStreaming() throws {
        // Left third: fully transparent red; the rest opaque blue. The box average is alpha-weighted.
        var samples = [Int]()
        for _ in 0..<Self.height {
            for x in 0..<Self.width { samples += x < 101 ? [255, 0, 0, 0] : [0, 0, 255, 255] }
        }
        let file = TestPictures.png(
            width: Self.width, height: Self.height, colorType: 6, bitDepth: 8, samples: samples)
        let render = try TestPictures.render(file, [ThumbnailSpec(width: 48, height: 48, format: .png)])
        #expect(render.shrink == 3)
        let pixels = try TestPictures.decode(#require(render.thumbnails.first).bytes).pixels
        #expect(pixels.channels == 4)
        for index in stride(from: 0, to: pixels.bytes.count, by: 4) where pixels.bytes[index + 3] > 0 {
            #expect(pixels.bytes[index] <= 2, "red bled into pixel \(index / 4)")
        }
    }

    @Test func paletteIndexPastTheEndIsRefusedWhileStreaming() {
        var samples = Self.samples(colorType: 3, bitDepth: 8)
        samples[Self.width * 150 + 77] = 200
        let file = TestPictures.png(
            width: Self.width, height: Self.height, colorType: 3, bitDepth: 8, samples: samples,
            palette: Self.palette)
        #expect(throws: ImageError.self) { try TestPictures.render(file, [ThumbnailSpec(width: 48, height: 48)]) }
        #expect(throws: ImageError.self) { try TestPictures.decode(file) }
    }

    @Test func missingRowsAreRefused() {
        // The chunk list is complete, but the image data holds only half the rows.
        let samples = Self.samples(colorType: 2, bitDepth: 8)
        let file = TestPictures.png(
            width: Self.width, height: Self.height / 2, colorType: 2, bitDepth: 8,
            samples: Array(samples.prefix(samples.count / 2)))
        var header = Array(file[16..<29])
        header[4..<8] = TestPictures.be32(Self.height)[...]
        let patched = Array(file[0..<8]) + TestPictures.chunk("IHDR", header) + file[33...]
        #expect(throws: ImageError.self) { try TestPictures.render(patched, [ThumbnailSpec(width: 48, height: 48)]) }
        #expect(throws: ImageError.self) { try TestPictures.decode(patched) }
    }

    @Test func truncatedFileIsRefusedWhileStreaming() throws {
        let file = try ImageEncoder.encode(TestPictures.photo(width: 300, height: 200), format: .png)
        for length in [file.count - 1, file.count - 12, file.count / 2, 40] {
            #expect(throws: ImageError.self) {
                try TestPictures.render(Array(file.prefix(length)), [ThumbnailSpec(width: 48, height: 48)])
            }
        }
    }
}
