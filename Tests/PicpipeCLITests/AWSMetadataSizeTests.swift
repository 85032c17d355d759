// User metadata over S3's 2 KB limit is refused with MetadataTooLarge (boto3 against the real `serve`) on PutObject,
// CopyObject with REPLACE, CreateMultipartUpload and a POST form, and nothing of the refused write is kept; until
// session 35 `put_object(Metadata={"aaaaaaaaaa": "b" * 2100})` was stored.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSMetadataSizeTests {
        @Test func metadataOverTheLimitIsRefusedEverywhere() async throws {
            try await AWSCLITests.withServe { gateway in
                var pictures: [String] = []
                for seed in 141...142 {
                    let file = gateway.root.appendingPathComponent("m\(seed).jpg")
                    try Data(try AWSCLITests.jpeg(seed: seed)).write(to: file)
                    pictures.append(file.path)
                }
                let out = try await AWSThrottleAndListingTests.boto3(
                    """
                    import boto3, json, sys, time, http.client, urllib.parse
                    from botocore.config import Config
                    from urllib3 import encode_multipart_formdata
                    endpoint, key, secret = sys.argv[1:4]
                    pictures = [open(path, "rb").read() for path in sys.argv[4:6]]
                    \(AWSTools.botoClientAndAttempt)
                    large = {"aaaaaaaaaa": "b" * 2100}
                    out = {}
                    out["put"] = attempt(lambda: s3.put_object(Bucket="uploads", Key="big.jpg", Body=pictures[0],
                                                               Metadata=large))
                    out["multipart"] = attempt(lambda: s3.create_multipart_upload(Bucket="uploads", Key="big.jpg",
                                                                                  Metadata=large))
                    try:
                        s3.put_object(Bucket="uploads", Key="big.jpg", Body=pictures[0], Metadata=large)
                    except s3.exceptions.ClientError as error:
                        out["details"] = {k: error.response["Error"].get(k) for k in ["Size", "MaxSizeAllowed"]}
                    v4 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                                      region_name="us-east-1", config=Config(signature_version="s3v4"))
                    form = v4.generate_presigned_post("uploads", "form/big.jpg", Fields={"x-amz-meta-note": "n" * 2100},
                                                      Conditions=[{"x-amz-meta-note": "n" * 2100}])
                    fields = list(form["fields"].items()) + [("file", ("big.jpg", pictures[0], "image/jpeg"))]
                    data, content_type = encode_multipart_formdata(fields)
                    target = urllib.parse.urlsplit(form["url"])
                    connection = http.client.HTTPConnection(target.hostname, target.port)
                    connection.request("POST", target.path, body=data, headers={"Content-Type": content_type})
                    answer = connection.getresponse()
                    out["post"] = [answer.status, answer.read().decode()]
                    out["afterRefusals"] = s3.list_objects_v2(Bucket="originals").get("KeyCount", 0)
                    out["uploads"] = len(s3.list_multipart_uploads(Bucket="uploads").get("Uploads", []))
                    # At the limit (10 + 2038 bytes) it is taken; a copy that replaces it with more is not.
                    s3.put_object(Bucket="uploads", Key="fits.jpg", Body=pictures[1],
                                  Metadata={"aaaaaaaaaa": "b" * 2038})
                    original = s3.list_objects_v2(Bucket="originals")["Contents"][0]["Key"]
                    out["kept"] = len(s3.head_object(Bucket="originals", Key=original)["Metadata"]["aaaaaaaaaa"])
                    while not s3.list_objects_v2(Bucket="thumbnails").get("Contents"):
                        time.sleep(0.05)
                    thumbnail = s3.list_objects_v2(Bucket="thumbnails")["Contents"][0]["Key"]
                    out["copy"] = attempt(lambda: s3.copy_object(
                        Bucket="uploads", Key="copied.jpg", MetadataDirective="REPLACE", Metadata=large,
                        CopySource={"Bucket": "thumbnails", "Key": thumbnail}))
                    out["afterCopy"] = s3.list_objects_v2(Bucket="originals").get("KeyCount", 0)
                    print(json.dumps(out))
                    """, pictures, gateway: gateway)
                for name in ["put", "multipart", "copy"] {
                    #expect(out[name] as? String == "MetadataTooLarge", "\(name): \(out)")
                }
                #expect(out["details"] as? [String: String] == ["Size": "2110", "MaxSizeAllowed": "2048"], "\(out)")
                let post = try #require(out["post"] as? [Any])
                #expect(post[0] as? Int == 400, "\(post)")
                #expect((post[1] as? String)?.contains("<Code>MetadataTooLarge</Code>") == true, "\(post)")
                #expect(out["afterRefusals"] as? Int == 0, "nothing of a refused write is kept: \(out)")
                #expect(out["uploads"] as? Int == 0, "\(out)")
                #expect(out["kept"] as? Int == 2038, "\(out)")
                #expect(out["afterCopy"] as? Int == 1, "\(out)")
            }
        }
    }
}
