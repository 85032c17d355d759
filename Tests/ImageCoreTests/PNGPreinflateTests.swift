// libdeflate inflating PNG image data ahead of libpng (CPNGShims_open's preinflate) changes nothing but speed:
// every file decodes to the same bytes, or is refused with the same message, as when libpng inflates it itself.

import Foundation
@testable import ImageCore
import Testing

struct PNGPreinflateTests {
    /// What one decode gave.
    enum Outcome: Equatable {
        case pixels(width: Int, height: Int, channels: Int, bytes: [UInt8])
        /// The stream decoder declined (interlaced, a non-sRGB gAMA): the full decoder takes the file.
        case declined
        case refused(String)
        case noHeader
    }

    /// The streamed decode of `file` at `shrink`, with and without the early inflate, and whether it was used.
    static func bothWays(_ file: [UInt8], shrink: Int) -> (ahead: Outcome, libpng: Outcome, preinflated: Bool) {
        file.withUnsafeBytes { raw in
            // As the decoder: the header's limits first (the corpus has bombs declaring 65536 x 65536).
            guard let header = try? ImageHeader.read(from: raw), header.format == .png,
                (try? DecodeLimits.default.check(header)) != nil
            else {
                return (.noHeader, .noHeader, false)
            }
            func run(_ preinflate: Bool) -> (Outcome, Bool) {
                do {
                    guard
                        let result = try PNGStreamDecoder.decodeReportingPreinflate(
                            raw, header: header, shrink: shrink, preinflate: preinflate)
                    else { return (.declined, false) }
                    let pixels = result.pixels
                    return (
                        .pixels(
                            width: pixels.width, height: pixels.height, channels: pixels.channels,
                            bytes: pixels.bytes), result.preinflated
                    )
                } catch {
                    return (.refused("\(error)"), false)
                }
            }
            let (ahead, preinflated) = run(true)
            let (libpng, neverPreinflated) = run(false)
            #expect(!neverPreinflated)
            return (ahead, libpng, preinflated)
        }
    }

    static func corpusPNGs() throws -> [URL] {
        guard CorpusLocation.isAvailable else { return [] }
        return try ["png-suite", "png-odd"].flatMap { folder -> [URL] in
            let directory = CorpusLocation.directory.appendingPathComponent(folder)
            return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
                .filter { $0.hasSuffix(".png") }.map { directory.appendingPathComponent($0) }
        }
    }

    @Test func everyCorpusPNGDecodesOrIsRefusedTheSameWay() throws {
        let files = try Self.corpusPNGs()
        guard !files.isEmpty else { return }  // ../shared/corpus absent
        var preinflated: Set<String> = []
        for url in files {
            let file = try [UInt8](Data(contentsOf: url))
            for shrink in [1, 2] {
                let result = Self.bothWays(file, shrink: shrink)
                #expect(result.ahead == result.libpng, "\(url.lastPathComponent) at shrink \(shrink)")
                if result.preinflated { preinflated.insert(url.lastPathComponent) }
            }
        }
        // Files the early inflate must take: 8-bit gray, RGB and RGBA, each of the five filter types, zlib levels
        // 0 to 9. (Most of PngSuite carries a gAMA of 1.0, which sends it to the full decoder either way.)
        let expected: Set<String> = [
            "f00n0g08.png", "f01n0g08.png", "f02n0g08.png", "f03n0g08.png", "f04n0g08.png", "f00n2c08.png",
            "f01n2c08.png", "f02n2c08.png", "f03n2c08.png", "f04n2c08.png", "z00n2c08.png", "z03n2c08.png",
            "z06n2c08.png", "z09n2c08.png", "exif-chunk-rgba.png",
        ]
        let missing = expected.subtracting(preinflated)
        #expect(missing.isEmpty, "not inflated ahead: \(missing.sorted())")
        // Never a file the early inflate cannot lay out. PngSuite's names say it: an "i" fourth for interlaced,
        // then the colour type and bit depth ("3p" palette, "16" 16-bit, "g01" to "g04" below 8 bits).
        let outOfReach = preinflated.filter { name in
            let letters = Array(name)
            return letters.count == 12 && (letters[3] == "i" || name.hasSuffix("16.png") || name.contains("3p")
                || ["g01.png", "g02.png", "g04.png"].contains { name.hasSuffix($0) })
        }
        #expect(outOfReach.isEmpty, "inflated ahead: \(outOfReach.sorted())")
    }

    /// A 8-bit RGB picture written with stored deflate blocks (TestPictures' writer), the early inflate's case.
    static func rgb(width: Int = 120, height: Int = 90) -> [UInt8] {
        var samples = [Int]()
        for y in 0..<height {
            for x in 0..<width { samples += [x * 255 / width, y * 255 / height, (x * y) & 255] }
        }
        return TestPictures.png(width: width, height: height, colorType: 2, bitDepth: 8, samples: samples)
    }

    /// The offset of the first chunk of `type`.
    static func chunk(_ type: String, in file: [UInt8]) -> Int? {
        var offset = 8
        while offset + 12 <= file.count {
            let length = file[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            if String(decoding: file[offset + 4..<offset + 8], as: UTF8.self) == type { return offset }
            offset += 12 + length
        }
        return nil
    }

    @Test func damagedImageDataIsLeftToLibpngAndRefusedAsItRefusesIt() throws {
        let good = Self.rgb()
        let plain = Self.bothWays(good, shrink: 1)
        #expect(plain.preinflated && plain.ahead == plain.libpng)
        if case .pixels = plain.ahead {} else { Issue.record("the good file decodes: \(plain.ahead)") }

        let idat = try #require(Self.chunk("IDAT", in: good))
        let length = good[idat..<idat + 4].reduce(0) { $0 << 8 | Int($1) }
        var badCRC = good
        badCRC[idat + 8 + length] ^= 0xFF  // the IDAT's CRC
        var badAdler = good
        badAdler[idat + 8 + length - 1] ^= 0xFF  // the last byte of the zlib stream's Adler-32
        var badCRCAndAdler = badAdler
        badCRCAndAdler[idat + 8 + length] ^= 0xFF
        // IHDR says one row fewer: the stream holds more than the rows (libpng: "Too much image data", a warning).
        var shorter = good
        shorter[16 + 7] -= 1
        let ihdrCRC = TestPictures.crc32(Array(shorter[12..<29]))
        shorter.replaceSubrange(29..<33, with: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: ihdrCRC >> $0) })
        for (name, file) in [("bad IDAT CRC", badCRC), ("bad Adler-32", badAdler), ("both", badCRCAndAdler),
                             ("more data than rows", shorter)] {
            let result = Self.bothWays(file, shrink: 1)
            #expect(!result.preinflated, "\(name)")
            #expect(result.ahead == result.libpng, "\(name): \(result.ahead) vs \(result.libpng)")
        }
    }

    @Test(arguments: [0, 2, 4, 6])
    func eachEightBitColourTypeIsInflatedAheadToTheSamePixels(colorType: Int) throws {
        let file = PNGStreamingTests.file(colorType: colorType, bitDepth: 8, interlaced: false)
        for shrink in [1, 3] {
            let result = Self.bothWays(file, shrink: shrink)
            #expect(result.preinflated)
            #expect(result.ahead == result.libpng)
            if case .pixels = result.ahead {} else { Issue.record("colour type \(colorType): \(result.ahead)") }
        }
    }

    @Test func theImageDataSplitOverManyIDATChunksIsInflatedAhead() throws {
        let good = Self.rgb(width: 300, height: 200)
        let idat = try #require(Self.chunk("IDAT", in: good))
        let length = good[idat..<idat + 4].reduce(0) { $0 << 8 | Int($1) }
        let stream = Array(good[idat + 8..<idat + 8 + length])
        var split = Array(good[0..<idat])
        for start in stride(from: 0, to: stream.count, by: 7000) {
            split += TestPictures.chunk("IDAT", Array(stream[start..<min(stream.count, start + 7000)]))
        }
        split += good[(idat + 12 + length)...]
        let result = Self.bothWays(split, shrink: 2)
        #expect(result.preinflated)
        #expect(result.ahead == result.libpng)
        #expect(result.ahead == Self.bothWays(good, shrink: 2).libpng)
    }
}
