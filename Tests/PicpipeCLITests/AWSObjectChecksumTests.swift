// The checksum a PutObject came with comes back on HeadObject and GetObject with `--checksum-mode ENABLED` (the AWS
// CLI and boto3 against the real `serve`), as the whole object's; until session 35 it was echoed by the PutObject
// only, so an SDK had nothing to verify a download with.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSObjectChecksumTests {
        @Test func aPutObjectsChecksumIsReturnedOnHeadAndGet() async throws {
            try await AWSCLITests.withServe { gateway in
                let picture = gateway.root.appendingPathComponent("a.jpg")
                try Data(try AWSCLITests.jpeg(seed: 135)).write(to: picture)
                let put = try await gateway.awsJSON([
                    "s3api", "put-object", "--bucket", "uploads", "--key", "ck/a.jpg", "--body", picture.path,
                    "--checksum-algorithm", "SHA256",
                ])
                let sent = try #require(put["ChecksumSHA256"] as? String, "\(put)")
                let listed = try await gateway.awsJSON(["s3api", "list-objects-v2", "--bucket", "originals"])
                let contents = try #require(listed["Contents"] as? [[String: Any]], "\(listed)")
                let key = try #require(contents.first?["Key"] as? String)
                let head = try await gateway.awsJSON([
                    "s3api", "head-object", "--bucket", "originals", "--key", key, "--checksum-mode", "ENABLED",
                ])
                #expect(head["ChecksumSHA256"] as? String == sent, "\(head)")
                let downloaded = gateway.root.appendingPathComponent("down.jpg")
                let get = try await gateway.awsJSON([
                    "s3api", "get-object", "--bucket", "originals", "--key", key, "--checksum-mode", "ENABLED",
                    downloaded.path,
                ])
                #expect(get["ChecksumSHA256"] as? String == sent, "\(get)")
                #expect(try Data(contentsOf: downloaded) == Data(contentsOf: picture))
                let out = try await AWSThrottleAndListingTests.boto3(
                    """
                    import boto3, json, sys
                    endpoint, key, secret, name = sys.argv[1:5]
                    \(AWSTools.botoClientAndAttempt)
                    def headers(**options):
                        answer = s3.get_object(Bucket="originals", Key=name, **options)
                        answer["Body"].read()
                        h = answer["ResponseMetadata"]["HTTPHeaders"]
                        return {k: v for k, v in h.items() if k.startswith("x-amz-checksum")}
                    print(json.dumps({"whole": headers(ChecksumMode="ENABLED"),
                                      "ranged": headers(ChecksumMode="ENABLED", Range="bytes=0-9")}))
                    """, [key], gateway: gateway)
                let whole = try #require(out["whole"] as? [String: String], "\(out)")
                #expect(whole == ["x-amz-checksum-sha256": sent, "x-amz-checksum-type": "FULL_OBJECT"])
                #expect((out["ranged"] as? [String: String])?.isEmpty == true, "\(out)")
            }
        }
    }
}
