// What the image fuzzers found (scripts/fuzz.sh), each with the input that found it (Fixtures/fuzz/<harness>/):
// the decoders must answer these files with a picture or an ImageError, never a trap or freed memory.
import Foundation
import ImageCore
import Testing

@Suite struct FuzzFindingsTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/fuzz")

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: fixtures.appendingPathComponent(path)) }

    /// The header probe's answer for a fixture. A Result, not a typed-throws closure inside #expect(throws:): Swift
    /// 6.3.1's IRGen crashes on the thunk that turns `(UnsafeRawBufferPointer) throws(ImageError) -> ()` into an
    /// untyped-throws one.
    static func header(_ path: String) throws -> Result<ImageHeader, ImageError> {
        try bytes(path).withUnsafeBytes { raw in Result { () throws(ImageError) in try ImageHeader.read(from: raw) } }
    }

    /// libheif's error message lives in its context: it must be read before the context is freed (the HEIFThumbnail
    /// fuzzer found it read after, a heap use-after-free that printed garbage or nothing). It found it on a file cut
    /// inside its `meta` box, which picpipe now calls truncated before libheif reads it (the test below); these two
    /// files have their `pitm` box renamed, so libheif refuses them itself.
    @Test(arguments: [
        "HEIFThumbnail/refused-no-pitm-box-17x17.avif",
        "HEIFThumbnail/refused-no-pitm-box-17x17.heic",
    ])
    func aDamagedHEIFContainerSaysWhatLibheifSaid(_ path: String) throws {
        let read = try Self.header(path)
        guard case .failure(let error) = read else {
            Issue.record("\(path) was read: \(read)")
            return
        }
        let text = error.description
        let marker = "reading the container: "
        let detail = try #require(text.range(of: marker).map { String(text[$0.upperBound...]) }, "\(text)")
        // libheif's own words: at least a few characters of printable ASCII, never freed memory's leftovers.
        #expect(detail.count >= 8, "\(path): '\(text)'")
        #expect(detail.unicodeScalars.allSatisfy { (0x20..<0x7F).contains($0.value) }, "\(path): '\(text)'")
    }

    /// A HEIF file that ends inside its `meta` box is truncated, not corrupt: libheif would say "no 'meta' box",
    /// and the metadata service, which reads the head of a file first, would refuse a good file whose `meta` box
    /// is longer than the head (the ExifMetadata fuzzer's finding, `accepted-heic-head-ends-inside-meta.heic`).
    @Test(arguments: [
        "HEIFThumbnail/refused-truncated-17x17-error-message-use-after-free.avif",
        "HEIFThumbnail/refused-truncated-17x17.heic",
    ])
    func aHEIFFileCutInsideItsMetaBoxIsTruncated(_ path: String) throws {
        let read = try Self.header(path)
        guard case .failure(.truncated(let detail)) = read else {
            Issue.record("\(path): \(read)")
            return
        }
        #expect(detail.contains("ends before its 'meta' box does"), "\(path): \(detail)")
        // The whole file, from which it was cut, reads.
        let whole = try Self.header(
            path.replacingOccurrences(of: "refused-truncated-", with: "accepted-")
                .replacingOccurrences(of: "-error-message-use-after-free", with: ""))
        #expect(throws: Never.self) { try whole.get() }
    }

    /// A HEIC whose primary grid lists itself as a tile (a `dimg` reference from item 2 to item 2): libheif 1.15
    /// followed it without end, starting threads until none were left (the process aborted) or, on one thread,
    /// overflowing its stack. It is refused before libheif decodes, and says why.
    @Test func aHEIFWhoseDerivedImagesReferToThemselvesIsRefused() throws {
        let read = try Self.header("HEIFThumbnail/refused-dimg-cycle-libheif-recursion-685-bytes.heic")
        guard case .failure(.corrupt(let format, let detail)) = read else {
            Issue.record("\(read)")
            return
        }
        #expect(format == .heic)
        #expect(detail.contains("'dimg' cycle"), "\(detail)")
    }

    /// A GIF frame whose left edge is past the logical screen's right edge (the GIFThumbnail fuzzer: a 5x200 screen,
    /// a 5x200 frame at left 64) made the row loop's range negative, a trap that ended the process at the first row;
    /// now its rows are read and left off the screen, and this file's damaged pixel data further on is refused.
    @Test func aGIFFrameRightOfTheScreenIsReadNotATrap() throws {
        let bytes = try Self.bytes("GIFThumbnail/refused-frame-right-of-screen-range-trap.gif")
        let render = bytes.withUnsafeBytes { raw in
            Result { () throws(ImageError) in
                try Thumbnailer.render(
                    raw, specs: [ThumbnailSpec(width: 16, height: 16, format: .png)],
                    limits: DecodeLimits(maxPixels: 16_000_000, maxFileBytes: 4 * 1024 * 1024))
            }
        }
        guard case .failure(let error) = render else {
            Issue.record("the damaged GIF was rendered")
            return
        }
        #expect(error.description.contains("reading the first image's pixels"), "\(error)")
    }
}
