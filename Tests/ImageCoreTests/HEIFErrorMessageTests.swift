// libheif's error message lives in its context: a damaged container's error must be read before the context is freed
// (the HEIFThumbnail fuzzer found it read after, a heap use-after-free that printed garbage or nothing).
import Foundation
import ImageCore
import Testing

@Suite struct HEIFErrorMessageTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/fuzz/HEIFThumbnail")

    @Test(arguments: ["refused-truncated-17x17-error-message-use-after-free.avif", "refused-truncated-17x17.heic"])
    func aDamagedContainerSaysWhatLibheifSaid(_ name: String) throws {
        let bytes = try Data(contentsOf: Self.fixtures.appendingPathComponent(name))
        let error = #expect(throws: ImageError.self) {
            try bytes.withUnsafeBytes { raw throws(ImageError) in _ = try ImageHeader.read(from: raw) }
        }
        let text = try #require(error).description
        let marker = "reading the container: "
        let detail = try #require(text.range(of: marker).map { String(text[$0.upperBound...]) }, "\(text)")
        // libheif's own words: at least a few characters of printable ASCII, never freed memory's leftovers.
        #expect(detail.count >= 8, "\(name): '\(text)'")
        #expect(detail.unicodeScalars.allSatisfy { (0x20..<0x7F).contains($0.value) }, "\(name): '\(text)'")
    }
}
