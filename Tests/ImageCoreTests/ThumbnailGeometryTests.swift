// Fit modes: inside keeps the whole picture, cover fills and crops; neither upscales; extreme aspect ratios work.

import ImageCore
import Testing

struct ThumbnailGeometryTests {
    @Test func insideKeepsAspectWithinTheBox() {
        #expect(
            ThumbnailGeometry.size(sourceWidth: 4000, sourceHeight: 3000, boxWidth: 256, boxHeight: 256, fit: .inside)
                == (256, 192))
        #expect(
            ThumbnailGeometry.size(sourceWidth: 3000, sourceHeight: 4000, boxWidth: 256, boxHeight: 256, fit: .inside)
                == (192, 256))
        #expect(
            ThumbnailGeometry.size(sourceWidth: 1000, sourceHeight: 500, boxWidth: 300, boxHeight: 100, fit: .inside)
                == (200, 100))
    }

    @Test func coverFillsTheBox() {
        #expect(
            ThumbnailGeometry.size(sourceWidth: 4000, sourceHeight: 3000, boxWidth: 256, boxHeight: 256, fit: .cover)
                == (256, 256))
        #expect(
            ThumbnailGeometry.resizedSize(
                sourceWidth: 4000, sourceHeight: 3000, boxWidth: 256, boxHeight: 256, fit: .cover) == (341, 256))
    }

    @Test func neverUpscales() {
        #expect(
            ThumbnailGeometry.size(sourceWidth: 100, sourceHeight: 50, boxWidth: 400, boxHeight: 400, fit: .inside) == (
                100, 50
            ))
        #expect(
            ThumbnailGeometry.size(sourceWidth: 100, sourceHeight: 50, boxWidth: 400, boxHeight: 400, fit: .cover) == (
                100, 50
            ))
        #expect(
            ThumbnailGeometry.size(sourceWidth: 100, sourceHeight: 50, boxWidth: 80, boxHeight: 400, fit: .cover) == (
                80, 50
            ))
    }

    @Test func extremeAspectRatios() {
        #expect(
            ThumbnailGeometry.size(sourceWidth: 1, sourceHeight: 1000, boxWidth: 256, boxHeight: 256, fit: .inside) == (
                1, 256
            ))
        #expect(
            ThumbnailGeometry.size(sourceWidth: 1000, sourceHeight: 1, boxWidth: 256, boxHeight: 256, fit: .inside) == (
                256, 1
            ))
        #expect(
            ThumbnailGeometry.size(sourceWidth: 1, sourceHeight: 1000, boxWidth: 256, boxHeight: 256, fit: .cover) == (
                1, 256
            ))
    }

    @Test(arguments: [(1, 1000), (1000, 1), (1, 1), (3, 7)])
    func oddSizesRender(width: Int, height: Int) throws {
        let file = try ImageEncoder.encode(TestPictures.photo(width: width, height: height), format: .png)
        for fit in FitMode.allCases {
            let render = try TestPictures.render(file, [ThumbnailSpec(width: 64, height: 64, fit: fit)])
            let thumbnail = try #require(render.thumbnails.first)
            let expected = ThumbnailGeometry.size(
                sourceWidth: width, sourceHeight: height, boxWidth: 64, boxHeight: 64, fit: fit)
            #expect(thumbnail.width == expected.width && thumbnail.height == expected.height)
            let decoded = try TestPictures.decode(thumbnail.bytes).pixels
            #expect(decoded.width == expected.width && decoded.height == expected.height)
        }
    }

    @Test func coverCropsAroundTheCentre() throws {
        // Left third red, middle third green, right third blue: a square cover crop keeps the green middle.
        var bytes = [UInt8]()
        for _ in 0..<100 {
            for x in 0..<300 { bytes += x < 100 ? [255, 0, 0] : x < 200 ? [0, 255, 0] : [0, 0, 255] }
        }
        let file = try ImageEncoder.encode(
            PixelBuffer(width: 300, height: 100, channels: 3, bytes: bytes), format: .png)
        let render = try TestPictures.render(file, [ThumbnailSpec(width: 30, height: 30, fit: .cover, format: .png)])
        let picture = try TestPictures.decode(try #require(render.thumbnails.first).bytes).pixels
        #expect(picture.width == 30 && picture.height == 30)
        #expect(TestPictures.close(picture.pixel(x: 15, y: 15), [0, 255, 0], tolerance: 2))
        #expect(TestPictures.close(picture.pixel(x: 1, y: 15), [0, 255, 0], tolerance: 2))
    }
}
