// The resize that runs beside a JPEG decode: the same pixels as the resize after it, whatever order the rows come
// in; nothing when the rows stop coming; a decode that fails still fails (and the resize thread is joined); the
// spare-core gate lends at most its cores.
import Foundation
import Locking
import Testing

@testable import ImageCore

struct OverlappedResizeTests {
    static func noise(width: Int, height: Int, channels: Int, seed: UInt64) -> PixelBuffer {
        var state = seed
        let bytes = (0..<(width * height * channels)).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        return PixelBuffer(width: width, height: height, channels: channels, bytes: bytes)
    }

    /// The reference: every row through the horizontal pass, then every output row through the vertical pass (what
    /// `ImageResizer.resize` did before it used the row-wise resize itself).
    static func twoPasses(_ image: PixelBuffer, width: Int, height: Int) -> PixelBuffer {
        let columns = ResampleWeights(sourceCount: image.width, outputCount: width, originalSpan: image.width, boxFactor: 1)
        let rows = ResampleWeights(sourceCount: image.height, outputCount: height, originalSpan: image.height, boxFactor: 1)
        var narrow = [Float](repeating: 0, count: width * image.height * image.channels)
        image.bytes.withUnsafeBufferPointer { source in
            narrow.withUnsafeMutableBufferPointer { narrow in
                _ = LanczosPass.horizontal(
                    bytes: source, sourceWidth: image.width, rows: image.height, channels: image.channels,
                    hasAlpha: image.hasAlpha, weights: columns, into: narrow)
            }
        }
        var bytes = [UInt8](repeating: 0, count: width * height * image.channels)
        narrow.withUnsafeBufferPointer { narrow in
            bytes.withUnsafeMutableBufferPointer { target in
                LanczosPass.vertical(
                    source: narrow, width: width, channels: image.channels, hasAlpha: image.hasAlpha, weights: rows,
                    into: target)
            }
        }
        return PixelBuffer(width: width, height: height, channels: image.channels, bytes: bytes)
    }

    /// (source width, height, output width, height, channels): reductions just under 4x and under 2x, an upscale,
    /// odd sizes, one row, RGBA with alpha.
    @Test(arguments: [
        (2000, 1500, 1024, 768, 3), (1001, 777, 256, 195, 3), (640, 480, 600, 479, 3), (97, 61, 130, 80, 3),
        (333, 1, 100, 1, 3), (300, 200, 150, 101, 4), (17, 9, 5, 3, 4),
    ])
    func rowsResizedAsTheyArriveGiveTheSamePixels(
        sourceWidth: Int, sourceHeight: Int, width: Int, height: Int, channels: Int
    ) throws {
        let source = Self.noise(width: sourceWidth, height: sourceHeight, channels: channels, seed: UInt64(width))
        try #require(
            ImageResizer.filtersSourceRows(
                sourceWidth: sourceWidth, sourceHeight: sourceHeight, channels: channels, width: width, height: height))
        let after = Self.twoPasses(source, width: width, height: height)
        var asked: [Int] = []
        let streamed = source.bytes.withUnsafeBufferPointer { bytes in
            ImageResizer.resize(
                rowsOf: bytes, sourceWidth: sourceWidth, sourceHeight: sourceHeight, channels: channels,
                hasAlpha: channels == 4, width: width, height: height
            ) { rows in
                asked.append(rows)
                return true
            }
        }
        #expect(streamed == after)
        // Rows are asked for in order, a few blocks ahead, never past the picture.
        #expect(asked == asked.sorted() && (asked.last ?? 0) <= sourceHeight && asked.first ?? 0 <= 32)
    }

    @Test func rowsWrittenByAnotherThreadWhileTheResizeRuns() async throws {
        let (sourceWidth, sourceHeight, width, height) = (1200, 900, 700, 500)
        let source = Self.noise(width: sourceWidth, height: sourceHeight, channels: 3, seed: 7)
        let expected = Self.twoPasses(source, width: width, height: height)
        // The "decode" copies the rows in bands of 16 into a buffer the resize reads, publishing each band.
        let target = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: source.bytes.count)
        defer { target.deallocate() }
        target.initialize(repeating: 0)
        let shared = Shared(buffer: target)
        let rows = DecodedRows()
        let writer = Thread {
            let rowBytes = sourceWidth * 3
            for top in stride(from: 0, to: sourceHeight, by: 16) {
                let end = min(top + 16, sourceHeight)
                source.bytes.withUnsafeBufferPointer { from in
                    for index in top * rowBytes..<end * rowBytes { shared.buffer[index] = from[index] }
                }
                rows.publish(end)
            }
            rows.end()
        }
        writer.start()
        let resized = ImageResizer.resize(
            rowsOf: UnsafeBufferPointer(target), sourceWidth: sourceWidth, sourceHeight: sourceHeight, channels: 3,
            hasAlpha: false, width: width, height: height, rowsReady: rows.wait(for:))
        #expect(resized == expected)
    }

    @Test func rowsThatStopComingGiveNothing() {
        let source = Self.noise(width: 400, height: 300, channels: 3, seed: 3)
        let rows = DecodedRows()
        rows.publish(120)
        rows.end()
        let resized = source.bytes.withUnsafeBufferPointer {
            ImageResizer.resize(
                rowsOf: $0, sourceWidth: 400, sourceHeight: 300, channels: 3, hasAlpha: false, width: 250,
                height: 180, rowsReady: rows.wait(for:))
        }
        #expect(resized == nil)
    }

    @Test(.enabled(if: SpareCore.count > 0, "needs a second core"))
    func aJPEGResizedWhileDecodedEqualsTheResizeAfterTheDecode() throws {
        let file = try ImageEncoder.encode(TestPictures.photo(width: 1600, height: 1200), format: .jpeg, quality: 90)
        // Other tests of this process may hold the spare core for a moment: ask again until it is lent.
        var decoded: DecodedImage?
        for _ in 0..<200 where decoded?.resized == nil {
            if decoded != nil { Thread.sleep(forTimeInterval: 0.01) }
            decoded = try file.withUnsafeBytes {
                try ImageDecoder.decode($0, limits: DecodeLimits(), minimumSize: (700, 525), resizingTo: (700, 525))
            }
        }
        let pixels = try #require(decoded?.pixels)
        #expect(decoded?.shrink == 2 && pixels.width == 800)
        let resized = try #require(decoded?.resized, "the spare core was never lent")
        #expect(resized == Self.twoPasses(pixels, width: 700, height: 525))
        // A size the decode's rows do not feed directly (a box pre-shrink first): not made beside the decode.
        let small = try file.withUnsafeBytes {
            try ImageDecoder.decode($0, limits: DecodeLimits(), minimumSize: (40, 30), resizingTo: (40, 30))
        }
        #expect(small.pixels.width == 200 && small.resized?.width == nil)
    }

    @Test func thumbnailsRenderedWithTheOverlapAreTheSameBytes() throws {
        let file = try ImageEncoder.encode(TestPictures.photo(width: 2000, height: 1500), format: .jpeg, quality: 90)
        let specs = [1024, 256, 128].map { ThumbnailSpec(width: $0, height: $0) }
        let (plain, overlapped) = try file.withUnsafeBytes { bytes in
            (
                try Thumbnailer.render(bytes, specs: specs, limits: DecodeLimits(), overlap: false),
                try Thumbnailer.render(bytes, specs: specs, limits: DecodeLimits(), overlap: true)
            )
        }
        #expect(plain.thumbnails.map(\.bytes) == overlapped.thumbnails.map(\.bytes))
        #expect(overlapped.thumbnails.map(\.width) == [1024, 256, 128])
    }

    @Test func aDamagedJPEGFailsTheSameWithTheOverlap() throws {
        let file = try ImageEncoder.encode(TestPictures.photo(width: 1600, height: 1200), format: .jpeg, quality: 90)
        for cut in [file.count / 2, file.count - 40] {
            let damaged = Array(file.prefix(cut))
            let plain = #expect(throws: ImageError.self) {
                try damaged.withUnsafeBytes { try ImageDecoder.decode($0, limits: DecodeLimits(), minimumSize: (700, 525)) }
            }
            let overlapped = #expect(throws: ImageError.self) {
                try damaged.withUnsafeBytes {
                    try ImageDecoder.decode($0, limits: DecodeLimits(), minimumSize: (700, 525), resizingTo: (700, 525))
                }
            }
            #expect(plain?.description == overlapped?.description)
        }
    }

    @Test(.enabled(if: SpareCore.count > 0, "needs a second core"))
    func theGateLendsAtMostItsCores() throws {
        // Nested renders: never more helpers than spare cores (other tests may hold some: "at most").
        func nest(_ depth: Int) -> [Bool] {
            let (inner, helped) = SpareCore.alongside({ true }) { depth > 1 ? nest(depth - 1) : [] }
            return [helped ?? false] + inner
        }
        let lent = nest(SpareCore.count + 1)
        #expect(lent.count == SpareCore.count + 1)
        #expect(lent.filter { $0 }.count <= SpareCore.count)
        // And they are given back: a render alone is lent one again (once other tests let go of theirs).
        var again = false
        for _ in 0..<200 where !again {
            again = nest(1) == [true]
            if !again { Thread.sleep(forTimeInterval: 0.01) }
        }
        #expect(again)
    }

    private struct Shared: @unchecked Sendable {
        // @unchecked Sendable: the writer thread writes a band before publishing it; the resize reads only published
        // bands (the same contract as a decode's buffer).
        let buffer: UnsafeMutableBufferPointer<UInt8>
    }
}
