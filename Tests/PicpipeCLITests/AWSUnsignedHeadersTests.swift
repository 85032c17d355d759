// An `x-amz-*` header outside the signature is refused as S3 refuses it (boto3 against the real `serve`): whoever
// held a presigned PUT URL could add `x-amz-meta-*` and so rewrite the metadata HeadObject and GetObject return for
// the picture (until session 33), and a header added to a signed request after signing was taken the same way.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSUnsignedHeadersTests {
        @Test func xAmzHeadersOutsideTheSignatureAreRefusedAndNothingIsStored() async throws {
            try await AWSCLITests.withServe { gateway in
                var pictures: [String] = []
                for seed in 331...332 {
                    let file = gateway.root.appendingPathComponent("p\(seed).jpg")
                    try Data(try AWSCLITests.jpeg(seed: seed)).write(to: file)
                    pictures.append(file.path)
                }
                let script = """
                    import boto3, json, sys, urllib.request, urllib.error
                    from botocore.config import Config
                    endpoint, key, secret = sys.argv[1:4]
                    pictures = [open(path, "rb").read() for path in sys.argv[4:6]]
                    \(AWSTools.botoClientAndAttempt)
                    v4 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                                      region_name="us-east-1", config=Config(signature_version="s3v4"))
                    def put(url, body, headers):
                        try:
                            answer = urllib.request.urlopen(urllib.request.Request(url, data=body, method="PUT",
                                                                                   headers=headers))
                            return [answer.status, ""]
                        except urllib.error.HTTPError as error:
                            return [error.code, error.read().decode()]
                    out = {}
                    url = v4.generate_presigned_url("put_object", Params={"Bucket": "uploads", "Key": "pre/z.jpg"},
                                                    ExpiresIn=300)
                    out["presignedWithMeta"] = put(url, pictures[0], {"x-amz-meta-owner": "mallory"})
                    def inject(request, **kwargs):
                        request.headers["x-amz-meta-injected"] = "yes"
                    s3.meta.events.register("before-send.s3.PutObject", inject)
                    out["injected"] = attempt(lambda: s3.put_object(Bucket="uploads", Key="hdr/v.jpg",
                                                                    Body=pictures[1]))
                    s3.meta.events.unregister("before-send.s3.PutObject", inject)
                    def metadata():
                        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="originals").get("Contents", [])]
                        return [s3.head_object(Bucket="originals", Key=k)["Metadata"] for k in keys]
                    out["afterRefusals"] = metadata()
                    out["presignedWithDisposition"] = put(url, pictures[0], {"Content-Disposition": "inline"})
                    out["signedMeta"] = attempt(lambda: s3.put_object(Bucket="uploads", Key="hdr/v.jpg",
                                                                      Body=pictures[1], Metadata={"camera": "x100"}))
                    out["metadata"] = metadata()
                    print(json.dumps(out))
                    """
                let out = try await AWSThrottleAndListingTests.boto3(script, pictures, gateway: gateway)
                let refused = try #require(out["presignedWithMeta"] as? [Any])
                #expect(refused[0] as? Int == 403, "\(out)")
                let body = refused[1] as? String ?? ""
                #expect(body.contains("<Code>AccessDenied</Code>"), "\(body)")
                #expect(body.contains("<HeadersNotSigned>x-amz-meta-owner</HeadersNotSigned>"), "\(body)")
                // A header S3 does not ask to be signed is still taken, as S3 takes it.
                #expect((out["presignedWithDisposition"] as? [Any])?.first as? Int == 200, "\(out)")
                #expect(out["injected"] as? String == "AccessDenied", "\(out)")
                #expect(
                    (out["afterRefusals"] as? [Any])?.isEmpty == true, "nothing of a refused upload is kept: \(out)")
                #expect(out["signedMeta"] as? String == "ok", "\(out)")
                let metadata = try #require(out["metadata"] as? [[String: String]])
                #expect(metadata.count == 2, "\(out)")
                #expect(metadata.contains([:]) && metadata.contains(["camera": "x100"]), "\(out)")
            }
        }
    }
}
