// Flexible checksums in multipart uploads (boto3 against the real `serve`): CreateMultipartUpload's
// x-amz-checksum-algorithm is echoed and kept, every part has a checksum of it (the client's, or computed), ListParts
// and ListMultipartUploads show them, a part naming another algorithm is refused, and CompleteMultipartUpload checks
// the checksums its list gives (InvalidPart on a mismatch, as S3). The algorithm was dropped, parts' checksums were
// not listed, and a completion listing a wrong ChecksumSHA256 was stored.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSMultipartChecksumTests {
        @Test func partChecksumsAreKeptListedAndCheckedAtCompletion() async throws {
            try await AWSCLITests.withServe { gateway in
                let picture = gateway.root.appendingPathComponent("picture.jpg")
                let bytes = try AWSCLITests.jpeg(seed: 33)
                try Data(bytes).write(to: picture)
                let other = gateway.root.appendingPathComponent("other.jpg")
                try Data(try AWSCLITests.jpeg(seed: 34)).write(to: other)
                let out = try await AWSThrottleAndListingTests.boto3(
                    """
                    import base64, boto3, hashlib, json, sys, zlib
                    from botocore.config import Config
                    endpoint, key, secret, picture, other = sys.argv[1:6]
                    \(AWSTools.botoClientAndAttempt)
                    # A client that sends no checksum of its own (so the server's is the upload's algorithm).
                    bare = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                                        region_name="us-east-1", config=Config(request_checksum_calculation="when_required"))
                    data, other = open(picture, "rb").read(), open(other, "rb").read()
                    sha256 = lambda b: base64.b64encode(hashlib.sha256(b).digest()).decode()
                    out = {"sha256": sha256(data), "otherSha256": sha256(other)}
                    s3.put_object(Bucket="uploads", Key="other.jpg", Body=other)
                    original = s3.list_objects_v2(Bucket="originals")["Contents"][0]["Key"]
                    name = "checked.jpg"
                    created = s3.create_multipart_upload(Bucket="uploads", Key=name, ChecksumAlgorithm="SHA256")
                    up = created["UploadId"]
                    out["created"] = created.get("ChecksumAlgorithm")
                    one = s3.upload_part(Bucket="uploads", Key=name, UploadId=up, PartNumber=1, Body=data,
                                         ChecksumAlgorithm="SHA256")
                    out["one"] = one.get("ChecksumSHA256")
                    two = bare.upload_part(Bucket="uploads", Key=name, UploadId=up, PartNumber=2, Body=data)
                    out["two"] = two.get("ChecksumSHA256")
                    out["crc32Part"] = attempt(lambda: s3.upload_part(Bucket="uploads", Key=name, UploadId=up, PartNumber=4,
                                                                      Body=data, ChecksumAlgorithm="CRC32"))
                    three = s3.upload_part_copy(Bucket="uploads", Key=name, UploadId=up, PartNumber=3,
                                                CopySource={"Bucket": "originals", "Key": original})
                    out["three"] = three["CopyPartResult"].get("ChecksumSHA256")
                    listed = s3.list_parts(Bucket="uploads", Key=name, UploadId=up)
                    out["listedAlgorithm"] = listed.get("ChecksumAlgorithm")
                    out["numbers"] = [p["PartNumber"] for p in listed["Parts"]]
                    out["listed"] = [p.get("ChecksumSHA256") for p in listed["Parts"]]
                    out["uploads"] = [u.get("ChecksumAlgorithm") for u in s3.list_multipart_uploads(Bucket="uploads")["Uploads"]]
                    wrong = sha256(b"x")
                    out["wrong"] = attempt(lambda: s3.complete_multipart_upload(
                        Bucket="uploads", Key=name, UploadId=up,
                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": one["ETag"], "ChecksumSHA256": wrong}]}))
                    out["wrongCRC32"] = attempt(lambda: s3.complete_multipart_upload(
                        Bucket="uploads", Key=name, UploadId=up,
                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": one["ETag"], "ChecksumCRC32": "AAAAAA=="}]}))
                    try:
                        out["partsAfter"] = len(s3.list_parts(Bucket="uploads", Key=name, UploadId=up)["Parts"])
                    except s3.exceptions.ClientError as error:
                        out["partsAfter"] = error.response["Error"]["Code"]
                    crc32 = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
                    out["right"] = attempt(lambda: s3.complete_multipart_upload(
                        Bucket="uploads", Key=name, UploadId=up,
                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": one["ETag"], "ChecksumSHA256": out["one"],
                                                    "ChecksumCRC32": crc32}]}))
                    out["unsupported"] = attempt(lambda: s3.create_multipart_upload(Bucket="uploads", Key="x.jpg",
                                                                                    ChecksumAlgorithm="SHA512"))
                    print(json.dumps(out))
                    """, [picture.path, other.path], gateway: gateway)
                let sha256 = try #require(out["sha256"] as? String)
                let otherSHA256 = try #require(out["otherSha256"] as? String)
                #expect(out["created"] as? String == "SHA256", "\(out)")
                #expect(out["one"] as? String == sha256, "\(out)")
                // Sent without a checksum: the server computed the upload's.
                #expect(out["two"] as? String == sha256, "\(out)")
                #expect(out["crc32Part"] as? String == "InvalidRequest", "\(out)")
                #expect(out["three"] as? String == otherSHA256, "\(out)")
                #expect(out["listedAlgorithm"] as? String == "SHA256", "\(out)")
                #expect(out["numbers"] as? [Int] == [1, 2, 3], "\(out)")
                #expect(out["listed"] as? [String] == [sha256, sha256, otherSHA256], "\(out)")
                #expect(out["uploads"] as? [String] == ["SHA256"], "\(out)")
                #expect(out["wrong"] as? String == "InvalidPart", "\(out)")
                #expect(out["wrongCRC32"] as? String == "InvalidPart", "\(out)")
                #expect(out["partsAfter"] as? Int == 3, "the refused completions kept the parts: \(out)")
                #expect(out["right"] as? String == "ok", "\(out)")
                #expect(out["unsupported"] as? String == "InvalidRequest", "\(out)")
                let original = gateway.store.appendingPathComponent(
                    "originals/" + AWSCLITests.originalKey(AWSCLITests.hash(bytes)))
                #expect(try Data(contentsOf: original) == Data(bytes))
            }
        }
    }
}
