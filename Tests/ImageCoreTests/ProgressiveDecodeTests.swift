// Progressive JPEGs at 1/8 scale stop after their DC scans: the pixels stay within PSNR 35 dB of decoding every
// scan (the decode picpipe did before), and damage after the scans read is still refused.

import Foundation
@testable import ImageCore
import Testing

struct ProgressiveDecodeTests {
    /// The two decodes of one file at the same scale: stopping after the DC scans, and every scan.
    static func bothWays(_ file: [UInt8], shrink: Int) throws -> (early: PixelBuffer, full: PixelBuffer) {
        try file.withUnsafeBytes { raw in
            let header = try ImageHeader.read(from: raw)
            let early = try JPEGDecoder.decode(raw, header: header, shrink: shrink, limits: .default)
            let full = try JPEGDecoder.decode(raw, header: header, shrink: shrink, limits: .default, method: .init(allScans: true))
            return (early, full)
        }
    }

    /// Peak signal-to-noise ratio of two same-size 8-bit buffers, in dB (infinity when identical).
    static func psnr(_ a: PixelBuffer, _ b: PixelBuffer) -> Double {
        precondition(a.bytes.count == b.bytes.count && !a.bytes.isEmpty)
        var squared = 0.0
        for index in a.bytes.indices {
            let difference = Double(Int(a.bytes[index]) - Int(b.bytes[index]))
            squared += difference * difference
        }
        let mean = squared / Double(a.bytes.count)
        return mean == 0 ? .infinity : 10 * log10(255 * 255 / mean)
    }

    /// A progressive file made the way `jpegtran -progressive` makes one (libjpeg's simple progression: the DC
    /// scan with its last bit held back, AC bands, then the refinements).
    static func progressive(_ picture: PixelBuffer, quality: Int = 90) throws -> [UInt8] {
        let file = try ImageEncoder.encode(picture, format: .jpeg, quality: quality, progressive: true)
        #expect(Self.isProgressive(file))
        return file
    }

    /// Whether the frame is progressive (an SOF2 marker).
    static func isProgressive(_ file: [UInt8]) -> Bool {
        file.indices.dropLast().contains { file[$0] == 0xFF && file[$0 + 1] == 0xC2 }
    }

    @Test(arguments: [50, 75, 90, 100])
    func syntheticPhotoMatchesTheFullDecode(quality: Int) throws {
        let file = try Self.progressive(TestPictures.photo(width: 1203, height: 805), quality: quality)
        let (early, full) = try Self.bothWays(file, shrink: 8)
        #expect(early.width == 151 && early.height == 101)
        #expect(early.width == full.width && early.height == full.height)
        let psnr = Self.psnr(early, full)
        #expect(psnr >= 35, "PSNR \(psnr) dB at q\(quality)")
    }

    /// At 1/4 and 1/2 the missing low bits would cost too much (33.7 dB at q50 and 1/4): every scan is read, the
    /// pixels are those of the full decode.
    @Test(arguments: [4, 2])
    func largerScalesReadEveryScan(shrink: Int) throws {
        let file = try Self.progressive(TestPictures.photo(width: 1203, height: 805), quality: 50)
        let (early, full) = try Self.bothWays(file, shrink: shrink)
        #expect(early.bytes == full.bytes)
    }

    /// Real photos from the corpus, made progressive, and the corpus's own progressive files.
    @Test func corpusPhotosMatchTheFullDecode() throws {
        let folder = CorpusLocation.directory
        guard FileManager.default.fileExists(atPath: folder.path) else { return }
        var files: [(String, [UInt8])] = []
        for name in ["jpeg-odd/progressive-cat.jpg", "jpeg-odd/progressive-mozilla.jpg"] {
            files.append((name, Array(try Data(contentsOf: folder.appendingPathComponent(name)))))
        }
        for name in ["jpeg-exif/canon-eos-5d-mark-iii.jpg", "jpeg-exif/apple-iphone-5.jpg"] {
            let url = folder.appendingPathComponent(name)
            guard let bytes = try? Data(contentsOf: url) else { continue }
            let decoded = try TestPictures.decode(Array(bytes), minimumSize: (800, 600))
            files.append((name + " (progressive)", try Self.progressive(decoded.pixels)))
        }
        #expect(files.count >= 2)
        for (name, file) in files {
            #expect(Self.isProgressive(file), "\(name)")
            let (early, full) = try Self.bothWays(file, shrink: 8)
            let psnr = Self.psnr(early, full)
            #expect(psnr >= 35, "\(name): PSNR \(psnr) dB")
        }
    }

    /// The early stop goes through the public decode, and a thumbnail of the same file matches the one made from
    /// every scan.
    @Test func thumbnailOfAProgressiveFileMatchesTheFullDecode() throws {
        let file = try Self.progressive(TestPictures.photo(width: 2400, height: 1600))
        let decoded = try TestPictures.decode(file, minimumSize: (256, 171))
        #expect(decoded.shrink == 8)
        let (_, full) = try Self.bothWays(file, shrink: 8)
        #expect(Self.psnr(decoded.pixels, full) >= 35)
        let resizedEarly = ImageResizer.resize(decoded.pixels, width: 256, height: 171)
        let resizedFull = ImageResizer.resize(full, width: 256, height: 171)
        #expect(Self.psnr(resizedEarly, resizedFull) >= 35)
    }

    /// Cut inside the late AC scans (which the early stop does not decode), or without its EOI: still refused.
    @Test func damageAfterTheDCScansIsStillRefused() throws {
        let file = try Self.progressive(TestPictures.photo(width: 1203, height: 805))
        let cuts = [file.count - 2, file.count - 100, file.count * 3 / 4, file.count / 2]
        for cut in cuts {
            let truncated = Array(file.prefix(cut))
            do {
                _ = try TestPictures.decode(truncated, minimumSize: (100, 80))
                Issue.record("a progressive file cut at \(cut) of \(file.count) bytes was accepted")
            } catch let error as ImageError {
                switch error {
                case .truncated, .corrupt: break
                default: Issue.record("unexpected error for a cut at \(cut): \(error)")
                }
            }
        }
    }
}
