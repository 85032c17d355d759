// S3's AbortIncompleteMultipartUpload here: uploads older than aws.multipart_expiry_days are aborted by the sweep
// serve runs at start and every hour; younger ones are left alone. The clock is the sweep's `now`.
import Foundation
import Logging
import PipelineCore
import Testing

@testable import AWSGateway

@Suite struct MultipartExpiryTests {
    @Test func theSweepAbortsUploadsOlderThanTheExpiryWithTheirParts() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("expiry-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let uploads = MultipartUploads(layout: StoreLayout(root: root))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let day: TimeInterval = 86_400
        let old = try uploads.create(
            MultipartUpload(key: "old.jpg", contentType: nil, metadata: [:], initiated: now - 8 * day))
        let young = try uploads.create(
            MultipartUpload(key: "young.jpg", contentType: nil, metadata: [:], initiated: now - 6 * day))
        let part = try #require(uploads.folder(old)).appendingPathComponent(MultipartUploads.partName(1))
        try Data(repeating: 7, count: 1024).write(to: part)

        let expiry = MultipartExpiry(
            uploads: uploads, expiry: 7 * day, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        #expect(expiry.sweep(now: now) == 1)
        #expect(uploads.folder(old) == nil)
        #expect(!FileManager.default.fileExists(atPath: part.path))
        #expect(uploads.all().map(\.id) == [young])
        // A day later the other one has had its seven days too.
        #expect(expiry.sweep(now: now + 1.5 * day) == 1)
        #expect(uploads.all().isEmpty)
    }
}
