// Refusals in S3's own codes (boto3 against the real `serve`), which SDKs and tools switch on: a key over 1024 bytes
// is KeyTooLongError, a Content-MD5 that is not base64 of 16 bytes InvalidDigest (a wrong one BadDigest), a copy
// from a bucket that does not exist NoSuchBucket, a presigned URL living more than a week
// AuthorizationQueryParametersError, checksums of two algorithms InvalidRequest, a checksum header that is not
// the base64 of its algorithm's bytes InvalidRequest. They were InvalidArgument, BadDigest, InvalidArgument,
// AccessDenied, a success and (until session 31) BadDigest.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSErrorCodesTests {
        @Test func refusalsCarryS3sCodes() async throws {
            try await AWSCLITests.withServe { gateway in
                let picture = gateway.root.appendingPathComponent("p.jpg")
                try Data(try AWSCLITests.jpeg(seed: 111)).write(to: picture)
                let script = """
                    import base64, boto3, json, sys, urllib.request, urllib.error
                    from botocore.config import Config
                    endpoint, key, secret, path = sys.argv[1:5]
                    body = open(path, "rb").read()
                    \(AWSTools.botoClientAndAttempt)
                    out = {}
                    out["longKey"] = attempt(lambda: s3.put_object(Bucket="uploads", Key="k" * 1025, Body=body))
                    out["longKeyGet"] = attempt(lambda: s3.get_object(Bucket="originals", Key="k" * 1025))
                    out["malformedMD5"] = attempt(lambda: s3.put_object(
                        Bucket="uploads", Key="md5.jpg", Body=body, ContentMD5="not-an-md5"))
                    out["wrongMD5"] = attempt(lambda: s3.put_object(
                        Bucket="uploads", Key="md5.jpg", Body=body, ContentMD5=base64.b64encode(bytes(16)).decode()))
                    out["copyNoBucket"] = attempt(lambda: s3.copy_object(
                        Bucket="uploads", Key="copy.jpg", CopySource={"Bucket": "photos", "Key": "a.jpg"}))
                    def second_checksum(request, **kwargs):
                        request.headers["x-amz-checksum-sha1"] = base64.b64encode(bytes(20)).decode()
                    s3.meta.events.register("before-sign.s3.PutObject", second_checksum)
                    out["twoChecksums"] = attempt(lambda: s3.put_object(
                        Bucket="uploads", Key="sums.jpg", Body=body, ChecksumAlgorithm="CRC32"))
                    s3.meta.events.unregister("before-sign.s3.PutObject", second_checksum)
                    out["malformedChecksum"] = attempt(lambda: s3.put_object(
                        Bucket="uploads", Key="sum.jpg", Body=body, ChecksumCRC32="notbase64!!"))
                    out["shortChecksum"] = attempt(lambda: s3.put_object(
                        Bucket="uploads", Key="sum.jpg", Body=body, ChecksumSHA256=base64.b64encode(bytes(4)).decode()))
                    v4 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key,
                                      aws_secret_access_key=secret, region_name="us-east-1",
                                      config=Config(signature_version="s3v4"))
                    for name, seconds in [("presignWeekPlus", 604801), ("presignWeek", 604800)]:
                        url = v4.generate_presigned_url("list_objects_v2", Params={"Bucket": "originals"},
                                                        ExpiresIn=seconds)
                        try:
                            out[name] = str(urllib.request.urlopen(url).status)
                        except urllib.error.HTTPError as error:
                            text = error.read().decode()
                            out[name] = text.split("<Code>")[1].split("</Code>")[0]
                    out["originals"] = s3.list_objects_v2(Bucket="originals").get("KeyCount", 0)
                    print(json.dumps(out))
                    """
                let out = try await AWSThrottleAndListingTests.boto3(script, [picture.path], gateway: gateway)
                let expected: [(String, String)] = [
                    ("longKey", "KeyTooLongError"), ("longKeyGet", "KeyTooLongError"),
                    ("malformedMD5", "InvalidDigest"),
                    ("wrongMD5", "BadDigest"), ("copyNoBucket", "NoSuchBucket"), ("twoChecksums", "InvalidRequest"),
                    ("malformedChecksum", "InvalidRequest"), ("shortChecksum", "InvalidRequest"),
                    ("presignWeekPlus", "AuthorizationQueryParametersError"), ("presignWeek", "200"),
                ]
                for (name, code) in expected { #expect(out[name] as? String == code, "\(name): \(out)") }
                #expect(out["originals"] as? Int == 0, "nothing of a refused upload is kept")
            }
        }
    }
}

extension PicpipeCLI.AWSErrorCodesTests {
    /// S3's extra fields: NoSuchKey's Key, InvalidRange's RangeRequested and ActualObjectSize, PreconditionFailed's
    /// Condition, an expired presigned URL's Expires and ServerTime, buckets listed by
    /// name, an upload's Initiator (the key that began it), CompleteMultipartUpload's Location as an absolute URL.
    @Test func errorsAndAnswersCarryS3sFields() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            let picture = gateway.root.appendingPathComponent("p.jpg")
            let bytes = try PicpipeCLI.AWSCLITests.jpeg(seed: 112)
            try Data(bytes).write(to: picture)
            let script = """
                import boto3, json, sys
                endpoint, key, secret, path = sys.argv[1:5]
                body = open(path, "rb").read()
                s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key,
                                  aws_secret_access_key=secret, region_name="us-east-1")
                out = {}
                def error(call):
                    try:
                        call()
                    except s3.exceptions.ClientError as failure:
                        return failure.response["Error"]
                out["buckets"] = [b["Name"] for b in s3.list_buckets()["Buckets"]]
                up = s3.create_multipart_upload(Bucket="uploads", Key="trip/p.jpg")["UploadId"]
                out["initiator"] = s3.list_multipart_uploads(Bucket="uploads")["Uploads"][0]["Initiator"]
                part = s3.upload_part(Bucket="uploads", Key="trip/p.jpg", UploadId=up, PartNumber=1, Body=body)
                out["location"] = s3.complete_multipart_upload(
                    Bucket="uploads", Key="trip/p.jpg", UploadId=up,
                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})["Location"]
                original = s3.list_objects_v2(Bucket="originals")["Contents"][0]["Key"]
                out["noSuchKey"] = error(lambda: s3.get_object(Bucket="originals", Key="ab/missing.jpg"))
                out["range"] = error(lambda: s3.get_object(Bucket="originals", Key=original, Range="bytes=99999999-"))
                out["ifMatch"] = error(lambda: s3.get_object(Bucket="originals", Key=original, IfMatch='"0123"'))
                out["deleteIfMatch"] = error(lambda: s3.delete_object(Bucket="originals", Key=original, IfMatch='"0123"'))
                import time, urllib.request, urllib.error
                from botocore.config import Config
                for name, version in [("expiredV4", "s3v4"), ("expiredV2", "s3")]:
                    signer = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key,
                                          aws_secret_access_key=secret, region_name="us-east-1",
                                          config=Config(signature_version=version))
                    url = signer.generate_presigned_url(
                        "get_object", Params={"Bucket": "originals", "Key": original}, ExpiresIn=1)
                    time.sleep(2.5)
                    try:
                        urllib.request.urlopen(url)
                    except urllib.error.HTTPError as failure:
                        text = failure.read().decode()
                        out[name] = {tag: text.split("<%s>" % tag)[1].split("</%s>" % tag)[0]
                                     for tag in ["Code", "Expires", "ServerTime"] if "<%s>" % tag in text}
                print(json.dumps(out))
                """
            let out = try await PicpipeCLI.AWSThrottleAndListingTests.boto3(
                script, [picture.path], gateway: gateway)
            #expect(out["buckets"] as? [String] == ["originals", "thumbnails", "uploads"])
            let initiator = try #require(out["initiator"] as? [String: String])
            #expect(initiator["ID"] == AWSServe.keyID)
            #expect(out["location"] as? String == "\(gateway.endpoint)/uploads/trip/p.jpg")
            let noSuchKey = try #require(out["noSuchKey"] as? [String: String])
            #expect(noSuchKey["Code"] == "NoSuchKey")
            #expect(noSuchKey["Key"] == "ab/missing.jpg")
            let range = try #require(out["range"] as? [String: String])
            #expect(range["Code"] == "InvalidRange")
            #expect(range["RangeRequested"] == "bytes=99999999-")
            #expect(range["ActualObjectSize"] == String(bytes.count))
            // A failed precondition names it, and an expired presigned URL says when it expired and what time it is
            // (until session 37 neither did).
            for name in ["ifMatch", "deleteIfMatch"] {
                let failed = try #require(out[name] as? [String: String], "\(out)")
                #expect(failed["Code"] == "PreconditionFailed" && failed["Condition"] == "If-Match", "\(failed)")
            }
            for name in ["expiredV4", "expiredV2"] {
                let expired = try #require(out[name] as? [String: String], "\(out)")
                #expect(expired["Code"] == "AccessDenied", "\(expired)")
                let expires = try #require(expired["Expires"].flatMap { ISO8601DateFormatter().date(from: $0) })
                let server = try #require(expired["ServerTime"].flatMap { ISO8601DateFormatter().date(from: $0) })
                #expect(expires < server, "\(expired)")
            }
        }
    }
}
