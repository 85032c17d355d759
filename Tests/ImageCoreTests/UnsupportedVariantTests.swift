// Intact files in a variant picpipe's libraries do not decode (12-bit or lossless JPEG, a HEIF feature libheif lacks)
// are refused as unsupported, never as corrupt: the camera's or phone's file is not damaged.
import Foundation
import Testing

@testable import ImageCore

struct UnsupportedVariantTests {
    /// `jpeg` (a baseline file, SOF0) with its frame header's marker and sample precision changed: what libjpeg-turbo
    /// reads before any scan, so it refuses the file as it refuses a real 12-bit or lossless one.
    static func reframed(_ jpeg: [UInt8], marker: UInt8, precision: UInt8) throws -> [UInt8] {
        var bytes = jpeg
        var at = 2
        while at + 4 < bytes.count, bytes[at] == 0xFF, bytes[at + 1] != 0xC0 {
            at += 2 + (Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]))
        }
        try #require(at + 4 < bytes.count && bytes[at + 1] == 0xC0, "no SOF0")
        bytes[at + 1] = marker
        bytes[at + 4] = precision
        return bytes
    }

    /// The refusal of `file` by the thumbnail path and by a plain decode, which must agree.
    static func refusal(_ file: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> ImageError {
        let rendered = try #require(throws: ImageError.self, sourceLocation: sourceLocation) {
            try TestPictures.render(file, [ThumbnailSpec(width: 32, height: 32)])
        }
        let decoded = try #require(throws: ImageError.self, sourceLocation: sourceLocation) {
            try TestPictures.decode(file)
        }
        #expect(rendered == decoded, sourceLocation: sourceLocation)
        if case .corrupt = rendered { Issue.record("called corrupt: \(rendered)", sourceLocation: sourceLocation) }
        return rendered
    }

    static let processes = "picpipe decodes baseline, extended and progressive JPEG"

    @Test func aJPEGWithOtherThan8BitSamplesOrLosslessCodingIsUnsupported() throws {
        let plain = try ImageEncoder.encode(TestPictures.photo(width: 64, height: 48), format: .jpeg)
        // Until session 34: "corrupt JPEG data: Unsupported JPEG data precision 12", "corrupt JPEG data: Unsupported
        // JPEG process: SOF type 0xc3".
        let cases: [(marker: UInt8, precision: UInt8, description: String)] = [
            (0xC1, 12, "unsupported JPEG: 12-bit samples (picpipe decodes 8-bit JPEG)"),
            (0xC2, 12, "unsupported JPEG: 12-bit samples (picpipe decodes 8-bit JPEG)"),
            (0xC3, 8, "unsupported JPEG: lossless coding (SOF3; \(Self.processes))"),
            (0xC3, 16, "unsupported JPEG: lossless coding with 16-bit samples (SOF3; \(Self.processes))"),
            (0xC5, 8, "unsupported JPEG: hierarchical coding (SOF5; \(Self.processes))"),
        ]
        for (marker, precision, description) in cases {
            let error = try Self.refusal(try Self.reframed(plain, marker: marker, precision: precision))
            #expect(error.description == description)
        }
        // What is damaged stays corrupt: the same file with its precision byte 8 but a scan cut into.
        var damaged = plain
        let scan = try #require((2..<damaged.count - 1).last { damaged[$0] == 0xFF && damaged[$0 + 1] == 0xDA })
        damaged.replaceSubrange((scan + 2)..<(scan + 4), with: [0x00, 0x01])
        let corrupt = try #require(throws: ImageError.self) { try TestPictures.decode(damaged) }
        #expect(corrupt.description.hasPrefix("corrupt JPEG data"), "\(corrupt)")
    }

    /// The corpus's own files (../shared/corpus, when there): a real 12-bit JPEG and two lossless ones.
    @Test(.enabled(if: CorpusLocation.isAvailable)) func theCorpusUnsupportedJPEGsAreNamedSo() throws {
        let expected = [
            "jpeg-odd/precision-12bit-monkey12.jpg": "unsupported JPEG: 12-bit samples (picpipe decodes 8-bit JPEG)",
            "jpeg-odd/lossless-sof3-8bit.jpg": "unsupported JPEG: lossless coding (SOF3; \(Self.processes))",
            "jpeg-odd/lossless-sof3-16bit.jpg":
                "unsupported JPEG: lossless coding with 16-bit samples (SOF3; \(Self.processes))",
        ]
        for (path, description) in expected {
            let file = try [UInt8](Data(contentsOf: CorpusLocation.directory.appendingPathComponent(path)))
            #expect(try Self.refusal(file).description == description, "\(path)")
        }
    }

    /// A 10-bit AVIF mirrored by its container (`imir`), which libheif 1.15 cannot apply to more than 8 bits.
    @Test func aHEIFFeatureLibheifLacksIsUnsupported() throws {
        guard ReferenceTools.available("avifenc") else { return }
        let work = try ReferenceTools.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let source = work.appendingPathComponent("source.png")
        try ReferenceTools.writePNG(TestPictures.quadrants(width: 64, height: 64), to: source)
        let mirrored = work.appendingPathComponent("mirrored.avif")
        try ReferenceTools.run("avifenc", ["-d", "10", "--imir", "0", "-s", "8", source.path, mirrored.path])
        let file = try ReferenceTools.bytes(mirrored)
        // Read as a header (the container is fine) and refused when decoded: until session 34 "corrupt AVIF data:
        // decoding the picture: Unsupported feature: Unspecified: Can currently only mirror images with 8 bits per
        // pixel".
        #expect(try TestPictures.header(file).format == .avif)
        let error = try Self.refusal(file)
        #expect(error.description.hasPrefix("unsupported AVIF: decoding the picture needs a feature libheif "))
        #expect(error.description.hasSuffix(" lacks: Can currently only mirror images with 8 bits per pixel"))
    }
}
