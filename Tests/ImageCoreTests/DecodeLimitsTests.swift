// Limits are checked from the header, before any pixel buffer exists: bombs are refused fast.

import ImageCore
import Testing

struct DecodeLimitsTests {
    /// SOI, a baseline SOF declaring the size (one gray component), EOI: a 'picture' of a few bytes.
    static func jpegBomb(width: Int, height: Int) -> [UInt8] {
        [
            0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8),
            UInt8(width & 0xFF), 0x01, 0x01, 0x11, 0x00, 0xFF, 0xD9,
        ]
    }

    /// A valid IHDR declaring the size, one tiny IDAT, IEND.
    static func pngBomb(width: Int, height: Int) -> [UInt8] {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let header = TestPictures.be32(width) + TestPictures.be32(height) + [8, 2, 0, 0, 0]
        return signature + TestPictures.chunk("IHDR", header) + TestPictures.chunk("IDAT", TestPictures.zlibStored([0]))
            + TestPictures.chunk("IEND", [])
    }

    @Test(arguments: [jpegBomb(width: 60000, height: 60000), pngBomb(width: 60000, height: 60000)])
    func bombIsRefusedFromTheHeader(file: [UInt8]) {
        #expect(file.count < 100)
        #expect(throws: ImageError.tooManyPixels(width: 60000, height: 60000, limit: 100_000_000)) {
            try TestPictures.decode(file)
        }
        #expect(throws: ImageError.tooManyPixels(width: 60000, height: 60000, limit: 100_000_000)) {
            try TestPictures.render(file, [ThumbnailSpec(width: 256, height: 256)])
        }
        // The header alone still reads: the refusal is a limit, not a parse failure.
        #expect((try? TestPictures.header(file))?.width == 60000)
    }

    /// An AVIF (HEIC goes the same libheif way; picpipe writes no HEIC to make one) whose `ispe` declares 60000x60000, past libheif's own default limit (32768 a side, hit while
    /// the header is read): refused as every other format's bomb, naming picpipe's limit (until session 30 "corrupt
    /// AVIF data: over libheif's size limit … 32768x32768\n", whatever `limits.max_pixels` said).
    @Test func aHEIFBombPastLibheifsOwnLimitNamesPicpipesLimit() throws {
        var file = try ImageEncoder.encode(TestPictures.photo(width: 64, height: 48), format: .avif)
        var patched = 0
        for start in 0..<(file.count - 16) where file[start..<(start + 4)].elementsEqual("ispe".utf8) {
            // 'ispe', version and flags, then width and height.
            file.replaceSubrange((start + 8)..<(start + 16), with: TestPictures.be32(60000) + TestPictures.be32(60000))
            patched += 1
        }
        #expect(patched >= 1)
        #expect(throws: ImageError.tooManyPixels(width: 60000, height: 60000, limit: 100_000_000)) {
            try TestPictures.decode(file)
        }
        let limits = DecodeLimits(maxPixels: 5_000_000)
        #expect(throws: ImageError.tooManyPixels(width: 60000, height: 60000, limit: 5_000_000)) {
            try TestPictures.render(file, [ThumbnailSpec(width: 50, height: 50)], limits: limits)
        }
    }

    @Test func lowerPixelLimitRefusesANormalPicture() throws {
        let file = try ImageEncoder.encode(TestPictures.photo(width: 200, height: 100), format: .jpeg)
        let limits = DecodeLimits(maxPixels: 10_000)
        #expect(throws: ImageError.tooManyPixels(width: 200, height: 100, limit: 10_000)) {
            try file.withUnsafeBytes { try ImageDecoder.decode($0, limits: limits, minimumSize: nil) }
        }
        #expect(throws: ImageError.tooManyPixels(width: 200, height: 100, limit: 10_000)) {
            try TestPictures.render(file, [ThumbnailSpec(width: 50, height: 50)], limits: limits)
        }
    }

    @Test func fileSizeLimitRefusesABigBuffer() throws {
        let file = try ImageEncoder.encode(TestPictures.photo(width: 64, height: 64), format: .png)
        let limits = DecodeLimits(maxFileBytes: file.count - 1)
        #expect(throws: ImageError.fileTooLarge(bytes: file.count, limit: file.count - 1)) {
            try TestPictures.render(file, [ThumbnailSpec(width: 32, height: 32)], limits: limits)
        }
        #expect(throws: Never.self) {
            try TestPictures.render(
                file, [ThumbnailSpec(width: 32, height: 32)], limits: DecodeLimits(maxFileBytes: file.count))
        }
    }

    @Test func headerReadsFromAPrefixAndSaysWhenItIsTooShort() throws {
        let jpeg = TestPictures.jpeg(
            try ImageEncoder.encode(TestPictures.photo(width: 300, height: 200), format: .jpeg),
            withEXIF: TestPictures.tiff(orientation: 8, bigEndian: false))
        #expect(
            try TestPictures.header(Array(jpeg.prefix(1024)))
                == ImageHeader(format: .jpeg, width: 300, height: 200, orientation: 8))
        #expect(throws: ImageError.self) { try TestPictures.header(Array(jpeg.prefix(20))) }
        let png = try ImageEncoder.encode(TestPictures.photo(width: 30, height: 20), format: .png)
        #expect(try TestPictures.header(Array(png.prefix(33))) == ImageHeader(format: .png, width: 30, height: 20))
        if case .truncated = try #require(throwing(try TestPictures.header(Array(png.prefix(20))))) {
        } else {
            Issue.record("a PNG prefix without a whole IHDR should be .truncated")
        }
    }

    @Test func formatIsSniffedFromTheBytes() {
        #expect(throws: ImageError.self) { try TestPictures.header(Array("<html>404</html>".utf8)) }
        #expect(throws: ImageError.self) { try TestPictures.header([]) }
    }

    private func throwing(_ body: @autoclosure () throws -> ImageHeader) -> ImageError? {
        do {
            _ = try body()
            return nil
        } catch let error as ImageError {
            return error
        } catch {
            return nil
        }
    }
}
