// The options of a write that picpipe cannot honour are refused as S3 refuses them (boto3 against the real `serve`):
// customer keys over HTTP, KMS, object lock, tagging, ACLs, other storage classes; they were dropped and the write
// answered as a success. The representation headers (Cache-Control, Content-Disposition, Content-Encoding,
// Content-Language, Expires), dropped as well, are kept with the object and returned by GET and HEAD. The same bytes
// uploaded again under another key leave them unless that upload brings its own: until session 30 any upload of
// them (`aws s3 sync` of a backup) wiped them.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSObjectOptionsTests {
        @Test func unsupportedOptionsAreRefusedAndRepresentationHeadersKept() async throws {
            try await AWSCLITests.withServe { gateway in
                var pictures: [String] = []
                for seed in 101...103 {
                    let file = gateway.root.appendingPathComponent("p\(seed).jpg")
                    try Data(try AWSCLITests.jpeg(seed: seed)).write(to: file)
                    pictures.append(file.path)
                }
                let script = """
                    import boto3, json, sys, time
                    endpoint, key, secret = sys.argv[1:4]
                    pictures = [open(path, "rb").read() for path in sys.argv[4:7]]
                    \(AWSTools.botoClientAndAttempt)
                    put = lambda **options: lambda: s3.put_object(Bucket="uploads", Key="refused.jpg",
                                                                  Body=pictures[0], **options)
                    out = {}
                    out["sseC"] = attempt(put(SSECustomerAlgorithm="AES256", SSECustomerKey="k" * 32))
                    out["kms"] = attempt(put(ServerSideEncryption="aws:kms"))
                    out["lock"] = attempt(put(ObjectLockMode="GOVERNANCE",
                                              ObjectLockRetainUntilDate="2030-01-01T00:00:00Z"))
                    out["legalHold"] = attempt(put(ObjectLockLegalHoldStatus="ON"))
                    out["tagging"] = attempt(put(Tagging="team=a"))
                    out["publicRead"] = attempt(put(ACL="public-read"))
                    out["grant"] = attempt(put(GrantRead='id="someone"'))
                    out["glacier"] = attempt(put(StorageClass="GLACIER"))
                    out["bogusClass"] = attempt(put(StorageClass="BOGUS"))
                    out["copyACL"] = attempt(lambda: s3.copy_object(
                        Bucket="uploads", Key="copy.jpg", CopySource={"Bucket": "uploads", "Key": "none.jpg"},
                        ACL="public-read"))
                    out["multipartTagging"] = attempt(lambda: s3.create_multipart_upload(
                        Bucket="uploads", Key="m.jpg", Tagging="team=a"))
                    out["afterRefusals"] = s3.list_objects_v2(Bucket="originals").get("KeyCount", 0)

                    # What S3 accepts without ACLs, encryption at rest and the standard class, with the headers kept.
                    kept = dict(CacheControl="max-age=60", ContentDisposition='attachment; filename="a.jpg"',
                                ContentLanguage="de", ContentEncoding="identity", Expires="2030-01-01T00:00:00Z")
                    s3.put_object(Bucket="uploads", Key="kept.jpg", Body=pictures[1], ACL="private",
                                  ServerSideEncryption="AES256", StorageClass="STANDARD", **kept)
                    up = s3.create_multipart_upload(Bucket="uploads", Key="parts.jpg",
                                                    CacheControl="no-cache", ContentLanguage="fr")["UploadId"]
                    part = s3.upload_part(Bucket="uploads", Key="parts.jpg", UploadId=up, PartNumber=1,
                                          Body=pictures[2])
                    s3.complete_multipart_upload(Bucket="uploads", Key="parts.jpg", UploadId=up,
                                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
                    originals = {o["Size"]: o["Key"] for o in s3.list_objects_v2(Bucket="originals")["Contents"]}
                    first = originals[len(pictures[1])]
                    # CopyObject with REPLACE takes the request's headers (from a thumbnail: copying an original
                    # into uploads is a copy onto itself).
                    while not s3.list_objects_v2(Bucket="thumbnails").get("Contents"):
                        time.sleep(0.05)
                    thumbnail = s3.list_objects_v2(Bucket="thumbnails")["Contents"][0]
                    s3.copy_object(Bucket="uploads", Key="copied.jpg", MetadataDirective="REPLACE",
                                   CopySource={"Bucket": "thumbnails", "Key": thumbnail["Key"]},
                                   ContentType="image/jpeg", CacheControl="max-age=5")
                    originals = {o["Size"]: o["Key"] for o in s3.list_objects_v2(Bucket="originals")["Contents"]}
                    def headers(key, **query):
                        h = s3.head_object(Bucket="originals", Key=key, **query)["ResponseMetadata"]["HTTPHeaders"]
                        return {name: h[name] for name in ["cache-control", "content-disposition",
                                "content-language", "content-encoding", "expires"] if name in h}
                    out["put"] = headers(first)
                    out["overridden"] = headers(first, ResponseCacheControl="no-store")
                    out["multipart"] = headers(originals[len(pictures[2])])
                    out["copied"] = headers(originals[thumbnail["Size"]])
                    print(json.dumps(out))
                    """
                let out = try await AWSThrottleAndListingTests.boto3(script, pictures, gateway: gateway)
                let refusals: [(String, String)] = [
                    ("sseC", "InvalidRequest"), ("kms", "NotImplemented"), ("lock", "InvalidRequest"),
                    ("legalHold", "InvalidRequest"), ("tagging", "NotImplemented"),
                    ("publicRead", "AccessControlListNotSupported"), ("grant", "AccessControlListNotSupported"),
                    ("glacier", "NotImplemented"), ("bogusClass", "InvalidStorageClass"),
                    ("copyACL", "AccessControlListNotSupported"), ("multipartTagging", "NotImplemented"),
                ]
                for (name, code) in refusals { #expect(out[name] as? String == code, "\(name): \(out)") }
                #expect(out["afterRefusals"] as? Int == 0, "nothing of a refused write is kept")
                let put = try #require(out["put"] as? [String: String])
                #expect(put["cache-control"] == "max-age=60")
                #expect(put["content-disposition"] == "attachment; filename=\"a.jpg\"")
                #expect(put["content-language"] == "de")
                #expect(put["content-encoding"] == "identity")
                #expect(put["expires"]?.contains("2030") == true, "\(put)")
                let overridden = try #require(out["overridden"] as? [String: String])
                #expect(overridden["cache-control"] == "no-store")
                let multipart = try #require(out["multipart"] as? [String: String])
                #expect(multipart["cache-control"] == "no-cache")
                #expect(multipart["content-language"] == "fr")
                #expect(multipart["content-disposition"] == nil)
                let copied = try #require(out["copied"] as? [String: String])
                #expect(copied == ["cache-control": "max-age=5"])
            }
        }

        /// One picture: uploaded with metadata and headers, then again under other keys without any (boto3, the
        /// AWS CLI, a multipart upload), then with metadata of its own. The bare uploads keep what the first one
        /// described; the last one's metadata, or Content-Type, replaces it. The record keeps the first key throughout.
        @Test func uploadingTheSameBytesAgainKeepsTheirDescriptionUnlessItBringsItsOwn() async throws {
            try await AWSCLITests.withServe { gateway in
                let bytes = try AWSCLITests.jpeg(seed: 111)
                let picture = gateway.root.appendingPathComponent("trip.jpg")
                try Data(bytes).write(to: picture)
                let script = """
                    import boto3, hashlib, json, sys
                    endpoint, key, secret, path, phase = sys.argv[1:6]
                    picture = open(path, "rb").read()
                    \(AWSTools.botoClientAndAttempt)
                    sha = hashlib.sha256(picture).hexdigest()
                    def described():
                        head = s3.head_object(Bucket="originals", Key=sha[:2] + "/" + sha + ".jpg")
                        return [head["Metadata"], head.get("CacheControl"), head.get("ContentDisposition"),
                                head["ContentType"]]
                    out = {}
                    if phase == "first":
                        s3.put_object(Bucket="uploads", Key="trip/first.jpg", Body=picture, Metadata={"camera": "x100"},
                                      CacheControl="max-age=60", ContentDisposition='attachment; filename="trip.jpg"',
                                      ContentType="image/pjpeg")
                        out["first"] = described()
                        s3.put_object(Bucket="uploads", Key="someone-else/copy.jpg", Body=picture)
                        out["bare"] = described()
                        up = s3.create_multipart_upload(Bucket="uploads", Key="parts/copy.jpg")["UploadId"]
                        part = s3.upload_part(Bucket="uploads", Key="parts/copy.jpg", UploadId=up, PartNumber=1,
                                              Body=picture)
                        s3.complete_multipart_upload(Bucket="uploads", Key="parts/copy.jpg", UploadId=up,
                            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
                        out["multipart"] = described()
                    else:
                        out["cli"] = described()
                        s3.put_object(Bucket="uploads", Key="retagged.jpg", Body=picture, Metadata={"camera": "z9"})
                        out["own"] = described()
                        s3.put_object(Bucket="uploads", Key="typed.jpg", Body=picture, ContentType="image/x-explicit")
                        out["typed"] = described()
                        for index, generic in enumerate(["image/jpeg", "application/octet-stream", "binary/octet-stream"]):
                            s3.put_object(Bucket="uploads", Key="generic%d.jpg" % index, Body=picture, ContentType=generic)
                        out["generic"] = described()
                    print(json.dumps(out))
                    """
                let first = try await AWSThrottleAndListingTests.boto3(
                    script, [picture.path, "first"], gateway: gateway)
                let described: [Any] = [
                    ["camera": "x100"], "max-age=60", "attachment; filename=\"trip.jpg\"", "image/pjpeg",
                ]
                for name in ["first", "bare", "multipart"] {
                    #expect((first[name] as? NSArray)?.isEqual(to: described) == true, "\(name): \(first)")
                }
                // The AWS CLI's sync of a backup: the same bytes, its guessed Content-Type, no metadata.
                let backup = gateway.root.appendingPathComponent("backup")
                try FileManager.default.createDirectory(at: backup, withIntermediateDirectories: true)
                try Data(bytes).write(to: backup.appendingPathComponent("trip.jpg"))
                let sync = try await gateway.aws(["s3", "sync", backup.path, "s3://uploads/backup/", "--no-progress"])
                #expect(sync.status == 0, "\(sync.stderr)")
                let then = try await AWSThrottleAndListingTests.boto3(script, [picture.path, "then"], gateway: gateway)
                #expect((then["cli"] as? NSArray)?.isEqual(to: described) == true, "\(then)")
                // An upload with metadata of its own replaces the description, as a PUT of a key does in S3.
                let own = try #require(then["own"] as? [Any], "\(then)")
                #expect((own[0] as? [String: String]) == ["camera": "z9"], "\(own)")
                #expect(own[1] is NSNull && own[2] is NSNull, "\(own)")
                #expect(own[3] as? String == "image/jpeg", "\(own)")
                // A Content-Type of its own is a description too (until session 37 it was dropped); the bytes' own
                // type, which the AWS CLI guesses from the file name, and the generic ones SDKs send are none.
                let typed: [Any] = [[String: String](), NSNull(), NSNull(), "image/x-explicit"]
                #expect((then["typed"] as? NSArray)?.isEqual(to: typed) == true, "\(then)")
                #expect((then["generic"] as? NSArray)?.isEqual(to: typed) == true, "\(then)")
                let record = gateway.store.appendingPathComponent(
                    "db/s3/objects/\(AWSCLITests.hash(bytes)).json")
                let kept = try JSONSerialization.jsonObject(with: Data(contentsOf: record)) as? [String: Any]
                #expect(kept?["key"] as? String == "trip/first.jpg", "\(String(describing: kept))")
                // The listing keeps the first name too, as for the same bytes POSTed again (until session 30 each
                // S3 upload renamed the picture).
                let http = "http://127.0.0.1:\(try #require(ServeHTTPTests.port(in: gateway.serve.log)))"
                let listing = try await HTTPCall.send("GET", "\(http)/images")
                let object = try JSONSerialization.jsonObject(with: Data(listing.body)) as? [String: Any]
                let items = try #require(object?["items"] as? [[String: Any]], "\(listing.text)")
                let names: [String] = items.compactMap { $0["name"] as? String }
                #expect(names == ["trip/first.jpg"], "\(listing.text)")
            }
        }
    }
}
