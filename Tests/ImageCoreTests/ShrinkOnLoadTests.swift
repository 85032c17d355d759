// DCT shrink-on-load: the largest reduction that keeps the target size, and the same picture as a full decode.

import ImageCore
import Testing

struct ShrinkOnLoadTests {
    @Test(arguments: [(256, 8), (257, 4), (300, 4), (512, 4), (513, 2), (1024, 2), (1025, 1)])
    func chosenShrinkIsTheLargestThatKeepsTheTarget(longSide: Int, expected: Int) {
        let header = ImageHeader(format: .jpeg, width: 2048, height: 1536)
        let shrink = ImageDecoder.shrinkFactor(for: header, minimumWidth: longSide, minimumHeight: longSide * 3 / 4)
        #expect(shrink == expected)
    }

    @Test func twelveMegapixelsToThumbnailUsesAnEighth() {
        let header = ImageHeader(format: .jpeg, width: 4000, height: 3000)
        #expect(ImageDecoder.shrinkFactor(for: header, minimumWidth: 256, minimumHeight: 192) == 8)
        #expect(
            ImageDecoder.shrinkFactor(
                for: ImageHeader(format: .png, width: 4000, height: 3000), minimumWidth: 1, minimumHeight: 1) == 1)
    }

    @Test func shrunkDecodeLooksLikeFullDecodePlusResize() throws {
        let file = try ImageEncoder.encode(TestPictures.photo(width: 2048, height: 1536), format: .jpeg, quality: 90)
        let render = try TestPictures.render(file, [ThumbnailSpec(width: 256, height: 256, format: .png)])
        #expect(render.shrink == 8)
        let thumbnail = try TestPictures.decode(try #require(render.thumbnails.first).bytes).pixels
        #expect(thumbnail.width == 256 && thumbnail.height == 192)
        let full = try TestPictures.decode(file).pixels
        #expect(full.width == 2048)
        let reference = ImageResizer.resize(full, width: 256, height: 192)
        let difference = TestPictures.meanAbsoluteDifference(thumbnail, reference)
        #expect(difference < 3, "mean absolute difference \(difference)")
    }

    @Test func severalSpecsShareOneDecodeSizedForTheLargest() throws {
        let file = try ImageEncoder.encode(TestPictures.photo(width: 2048, height: 1536), format: .jpeg, quality: 90)
        let render = try TestPictures.render(
            file, [ThumbnailSpec(width: 128, height: 128), ThumbnailSpec(width: 600, height: 600, fit: .cover)])
        // cover 600x600 needs 800x600 from 2048x1536: 1/2 gives 1024x768, 1/4 would give 512x384.
        #expect(render.shrink == 2)
        #expect(render.thumbnails.map(\.width) == [128, 600])
        #expect(render.thumbnails.map(\.height) == [96, 600])
    }
}
