// The checksum a PutObject came with comes back on HeadObject and GetObject with `--checksum-mode ENABLED` (the AWS
// CLI and boto3 against the real `serve`), as the whole object's; until session 35 it was echoed by the PutObject
// only, so an SDK had nothing to verify a download with. A CopyObject naming `x-amz-checksum-algorithm` computes that
// checksum of the copy, answers it and keeps it (until session 36 the header was ignored and the copy had none).
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
                // As S3 answers every PutObject with a checksum (until session 36 the type was left out).
                #expect(put["ChecksumType"] as? String == "FULL_OBJECT", "\(put)")
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
                    endpoint, key, secret, name, picture = sys.argv[1:6]
                    \(AWSTools.botoClientAndAttempt)
                    def headers(**options):
                        answer = s3.get_object(Bucket="originals", Key=name, **options)
                        answer["Body"].read()
                        h = answer["ResponseMetadata"]["HTTPHeaders"]
                        return {k: v for k, v in h.items() if k.startswith("x-amz-checksum")}
                    out = {"whole": headers(ChecksumMode="ENABLED"),
                           "ranged": headers(ChecksumMode="ENABLED", Range="bytes=0-9")}
                    put = s3.put_object(Bucket="uploads", Key="ck/b.jpg", Body=open(picture, "rb").read(),
                                        ChecksumAlgorithm="CRC32")
                    out["putType"] = put["ResponseMetadata"]["HTTPHeaders"].get("x-amz-checksum-type")
                    print(json.dumps(out))
                    """, [key, picture.path], gateway: gateway)
                let whole = try #require(out["whole"] as? [String: String], "\(out)")
                #expect(whole == ["x-amz-checksum-sha256": sent, "x-amz-checksum-type": "FULL_OBJECT"])
                #expect((out["ranged"] as? [String: String])?.isEmpty == true, "\(out)")
                #expect(out["putType"] as? String == "FULL_OBJECT", "\(out)")
            }
        }

        @Test func aCopyObjectNamingAnAlgorithmKeepsThatChecksum() async throws {
            try await AWSCLITests.withServe { gateway in
                let picture = gateway.root.appendingPathComponent("a.jpg")
                try Data(try AWSCLITests.jpeg(seed: 136)).write(to: picture)
                let out = try await AWSThrottleAndListingTests.boto3(
                    """
                    import base64, boto3, hashlib, json, sys, time, zlib
                    endpoint, key, secret, picture = sys.argv[1:5]
                    \(AWSTools.botoClientAndAttempt)
                    s3.put_object(Bucket="uploads", Key="a.jpg", Body=open(picture, "rb").read())
                    while not s3.list_objects_v2(Bucket="thumbnails").get("Contents"):
                        time.sleep(0.05)
                    thumbnail = s3.list_objects_v2(Bucket="thumbnails")["Contents"][0]["Key"]
                    data = s3.get_object(Bucket="thumbnails", Key=thumbnail)["Body"].read()
                    source = {"Bucket": "thumbnails", "Key": thumbnail}
                    out = {"crc32": base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()}
                    def checksums(answer):
                        return {k: v for k, v in answer.items() if k.startswith("Checksum")}
                    out["bogus"] = attempt(lambda: s3.copy_object(Bucket="uploads", Key="bogus.jpg", CopySource=source,
                                                                  ChecksumAlgorithm="SHA512"))
                    out["copied"] = checksums(s3.copy_object(Bucket="uploads", Key="copy.jpg", CopySource=source,
                                                             ChecksumAlgorithm="CRC32")["CopyObjectResult"])
                    sha = hashlib.sha256(data).hexdigest()
                    copy = sha[:2] + "/" + sha + ".jpg"
                    out["head"] = checksums(s3.head_object(Bucket="originals", Key=copy, ChecksumMode="ENABLED"))
                    print(json.dumps(out))
                    """, [picture.path], gateway: gateway)
                let crc32 = try #require(out["crc32"] as? String)
                #expect(out["bogus"] as? String == "InvalidRequest", "\(out)")
                #expect(out["copied"] as? [String: String] == ["ChecksumCRC32": crc32, "ChecksumType": "FULL_OBJECT"])
                #expect(out["head"] as? [String: String] == ["ChecksumCRC32": crc32, "ChecksumType": "FULL_OBJECT"])
            }
        }
    }
}
