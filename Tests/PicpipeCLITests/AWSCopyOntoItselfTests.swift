// `aws s3 mv` of an original into `uploads` with the real AWS CLI: the copy is an upload of the original's own bytes,
// so content addressing makes it that very original; the CLI then deletes the source. It deleted the picture and
// reported success. Now the copy is refused as S3 refuses a copy onto itself (InvalidRequest), small (CopyObject)
// and large (UploadPartCopy parts, refused at CompleteMultipartUpload), and the picture stays with its thumbnails.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSCopyOntoItselfTests {
        /// The store's files of a content: its original and its thumbnails.
        static func files(of hash: String, in store: URL) -> [String] {
            (ServeProcess.files(store, "originals").map { "originals/" + $0 }
                + ServeProcess.files(store, "thumbnails").map { "thumbnails/" + $0 }).filter { $0.contains(hash) }
        }

        @Test func movingAnOriginalIntoUploadsIsRefusedAndThePictureStays() async throws {
            try await AWSCLITests.withServe { gateway in
                let store = gateway.store
                let small = gateway.root.appendingPathComponent("small.jpg")
                let smallBytes = try AWSCLITests.jpeg(seed: 71)
                try Data(smallBytes).write(to: small)
                let large = gateway.root.appendingPathComponent("large.jpg")
                let largeBytes = try AWSCLITests.largeJPEG()
                try Data(largeBytes).write(to: large)
                for (file, name) in [(small, "small.jpg"), (large, "large.jpg")] {
                    let put = try await gateway.aws(["s3", "cp", file.path, "s3://uploads/" + name, "--no-progress"])
                    #expect(put.status == 0, "\(put.stderr)")
                }
                let hashes = [AWSCLITests.hash(smallBytes), AWSCLITests.hash(largeBytes)]
                try await ServeProcess.eventually("both pictures' thumbnails") {
                    hashes.allSatisfy { Self.files(of: $0, in: store).count == 4 }
                }

                // Small: CopyObject, then (were it a success) DeleteObject of the source. Large (over 8 MB): the
                // CLI copies in parts (UploadPartCopy) and completes, then deletes.
                for (hash, bytes) in zip(hashes, [smallBytes, largeBytes]) {
                    let before = Self.files(of: hash, in: store)
                    let moved = try await gateway.aws([
                        "s3", "mv", "s3://originals/\(AWSCLITests.originalKey(hash))", "s3://uploads/renamed/me.jpg",
                        "--no-progress",
                    ])
                    #expect(moved.status != 0, "the move must fail: \(moved.stdout)")
                    #expect(moved.stderr.contains("InvalidRequest"), "\(moved.stderr)")
                    #expect(Self.files(of: hash, in: store) == before)
                    let original = store.appendingPathComponent("originals/" + AWSCLITests.originalKey(hash))
                    #expect(try Data(contentsOf: original) == Data(bytes))
                }
                // The CLI aborted the refused multipart copy: nothing of it is left.
                let uploads = try await gateway.awsJSON(["s3api", "list-multipart-uploads", "--bucket", "uploads"])
                #expect((uploads["Uploads"] as? [Any] ?? []).isEmpty, "\(uploads)")
                #expect(ServeProcess.files(store, "uploads").isEmpty)

                // Uploading bytes that equal a stored original stays a success, in one part or in parts the
                // client sends.
                for (file, name) in [(small, "again.jpg"), (large, "again-large.jpg")] {
                    let put = try await gateway.aws(["s3", "cp", file.path, "s3://uploads/" + name, "--no-progress"])
                    #expect(put.status == 0, "\(put.stderr)")
                }
                #expect(hashes.allSatisfy { Self.files(of: $0, in: store).count == 4 })
            }
        }
    }
}

extension PicpipeCLI.AWSCopyOntoItselfTests {
    /// A copy of an original with new metadata (`REPLACE`) is refused too: `aws s3 mv … --metadata k=v` sends
    /// one and then deletes the source, which is the picture. The refusal says how to change the metadata: upload
    /// the same bytes again with it (until session 37 it only said how to run the functions again).
    @Test func aCopyOfAnOriginalWithNewMetadataIsRefusedAndSaysHowToChangeIt() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            let file = gateway.root.appendingPathComponent("p.jpg")
            let bytes = try PicpipeCLI.AWSCLITests.jpeg(seed: 374)
            try Data(bytes).write(to: file)
            let put = try await gateway.aws(["s3", "cp", file.path, "s3://uploads/p.jpg", "--no-progress"])
            #expect(put.status == 0, "\(put.stderr)")
            let key = PicpipeCLI.AWSCLITests.originalKey(PicpipeCLI.AWSCLITests.hash(bytes))
            let replace = try await gateway.aws([
                "s3api", "copy-object", "--copy-source", "originals/\(key)", "--bucket", "uploads", "--key", "x.jpg",
                "--metadata-directive", "REPLACE", "--metadata", "new=1",
            ])
            #expect(replace.status != 0, "\(replace.stdout)")
            #expect(replace.stderr.contains("InvalidRequest"), "\(replace.stderr)")
            #expect(replace.stderr.contains("upload the same bytes again with it"), "\(replace.stderr)")
            let moved = try await gateway.aws([
                "s3", "mv", "s3://originals/\(key)", "s3://uploads/x.jpg", "--metadata", "new=1", "--no-progress",
            ])
            #expect(moved.status != 0, "the move must fail: \(moved.stdout)")
            let original = gateway.store.appendingPathComponent("originals/" + key)
            #expect(try Data(contentsOf: original) == Data(bytes))
        }
    }
}
