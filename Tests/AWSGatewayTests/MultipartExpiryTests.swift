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

    /// A folder left without its record (a part that arrived while its upload was aborted recreated it, until
    /// session 33) is no upload: no listing, abort or completion sees it. The sweep removes it once it has not
    /// changed for the expiry; a younger one, and a folder whose record is there, stay.
    @Test func theSweepRemovesFoldersLeftWithoutTheirRecord() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("leftovers-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let uploads = MultipartUploads(layout: StoreLayout(root: root))
        let now = Date()
        let day: TimeInterval = 86_400
        let live = try uploads.create(
            MultipartUpload(key: "live.jpg", contentType: nil, metadata: [:], initiated: now))
        let liveFolder = try #require(uploads.folder(live))
        var leftovers: [URL] = []
        for (name, age) in [(String(repeating: "a", count: 32), 8 * day), (String(repeating: "b", count: 32), day)] {
            let folder = uploads.root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data("\"etag\"".utf8).write(to: folder.appendingPathComponent("part-00002.etag"))
            try Data("5".utf8).write(to: folder.appendingPathComponent("part-00002.placed"))
            try FileManager.default.setAttributes([.modificationDate: now - age], ofItemAtPath: folder.path)
            leftovers.append(folder)
        }
        // An upload's folder unchanged as long is still an upload: only its initiation counts.
        try FileManager.default.setAttributes([.modificationDate: now - 8 * day], ofItemAtPath: liveFolder.path)

        let expiry = MultipartExpiry(
            uploads: uploads, expiry: 7 * day, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        #expect(expiry.sweep(now: now) == 0)
        #expect(!FileManager.default.fileExists(atPath: leftovers[0].path))
        #expect(FileManager.default.fileExists(atPath: leftovers[1].path))
        #expect(uploads.all().map(\.id) == [live])
        #expect(expiry.sweep(now: now + 6.5 * day) == 0)
        #expect(!FileManager.default.fileExists(atPath: leftovers[1].path))
        #expect(uploads.all().map(\.id) == [live])
    }
}
