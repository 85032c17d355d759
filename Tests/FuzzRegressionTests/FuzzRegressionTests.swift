// Every input kept under Fixtures/fuzz/<harness>/ goes through its harness's function again: findings stay fixed,
// and the seeds that reach deep paths keep reaching them without a crash.
import Foundation
import FuzzSupport
import Testing

@testable import FuzzAWSSignature
@testable import FuzzExifMetadata
@testable import FuzzGIFThumbnail
@testable import FuzzHEIFThumbnail
@testable import FuzzJPEGThumbnail
@testable import FuzzMultipartUpload
@testable import FuzzPNGThumbnail
@testable import FuzzRawRequestHead
@testable import FuzzRequestParameters
@testable import FuzzWebPThumbnail

struct FuzzRegressionTests {
    /// The harnesses, by the folder name their fixtures use.
    static let harnesses = [
        "JPEGThumbnail", "PNGThumbnail", "WebPThumbnail", "GIFThumbnail", "HEIFThumbnail", "ExifMetadata",
        "MultipartUpload", "RequestParameters", "AWSSignature", "RawRequestHead",
    ]

    static func harness(named name: String) -> (UnsafeRawBufferPointer) -> FuzzOutcome {
        switch name {
        case "JPEGThumbnail": return JPEGThumbnailHarness.run
        case "PNGThumbnail": return PNGThumbnailHarness.run
        case "ExifMetadata": return ExifMetadataHarness.run
        case "WebPThumbnail": return WebPThumbnailHarness.run
        case "GIFThumbnail": return GIFThumbnailHarness.run
        case "HEIFThumbnail": return HEIFThumbnailHarness.run
        case "MultipartUpload": return MultipartUploadHarness.run
        case "AWSSignature": return AWSSignatureHarness.run
        case "RawRequestHead": return RawRequestHeadHarness.run
        default: return RequestParametersHarness.run
        }
    }

    static func fixtures(of harness: String) throws -> [URL] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/fuzz/\(harness)")
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension != "md" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Each fixture gives a clean result or a clean error, never a broken invariant; a name starting with
    /// `accepted-` or `refused-` also fixes which of the two.
    @Test(arguments: harnesses)
    func fixturesRunCleanly(harness name: String) throws {
        let files = try Self.fixtures(of: name)
        #expect(!files.isEmpty, "no fixtures for \(name)")
        let run = Self.harness(named: name)
        for file in files {
            let bytes = try Data(contentsOf: file)
            let outcome = bytes.withUnsafeBytes { run($0) }
            let fileName = file.lastPathComponent
            switch outcome {
            case .invariantBroken(let problem):
                Issue.record("\(name)/\(fileName): \(problem)")
            case .accepted:
                #expect(!fileName.hasPrefix("refused-"), "\(name)/\(fileName): \(outcome)")
            case .refused:
                #expect(!fileName.hasPrefix("accepted-"), "\(name)/\(fileName): \(outcome)")
            }
        }
    }
}
