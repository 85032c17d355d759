// A render whose owner raised its CancellationFlag (an invocation that timed out) stops at the decode's next band of
// rows, or at the render's next stage, with `ImageError.cancelled`; nothing is wrong with the picture.

import Testing

@testable import ImageCore

struct CancelledRenderTests {
    static let picture = TestPictures.photo(width: 320, height: 480)

    /// The row counts a decode reported, in order.
    final class ReportedRows {
        var counts: [Int] = []
    }

    static func raisedFlag() -> CancellationFlag {
        let flag = CancellationFlag()
        flag.cancel()
        return flag
    }

    @Test(arguments: [false, true])
    func aJPEGDecodeCancelledMidwayStopsBeforeItsLastRow(libjpegEntropy: Bool) throws {
        let file = try ImageEncoder.encode(Self.picture, format: .jpeg, quality: 90)
        let header = try TestPictures.header(file)
        let flag = CancellationFlag()
        let reported = ReportedRows()
        let outcome = flag.whileCurrent {
            file.withUnsafeBytes {
                JPEGDecoder.decodeTellingDecoder(
                    $0, header: header, shrink: 1, limits: .default,
                    method: JPEGDecoder.Method(libjpegEntropy: libjpegEntropy)
                ) { rows in
                    reported.counts.append(rows)
                    if rows >= 64 { flag.cancel() }
                }
            }
        }
        #expect(throws: ImageError.cancelled) { try outcome.pixels.get() }
        let last = try #require(reported.counts.last)
        #expect(last >= 64 && last < Self.picture.height, "stopped at the band that saw the flag: \(reported.counts)")
    }

    @Test func aProgressiveJPEGStopsWhileItsScansAreReadIn() throws {
        let file = try ImageEncoder.encode(Self.picture, format: .jpeg, quality: 90, progressive: true)
        let header = try TestPictures.header(file)
        let reported = ReportedRows()
        let outcome = Self.raisedFlag().whileCurrent {
            file.withUnsafeBytes {
                JPEGDecoder.decodeTellingDecoder($0, header: header, shrink: 1, limits: .default, method: .standard) {
                    reported.counts.append($0)
                }
            }
        }
        #expect(throws: ImageError.cancelled) { try outcome.pixels.get() }
        #expect(reported.counts.allSatisfy { $0 == 0 }, "no row decoded: \(reported.counts)")
    }

    @Test func aStreamedPNGDecodeStopsAtItsNextBand() throws {
        let file = try ImageEncoder.encode(Self.picture, format: .png)
        let header = try TestPictures.header(file)
        #expect(throws: ImageError.cancelled) {
            try Self.raisedFlag().whileCurrent {
                try file.withUnsafeBytes { try PNGStreamDecoder.decode($0, header: header, shrink: 1) }
            }
        }
    }

    @Test(arguments: [ImageFormat.jpeg, .png, .webp])
    func aCancelledRenderMakesNoThumbnail(format: ImageFormat) throws {
        let file = try ImageEncoder.encode(Self.picture, format: format)
        let specs = [ThumbnailSpec(width: 100, height: 100), ThumbnailSpec(width: 50, height: 50)]
        #expect(throws: ImageError.cancelled) {
            try Self.raisedFlag().whileCurrent { try TestPictures.render(file, specs) }
        }
        // Without a flag, or with one nobody raised, the same render makes both.
        #expect(try TestPictures.render(file, specs).thumbnails.count == 2)
        #expect(try CancellationFlag().whileCurrent { try TestPictures.render(file, specs) }.thumbnails.count == 2)
    }
}
