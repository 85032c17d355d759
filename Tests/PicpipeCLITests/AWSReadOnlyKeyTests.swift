// A key with `read_only: true` in aws.credentials, used by the real AWS CLI: it lists, reads, presigns downloads and
// reads function settings; every write, delete and invocation is AccessDenied (S3) or AccessDeniedException
// (Lambda). The README's viewer key (buckets [originals, thumbnails]) could `aws s3 rm` an original: buckets limit
// where a key goes, not what it does there.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSReadOnlyKeyTests {
        static let configuration = """
            aws:
              credentials:
                - {access_key_id: viewer, secret_access_key: s3cret-2, buckets: [originals, thumbnails], read_only: true}
                - {access_key_id: reader, secret_access_key: s3cret-3, read_only: true}
            """

        @Test func aReadOnlyKeyReadsButNeitherWritesNorDeletesNorInvokes() async throws {
            guard await AWSTools.available() else { return }
            let root = try PicpipeProcess.temporaryFolder("aws-read-only")
            defer { try? FileManager.default.removeItem(at: root) }
            let config = root.appendingPathComponent("picpipe.yaml")
            try Data(Self.configuration.utf8).write(to: config)
            try await AWSCLITests.withServe(environment: ["PICPIPE_CONFIG": config.path]) { gateway in
                let store = gateway.store
                let file = gateway.root.appendingPathComponent("photo.jpg")
                let bytes = try AWSCLITests.jpeg(seed: 81)
                try Data(bytes).write(to: file)
                let hash = AWSCLITests.hash(bytes)
                let key = AWSCLITests.originalKey(hash)
                #expect(
                    try await gateway.aws(["s3", "cp", file.path, "s3://uploads/photo.jpg", "--no-progress"]).status
                        == 0)
                try await ServeProcess.eventually("the thumbnails") {
                    ServeProcess.files(store, "thumbnails").filter { $0.contains(hash) }.count == 3
                }
                let stored = ServeProcess.files(store, "originals") + ServeProcess.files(store, "thumbnails")

                func aws(_ id: String, _ secret: String, _ arguments: [String]) async throws -> PicpipeProcess.Output {
                    var environment = gateway.environment()
                    environment["AWS_ACCESS_KEY_ID"] = id
                    environment["AWS_SECRET_ACCESS_KEY"] = secret
                    return try await AWSTools.run(
                        AWSTools.aws, ["--endpoint-url", gateway.endpoint] + arguments, environment: environment)
                }
                for (id, secret) in [("viewer", "s3cret-2"), ("reader", "s3cret-3")] {
                    // Reading works.
                    let listing = try await aws(id, secret, ["s3", "ls", "s3://originals/", "--recursive"])
                    #expect(listing.status == 0, "\(listing.stderr)")
                    #expect(listing.stdout.contains(key))
                    let head = try await aws(
                        id, secret, ["s3api", "head-object", "--bucket", "originals", "--key", key])
                    #expect(head.status == 0, "\(head.stderr)")
                    let presigned = try await aws(id, secret, ["s3", "presign", "s3://originals/" + key])
                    let curl = try #require(AWSTools.curl)
                    let fetched = try await AWSTools.run(
                        curl,
                        [
                            "-s", "-o", "/dev/null", "-w", "%{http_code}",
                            presigned.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
                        ])
                    #expect(fetched.stdout == "200")

                    // Deleting does not: one key, several, through the CLI's rm.
                    let removed = try await aws(id, secret, ["s3", "rm", "s3://originals/" + key])
                    #expect(removed.status != 0)
                    #expect(removed.stderr.contains("AccessDenied"), "\(removed.stderr)")
                    let deleted = try await aws(
                        id, secret,
                        ["s3api", "delete-objects", "--bucket", "originals", "--delete", "Objects=[{Key=\(key)}]"])
                    #expect(deleted.status != 0)
                    #expect(deleted.stderr.contains("AccessDenied"), "\(deleted.stderr)")
                }

                // The reader may use every bucket, and still writes nothing: put, copy, multipart.
                let put = try await aws("reader", "s3cret-3", ["s3", "cp", file.path, "s3://uploads/other.jpg"])
                #expect(put.status != 0)
                #expect(put.stderr.contains("AccessDenied"), "\(put.stderr)")
                let copied = try await aws(
                    "reader", "s3cret-3", ["s3", "cp", "s3://originals/" + key, "s3://uploads/copy.jpg"])
                #expect(copied.status != 0)
                #expect(copied.stderr.contains("AccessDenied"), "\(copied.stderr)")
                let created = try await aws(
                    "reader", "s3cret-3", ["s3api", "create-multipart-upload", "--bucket", "uploads", "--key", "m.jpg"])
                #expect(created.status != 0)
                #expect(created.stderr.contains("AccessDenied"), "\(created.stderr)")

                // Lambda: settings are read, not changed; nothing is invoked.
                let configuration = try await aws(
                    "reader", "s3cret-3", ["lambda", "get-function-configuration", "--function-name", "thumbnail"])
                #expect(configuration.status == 0, "\(configuration.stderr)")
                let payload = gateway.root.appendingPathComponent("event.json")
                try Data(#"{"Records": []}"#.utf8).write(to: payload)
                for arguments in [
                    [
                        "lambda", "invoke", "--function-name", "thumbnail", "--payload", "fileb://" + payload.path,
                        gateway.root.appendingPathComponent("out.json").path,
                    ],
                    ["lambda", "update-function-configuration", "--function-name", "thumbnail", "--timeout", "60"],
                    [
                        "lambda", "put-function-event-invoke-config", "--function-name", "thumbnail",
                        "--maximum-retry-attempts", "1",
                    ],
                ] {
                    let refused = try await aws("reader", "s3cret-3", arguments)
                    #expect(refused.status != 0)
                    #expect(refused.stderr.contains("AccessDeniedException"), "\(arguments): \(refused.stderr)")
                }
                #expect(ServeProcess.files(store, "originals") + ServeProcess.files(store, "thumbnails") == stored)
                #expect(
                    !FileManager.default.fileExists(
                        atPath: store.appendingPathComponent("db/lambda/functions.json").path))
            }
        }
    }
}
