// Resize quality: flat stays flat, premultiplied alpha does not bleed, fine detail does not alias.

import ImageCore
import Testing

struct ResizeTests {
    @Test(arguments: [(640, 480, 100, 75), (97, 61, 13, 7), (300, 300, 299, 1), (1, 500, 1, 37), (20, 20, 50, 30)])
    func flatColourStaysFlat(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int) {
        let flat = PixelBuffer(width: sourceWidth, height: sourceHeight, filledWith: [200, 100, 50])
        let resized = ImageResizer.resize(flat, width: width, height: height)
        #expect(resized.width == width && resized.height == height && resized.channels == 3)
        #expect(resized == PixelBuffer(width: width, height: height, filledWith: [200, 100, 50]))
    }

    @Test func flatTranslucentColourStaysFlat() {
        let flat = PixelBuffer(width: 333, height: 250, filledWith: [10, 200, 30, 128])
        let resized = ImageResizer.resize(flat, width: 50, height: 37)
        #expect(resized == PixelBuffer(width: 50, height: 37, filledWith: [10, 200, 30, 128]))
    }

    @Test(arguments: [(64, 8), (64, 32), (1000, 100)])
    func transparentRedDoesNotBleedIntoOpaqueBlue(sourceWidth: Int, width: Int) {
        // Alternate columns: fully transparent red, opaque blue.
        var bytes = [UInt8]()
        for _ in 0..<sourceWidth {
            for x in 0..<sourceWidth { bytes += x % 2 == 0 ? [255, 0, 0, 0] : [0, 0, 255, 255] }
        }
        let image = PixelBuffer(width: sourceWidth, height: sourceWidth, channels: 4, bytes: bytes)
        let resized = ImageResizer.resize(image, width: width, height: width)
        for y in 0..<width {
            for x in 0..<width {
                let pixel = Array(resized.pixel(x: x, y: y))
                #expect(pixel[0] <= 1 && pixel[2] >= 254, "pixel (\(x), \(y)) is \(pixel)")
                // Inside, the filter sees as many transparent as opaque columns (edges repeat their own column).
                if x > 0 && x < width - 1 {
                    #expect((120...135).contains(pixel[3]), "alpha at (\(x), \(y)) is \(pixel[3])")
                }
            }
        }
    }

    @Test(arguments: [(256, 32), (300, 64), (1001, 100), (64, 40)])
    func checkerboardBecomesUniformGrey(sourceWidth: Int, width: Int) {
        var bytes = [UInt8]()
        for y in 0..<sourceWidth {
            for x in 0..<sourceWidth {
                let value: UInt8 = (x + y) % 2 == 0 ? 255 : 0
                bytes += [value, value, value]
            }
        }
        let board = PixelBuffer(width: sourceWidth, height: sourceWidth, channels: 3, bytes: bytes)
        let resized = ImageResizer.resize(board, width: width, height: width)
        let values = resized.bytes.map(Int.init)
        let low = values.min() ?? 0
        let high = values.max() ?? 255
        #expect(low >= 117 && high <= 138, "range \(low)...\(high)")
    }

    @Test func sharpEdgeStaysInPlace() {
        // Left half black, right half white: after a 4x reduction the edge is still in the middle.
        var bytes = [UInt8]()
        for _ in 0..<64 {
            for x in 0..<400 { bytes += x < 200 ? [0, 0, 0] : [255, 255, 255] }
        }
        let resized = ImageResizer.resize(
            PixelBuffer(width: 400, height: 64, channels: 3, bytes: bytes), width: 100, height: 16)
        #expect(resized.pixel(x: 45, y: 8).allSatisfy { $0 <= 3 })
        #expect(resized.pixel(x: 54, y: 8).allSatisfy { $0 >= 252 })
    }
}
