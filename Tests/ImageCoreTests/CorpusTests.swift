// The real-world corpus (../shared/corpus beside the checkout, skipped when absent): every `ok` row decodes to
// its listed size and renders, every `reject` row throws a specific ImageError, `either` rows follow picpipe's
// rule (see below), and no codec library writes anything to stderr.
//
// The rule for `either` rows: a JPEG is refused on any libjpeg warning (extraneous bytes, premature end, bad
// Huffman code: the entropy-coded data or the marker structure is not what an encoder wrote, so the pixels cannot
// be trusted); a PNG is accepted when libpng decodes every pixel and only warns about an ancillary chunk it skipped
// (bad CRC in iCCP/cLLI, misplaced sRGB, empty eXIf): the picture itself is intact.

import Foundation
import ImageCore
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.serialized, .enabled(if: CorpusLocation.isAvailable))
struct CorpusTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var path: String
        var format: String
        var verdict: String
        var width: Int?
        var height: Int?
        var orientation: Int?
        var testDescription: String { path }
    }

    static var corpusDirectory: URL { CorpusLocation.directory }

    static func rows() -> [Row] {
        guard
            let text = try? String(contentsOf: corpusDirectory.appendingPathComponent("MANIFEST.tsv"), encoding: .utf8)
        else { return [] }
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 9 else { return nil }
            return Row(
                path: fields[0], format: fields[3], verdict: fields[5], width: Int(fields[6]), height: Int(fields[7]),
                orientation: Int(fields[8]))
        }
    }

    /// The verdict picpipe gives an `either` row (see the rule at the top of this file).
    /// Files the manifest refuses only for being neither JPEG nor PNG that picpipe reads since it reads WebP, GIF,
    /// HEIC and AVIF, because the reference decoder reads them too: exiftool's RIFF.webp (dwebp decodes it). The
    /// other two such files stay refused, as their reference decoders refuse them: heic-named-as.jpg (an
    /// exiftool sample without its picture data; heif-convert: "Unexpected end of file") and
    /// gif-with-php-named-as.jpg (a GIF header then PHP; ImageMagick: "no images defined").
    static let readSinceTheManifest: Set<String> = ["bad/webp-named-as.png"]

    static func expectedVerdict(_ row: Row) -> String {
        if readSinceTheManifest.contains(row.path) { return "ok" }
        guard row.verdict == "either" else { return row.verdict }
        return row.format == "png" ? "ok" : "reject"
    }

    static func load(_ row: Row) throws -> [UInt8] {
        Array(try Data(contentsOf: corpusDirectory.appendingPathComponent(row.path)))
    }

    @Test(arguments: rows().filter { expectedVerdict($0) == "ok" })
    func acceptedFilesDecodeAndRender(row: Row) throws {
        let file = try Self.load(row)
        let header = try TestPictures.header(file)
        if let width = row.width, let height = row.height {
            #expect(header.width == width && header.height == height)
        }
        if let orientation = row.orientation {
            #expect(header.orientation == ((1...8).contains(orientation) ? orientation : 1))
        }
        let render = try TestPictures.render(file, [ThumbnailSpec(width: 256, height: 256)])
        let thumbnail = try #require(render.thumbnails.first)
        let decoded = try TestPictures.decode(thumbnail.bytes)
        #expect(decoded.pixels.width == thumbnail.width && decoded.pixels.height == thumbnail.height)
    }

    @Test(arguments: rows().filter { expectedVerdict($0) == "reject" })
    func rejectedFilesThrowASpecificError(row: Row) throws {
        let file = try Self.load(row)
        var caught: ImageError?
        let output = try Self.capturingStandardError {
            do {
                _ = try file.withUnsafeBytes {
                    try Thumbnailer.render($0, specs: [ThumbnailSpec(width: 256, height: 256)], limits: .default)
                }
            } catch let error as ImageError {
                caught = error
            } catch {
                Issue.record("not an ImageError: \(error)")
            }
        }
        let error = try #require(caught, "\(row.path) was accepted")
        #expect(!error.description.isEmpty)
        #expect(!error.description.contains("code "), "unspecific message: \(error)")
        #expect(output.isEmpty, "the codec wrote to stderr: \(output)")
    }

    @Test func theStderrCaptureKeepsWhatACodecWritesAndDropsTheTestRunnersLines() throws {
        let lines = [
            "✔ Test another() passed after 1.570 seconds.\n",
            "Corrupt JPEG data: 3 extraneous bytes before marker 0xd9\n",
            "  ◇ Test yetAnother() started.\n",
        ]
        let output = try Self.capturingStandardError {
            for line in lines { _ = line.withCString { write(2, $0, strlen($0)) } }
        }
        #expect(output == "Corrupt JPEG data: 3 extraneous bytes before marker 0xd9")
    }

    /// Runs `body` with file descriptor 2 redirected to a temporary file; returns what was written there, less the
    /// lines Swift Testing itself printed meanwhile (it reports on other tests running in parallel on fd 2 too, and
    /// once such a line was taken for the codec's). One capture at a time: fd 2 is the process's, and two at once
    /// would each restore the other's redirection.
    static func capturingStandardError(_ body: () throws -> Void) throws -> String {
        try captureLock.withLock { _ in
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("imagecore-stderr-\(getpid())")
                .path
            let capture = open(path, O_CREAT | O_TRUNC | O_RDWR, 0o600)
            try #require(capture >= 0)
            let saved = dup(2)
            fflush(nil)
            dup2(capture, 2)
            defer {
                fflush(nil)
                dup2(saved, 2)
                close(saved)
                close(capture)
                unlink(path)
            }
            try body()
            fflush(nil)
            let written = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return written.split(separator: "\n", omittingEmptySubsequences: true)
                .filter { line in !line.drop { $0 == " " }.hasPrefix(testingSymbols) }.joined(separator: "\n")
        }
    }

    private static let captureLock = Mutex(())

    /// How Swift Testing's console lines start (started, passed, failed, skipped, details, warning).
    private static let testingSymbols = ["◇", "✔", "✘", "➜", "↳", "⚠"]
}

extension Substring {
    fileprivate func hasPrefix(_ prefixes: [String]) -> Bool { prefixes.contains { hasPrefix($0) } }
}

/// Where the shared corpus lives: `../shared/corpus` next to the package root.
enum CorpusLocation {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/corpus").standardized

    static var isAvailable: Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("MANIFEST.tsv").path)
    }
}
