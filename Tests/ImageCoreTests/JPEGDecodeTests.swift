// JPEG decoding through the shim: faithful pixels, scaled sizes, and truncation refused quietly.

import ImageCore
import Testing

struct JPEGDecodeTests {
    @Test func fullDecodeIsFaithful() throws {
        let source = TestPictures.photo(width: 123, height: 77)
        let decoded = try TestPictures.decode(try ImageEncoder.encode(source, format: .jpeg, quality: 95))
        #expect(decoded.shrink == 1 && decoded.pixels.width == 123 && decoded.pixels.height == 77)
        #expect(TestPictures.meanAbsoluteDifference(decoded.pixels, source) < 4)
    }

    @Test(arguments: [(100, 75, 8), (200, 150, 4), (202, 150, 2), (402, 301, 2), (403, 301, 1)])
    func scaledDecodeHasTheScaledSize(minimumWidth: Int, minimumHeight: Int, shrink: Int) throws {
        let file = try ImageEncoder.encode(TestPictures.photo(width: 803, height: 601), format: .jpeg)
        let decoded = try TestPictures.decode(file, minimumSize: (minimumWidth, minimumHeight))
        #expect(decoded.shrink == shrink)
        #expect(decoded.pixels.width == (803 + shrink - 1) / shrink)
        #expect(decoded.pixels.height == (601 + shrink - 1) / shrink)
        #expect(decoded.pixels.bytes.count == decoded.pixels.width * decoded.pixels.height * 3)
    }

    @Test func truncatedFileIsRefusedWithoutAWordOnStderr() throws {
        let file = try ImageEncoder.encode(TestPictures.photo(width: 320, height: 240), format: .jpeg, quality: 90)
        for length in [file.count - 2, file.count * 3 / 4, file.count / 3, 700, 200] {
            var caught: ImageError?
            let output = try CorpusTests.capturingStandardError {
                do {
                    _ = try TestPictures.decode(
                        Array(file.prefix(length)), minimumSize: length % 2 == 0 ? (40, 30) : nil)
                } catch let error as ImageError {
                    caught = error
                } catch {
                    Issue.record("not an ImageError: \(error)")
                }
            }
            #expect(output.isEmpty)
            let error = try #require(caught, "a file cut at \(length) of \(file.count) bytes was accepted")
            switch error {
            case .truncated, .corrupt: break
            default: Issue.record("unexpected error for a truncated file: \(error)")
            }
        }
    }
}
