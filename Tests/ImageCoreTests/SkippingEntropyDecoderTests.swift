// picpipe's Huffman decoder for single-scan JPEGs (Sources/CJPEGShims/SkippingEntropyDecoder.c) gives libjpeg-turbo's
// coefficients, so the same pixels, at every scale and layout; whatever it declines, libjpeg-turbo decodes again and
// judges, so damaged files get the verdict they got before.

import CJPEGShims
import Foundation
import Testing

@testable import ImageCore

struct SkippingEntropyDecoderTests {
    typealias Outcome = JPEGEntropyCheck.Outcome

    /// One file at one scale, decoded by picpipe's entropy decoder (falling back as it does) and by libjpeg-turbo's.
    static func bothWays(_ file: [UInt8], shrink: Int) -> (
        ours: Outcome, libjpeg: Outcome, entropy: JPEGDecoder.EntropyDecoder
    ) {
        file.withUnsafeBytes { raw in
            let header: ImageHeader
            do { header = try ImageHeader.read(from: raw) } catch {
                return (.refused("\(error)"), .refused("\(error)"), .libjpeg)
            }
            let both = JPEGEntropyCheck.bothWays(raw, header: header, shrink: shrink, limits: .default)
            #expect(both.libjpegEntropy == .libjpeg)
            return (both.ours, both.libjpeg, both.entropy)
        }
    }

    /// A picture with detail at every frequency (gradients, edges, noise), so the AC terms use long codes too.
    static func pixels(width: Int, height: Int, components: Int, seed: UInt64 = 1) -> [UInt8] {
        var random = seed
        var bytes = [UInt8]()
        bytes.reserveCapacity(width * height * components)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<components {
                    random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    let noise = Int(random >> 59)
                    let edge = ((x / 7 + y / 5) % 2) * 90
                    bytes.append(UInt8(clamping: (x * 255 / max(width, 1) + c * 60 + edge + noise * 3) % 256))
                }
            }
        }
        return bytes
    }

    static func encode(width: Int, height: Int, _ variant: CJPEGShims_Variant, seed: UInt64 = 1) throws -> [UInt8] {
        let source = pixels(width: width, height: height, components: Int(variant.components), seed: seed)
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        var status = CJPEGShims_Status()
        let code = CJPEGShims_encodeVariant(source, Int32(width), Int32(height), variant, &output, &size, &status)
        try #require(code == CJPEGShims_ok)
        defer { CJPEGShims_free(output) }
        return Array(UnsafeBufferPointer(start: try #require(output), count: Int(size)))
    }

    /// Layouts: gray, 4:4:4, 4:2:2, 4:4:0, 4:2:0, 4:1:1; with and without restart markers; standard and optimised
    /// Huffman tables; low and high quality (q100 has the largest coefficients and longest codes).
    static let variants: [(name: String, variant: CJPEGShims_Variant)] = [
        ("gray", .init(components: 1, lumaH: 1, lumaV: 1, restartInterval: 0, optimize: 1, quality: 90)),
        ("gray restart 1", .init(components: 1, lumaH: 1, lumaV: 1, restartInterval: 1, optimize: 0, quality: 100)),
        ("4:4:4", .init(components: 3, lumaH: 1, lumaV: 1, restartInterval: 0, optimize: 0, quality: 100)),
        ("4:2:2", .init(components: 3, lumaH: 2, lumaV: 1, restartInterval: 0, optimize: 1, quality: 75)),
        ("4:4:0 restart 7", .init(components: 3, lumaH: 1, lumaV: 2, restartInterval: 7, optimize: 1, quality: 85)),
        ("4:2:0", .init(components: 3, lumaH: 2, lumaV: 2, restartInterval: 0, optimize: 1, quality: 90)),
        ("4:2:0 q15", .init(components: 3, lumaH: 2, lumaV: 2, restartInterval: 0, optimize: 0, quality: 15)),
        ("4:2:0 restart 3", .init(components: 3, lumaH: 2, lumaV: 2, restartInterval: 3, optimize: 0, quality: 100)),
        ("4:1:1", .init(components: 3, lumaH: 4, lumaV: 1, restartInterval: 0, optimize: 1, quality: 95)),
    ]

    @Test(arguments: [(67, 45), (1, 1), (17, 9), (203, 151)])
    func everyLayoutDecodesToLibjpegsPixelsAtEveryScale(width: Int, height: Int) throws {
        for (name, variant) in Self.variants {
            let file = try Self.encode(width: width, height: height, variant)
            for shrink in [1, 2, 4, 8] {
                let (ours, libjpeg, entropy) = Self.bothWays(file, shrink: shrink)
                #expect(entropy == .skipping, "\(name) \(width)x\(height) at 1/\(shrink)")
                #expect(ours == libjpeg, "\(name) \(width)x\(height) at 1/\(shrink): \(ours) vs \(libjpeg)")
                if case .refused = ours { Issue.record("\(name) \(width)x\(height) at 1/\(shrink): \(ours)") }
            }
        }
    }

    /// The decoder holds 64 KiB of the unstuffed scan at a time: scans several times that, with restart markers and
    /// without, slide it many times (a restart marker or an MCU across its edge), with the same pixels.
    @Test(arguments: [0, 5])
    func aScanManyWindowsLongDecodesToLibjpegsPixels(restartInterval: Int32) throws {
        let variant = CJPEGShims_Variant(
            components: 3, lumaH: 2, lumaV: 2, restartInterval: restartInterval, optimize: 0, quality: 100)
        let file = try Self.encode(width: 1500, height: 1000, variant, seed: 11)
        #expect(file.count > 6 * 64 * 1024)
        for shrink in [8, 2] {
            let (ours, libjpeg, entropy) = Self.bothWays(file, shrink: shrink)
            #expect(entropy == .skipping)
            #expect(ours == libjpeg, "1/\(shrink): \(ours) vs \(libjpeg)")
        }
        var damaged = file
        damaged[file.count * 2 / 3] ^= 0x10
        let (ours, libjpeg, _) = Self.bothWays(damaged, shrink: 8)
        #expect(ours == libjpeg, "\(ours) vs \(libjpeg)")
    }

    /// Some cameras (the corpus's Casio EX-S1) end a scan with restart markers with one more restart marker before
    /// EOI; libjpeg-turbo reads past it, and so does picpipe's decoder instead of declining.
    @Test func aRestartMarkerAfterTheLastIntervalClosesTheScan() throws {
        let variant = CJPEGShims_Variant(
            components: 3, lumaH: 2, lumaV: 2, restartInterval: 4, optimize: 1, quality: 85)
        let good = try Self.encode(width: 160, height: 96, variant, seed: 5)
        for marker: UInt8 in [0xD0, 0xD3, 0xD7] {
            let file = Array(good.dropLast(2)) + [0xFF, marker, 0xFF, 0xD9]
            for shrink in [1, 8] {
                let (ours, libjpeg, entropy) = Self.bothWays(file, shrink: shrink)
                #expect(entropy == .skipping, "RST \(marker) at 1/\(shrink)")
                #expect(ours == libjpeg, "RST \(marker) at 1/\(shrink): \(ours) vs \(libjpeg)")
                if case .refused = ours { Issue.record("RST \(marker) at 1/\(shrink): \(ours)") }
            }
        }
    }

    /// 0xFF fill bytes before a stuffed zero in the scan (what the JPEG fuzzer's differential check found): libjpeg-turbo's
    /// fast path reads the fill as a marker and redoes the MCU with its slow path over what it had already decoded, so
    /// its pixels differ from a clean decode's. picpipe's decoder leaves such files to it.
    @Test func fillBytesBeforeAStuffedZeroAreLeftToLibjpeg() throws {
        let variant = CJPEGShims_Variant(
            components: 3, lumaH: 2, lumaV: 2, restartInterval: 0, optimize: 0, quality: 95)
        let good = try Self.encode(width: 320, height: 240, variant, seed: 9)
        let scan = try #require(Self.scanStart(good))
        let stuffed = try #require((scan..<good.count - 3).first { good[$0] == 0xFF && good[$0 + 1] == 0x00 })
        let file = Array(good[..<stuffed]) + [0xFF, 0xFF] + Array(good[stuffed...])
        for shrink in [1, 2, 8] {
            let (ours, libjpeg, entropy) = Self.bothWays(file, shrink: shrink)
            #expect(entropy != .skipping, "1/\(shrink)")
            #expect(ours == libjpeg, "1/\(shrink): \(ours) vs \(libjpeg)")
        }
    }

    /// Where picpipe's decoder stops trusting the data: libjpeg-turbo decodes it again and gives its own verdict.
    @Test func damagedDataGetsLibjpegsVerdict() throws {
        var declined = 0
        var refused = 0
        for (name, variant) in Self.variants where variant.components == 3 {
            let good = try Self.encode(width: 96, height: 64, variant, seed: 7)
            let scan = try #require(Self.scanStart(good))
            var random: UInt64 = 42
            func next(_ bound: Int) -> Int {
                random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Int((random >> 33) % UInt64(bound))
            }
            var damaged: [(String, [UInt8])] = []
            for _ in 0..<40 {
                var file = good
                let at = scan + next(good.count - 2 - scan)
                file[at] ^= UInt8(1 << next(8))  // one bit flipped in the entropy-coded data
                damaged.append(("bit flipped at \(at)", file))
            }
            for _ in 0..<10 {
                let cut = scan + next(good.count - scan)
                damaged.append(("cut at \(cut)", Array(good[..<cut]) + [0xFF, 0xD9]))
            }
            for junk in [[0x12], [0x12, 0x34], [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]]
                as [[UInt8]]
            {
                damaged.append(("\(junk.count) bytes before EOI", Array(good.dropLast(2)) + junk + [0xFF, 0xD9]))
            }
            for (what, file) in damaged {
                for shrink in [1, 8] {
                    let (ours, libjpeg, entropy) = Self.bothWays(file, shrink: shrink)
                    #expect(ours == libjpeg, "\(name), \(what), 1/\(shrink): \(ours) vs \(libjpeg)")
                    if entropy == .declined { declined += 1 }
                    if case .refused = ours { refused += 1 }
                }
            }
        }
        // The damage must have reached both ends: files declined (libjpeg-turbo's decode ran again) and refused.
        #expect(declined > 20, "declined \(declined)")
        #expect(refused > 20, "refused \(refused)")
    }

    /// A decode whose rows were being resized on another thread as they came, then declined at its last MCU (junk
    /// before EOI that libjpeg-turbo reads without a warning): the rows already handed out are not written again,
    /// and the result is libjpeg-turbo's.
    @Test func aDeclineAfterRowsWereHandedOutGivesTheSameResult() throws {
        let variant = CJPEGShims_Variant(
            components: 3, lumaH: 2, lumaV: 2, restartInterval: 0, optimize: 1, quality: 90)
        let good = try Self.encode(width: 1200, height: 900, variant, seed: 3)
        let file = Array(good.dropLast(2)) + [0x5A] + [0xFF, 0xD9]
        let (ours, libjpeg, entropy) = Self.bothWays(file, shrink: 2)
        #expect(entropy == .declined)
        #expect(ours == libjpeg)
        guard case .pixels = libjpeg else {
            Issue.record("libjpeg-turbo takes one junk byte before EOI without a warning: \(libjpeg)")
            return
        }
        try file.withUnsafeBytes { raw in
            let header = try ImageHeader.read(from: raw)
            let (decoded, resized) = try JPEGDecoder.decode(
                raw, header: header, shrink: 2, limits: .default, resizingTo: (300, 225))
            let plain = try JPEGDecoder.decode(
                raw, header: header, shrink: 2, limits: .default, method: .init(libjpegEntropy: true))
            #expect(decoded.bytes == plain.bytes)
            if let resized {
                #expect(resized.bytes == ImageResizer.resize(plain, width: 300, height: 225).bytes)
            }
        }
    }

    /// Offset of the first byte after the SOS segment.
    static func scanStart(_ file: [UInt8]) -> Int? {
        var at = 2
        while at + 4 <= file.count, file[at] == 0xFF {
            let length = Int(file[at + 2]) << 8 | Int(file[at + 3])
            if file[at + 1] == 0xDA { return at + 2 + length }
            at += 2 + length
        }
        return nil
    }

    @Test func everyCorpusJPEGDecodesOrIsRefusedTheSameWay() throws {
        guard CorpusLocation.isAvailable else { return }  // ../shared/corpus absent
        var files: [URL] = []
        for folder in ["jpeg-exif", "jpeg-odd", "bad"] {
            let directory = CorpusLocation.directory.appendingPathComponent(folder)
            files += try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
                .map { directory.appendingPathComponent($0) }
                .filter { ["jpg", "jpeg", "mpo"].contains($0.pathExtension.lowercased()) }
        }
        try #require(files.count > 50)
        var decoders: [String: JPEGDecoder.EntropyDecoder] = [:]
        for url in files {
            let file = try [UInt8](Data(contentsOf: url))
            if file.count > 40_000_000 { continue }
            for shrink in [1, 8] {
                let (ours, libjpeg, entropy) = Self.bothWays(file, shrink: shrink)
                #expect(ours == libjpeg, "\(url.lastPathComponent) at 1/\(shrink): \(ours) vs \(libjpeg)")
                if shrink == 8 { decoders[url.lastPathComponent] = entropy }
            }
        }
        // Which decoder the corpus's odd files get: picpipe's for the single-scan layouts (restart markers, gray,
        // CMYK, fill bytes before EOI, partial MCUs), libjpeg-turbo's for the rest; junk before EOI is declined.
        let expected: [String: JPEGDecoder.EntropyDecoder] = [
            "baseline-testorig.jpg": .skipping, "restart-markers-dri5.jpg": .skipping,
            "grayscale-hopper.jpg": .skipping, "cmyk-ycck-adobe-pillow.jpg": .skipping,
            "multiple-ff-fill-before-eoi.jpg": .skipping, "size-17x17-partial-mcu.jpg": .skipping,
            "casio-ex-s1.jpg": .skipping,
            "extraneous-bytes-before-eoi.jpg": .declined, "progressive-cat.jpg": .libjpeg,
            "non-interleaved-scans.jpg": .libjpeg, "arithmetic-coded-testimgari.jpg": .libjpeg,
        ]
        for (name, decoder) in expected {
            #expect(decoders[name] == decoder, "\(name): \(String(describing: decoders[name]))")
        }
        let photos = decoders.filter { $0.key.hasPrefix("exif-") == false && $0.value == .skipping }
        #expect(photos.count > 20)
    }
}
