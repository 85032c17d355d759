// serve aborts the multipart uploads older than aws.multipart_expiry_days when it starts (and every hour): an
// upload abandoned two days ago is gone with its parts under a one-day expiry, one begun now stays; a folder left
// without its record as long ago goes too.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSMultipartExpiryTests {
        @Test func serveAbortsExpiredUploadsWhenItStarts() async throws {
            guard await AWSTools.available() else { return }
            let root = try PicpipeProcess.temporaryFolder("aws-expiry")
            defer { try? FileManager.default.removeItem(at: root) }
            let store = root.appendingPathComponent("store")
            let uploads = store.appendingPathComponent("uploads/.picpipe-s3-multipart")
            let abandoned = String(repeating: "a", count: 32)
            // As CreateMultipartUpload records an upload (JSONEncoder's dates), two days ago, with a part.
            let folder = uploads.appendingPathComponent(abandoned)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let record =
                #"{"key": "old.jpg", "metadata": {}, "initiated": \#(Date().timeIntervalSinceReferenceDate - 2 * 86_400)}"#
            try Data(record.utf8).write(to: folder.appendingPathComponent("upload.json"))
            try Data(repeating: 1, count: 4096).write(to: folder.appendingPathComponent("part-00001"))
            // What a part that arrived while its upload was aborted left until session 33: a folder with the part's
            // files and no record, two days old.
            let leftover = uploads.appendingPathComponent(String(repeating: "b", count: 32))
            try FileManager.default.createDirectory(at: leftover, withIntermediateDirectories: true)
            try Data("\"etag\"".utf8).write(to: leftover.appendingPathComponent("part-00002.etag"))
            try FileManager.default.setAttributes(
                [.modificationDate: Date() - 2 * 86_400], ofItemAtPath: leftover.path)

            let gateway = try await AWSServe.start(
                root: root, store: store, environment: ["PICPIPE_AWS_MULTIPART_EXPIRY_DAYS": "1"])
            do {
                #expect(!FileManager.default.fileExists(atPath: folder.path))
                #expect(!FileManager.default.fileExists(atPath: leftover.path))
                let created = try await gateway.awsJSON([
                    "s3api", "create-multipart-upload", "--bucket", "uploads", "--key", "new.jpg",
                ])
                let listed = try await gateway.awsJSON(["s3api", "list-multipart-uploads", "--bucket", "uploads"])
                let ids = (listed["Uploads"] as? [[String: Any]] ?? []).compactMap { $0["UploadId"] as? String }
                #expect(ids == [created["UploadId"] as? String ?? "-"])
            } catch {
                print(gateway.serve.log.suffix(4000))
                await gateway.stop()
                throw error
            }
            await gateway.stop()
        }
    }
}
