// Where the shared real-world corpus lives, relative to the package root.
import Foundation

enum CorpusLocation {
    /// ../shared/corpus beside the checkout.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/corpus")

    static var hasExpectedExif: Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent("expected-exif.jsonl").path)
    }

    static var hasManifest: Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent("MANIFEST.tsv").path)
    }
}
