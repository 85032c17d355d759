// Write requests checked as S3 checks them (boto3 against the real `serve`), each answered 200 until session 33: a
// CopyObject with a metadata directive S3 does not know, a DeleteObjects listing no object, and S3's conditional
// writes (If-Match, If-None-Match) on PutObject and CompleteMultipartUpload, which were ignored. A CopyObject into a
// read-only bucket named PutObject in its refusal. S3's conditional deletes and version ids other than `null` (until
// session 37 both ignored: the picture was deleted whatever its ETag or the version named).
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSRequestChecksTests {
        @Test func writesAreCheckedAsS3ChecksThem() async throws {
            try await AWSCLITests.withServe { gateway in
                var pictures: [String] = []
                for seed in 341...345 {
                    let file = gateway.root.appendingPathComponent("p\(seed).jpg")
                    try Data(try AWSCLITests.jpeg(seed: seed)).write(to: file)
                    pictures.append(file.path)
                }
                let script = """
                    import boto3, json, sys, time
                    endpoint, key, secret = sys.argv[1:4]
                    pictures = [open(path, "rb").read() for path in sys.argv[4:9]]
                    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key,
                                      aws_secret_access_key=secret, region_name="us-east-1")
                    def attempt(call):
                        try:
                            call()
                            return ["ok", "", 200, ""]
                        except s3.exceptions.ClientError as error:
                            return [error.response["Error"]["Code"], error.response["Error"].get("Message", ""),
                                    error.response["ResponseMetadata"]["HTTPStatusCode"],
                                    error.response["Error"].get("ArgumentName", "")]
                    out = {}
                    s3.put_object(Bucket="uploads", Key="source.jpg", Body=pictures[0])
                    for _ in range(600):
                        if s3.list_objects_v2(Bucket="thumbnails").get("KeyCount", 0):
                            break
                        time.sleep(0.1)
                    thumbnail = s3.list_objects_v2(Bucket="thumbnails")["Contents"][0]["Key"]
                    source = {"Bucket": "thumbnails", "Key": thumbnail}
                    out["bogusDirective"] = attempt(lambda: s3.copy_object(
                        Bucket="uploads", Key="c/bogus.jpg", CopySource=source, MetadataDirective="BOGUS"))
                    out["copyIntoThumbnails"] = attempt(lambda: s3.copy_object(
                        Bucket="thumbnails", Key="x/y.jpg", CopySource=source))
                    out["emptyDelete"] = attempt(lambda: s3.delete_objects(Bucket="uploads", Delete={"Objects": []}))
                    out["ifMatchMissing"] = attempt(lambda: s3.put_object(
                        Bucket="uploads", Key="cond/a.jpg", Body=pictures[1], IfMatch='"0123"'))
                    out["ifNoneMatchETag"] = attempt(lambda: s3.put_object(
                        Bucket="uploads", Key="cond/b.jpg", Body=pictures[1], IfNoneMatch='"0123"'))
                    out["originalsAfterRefusals"] = s3.list_objects_v2(Bucket="originals")["KeyCount"]
                    out["ifNoneMatchStar"] = attempt(lambda: s3.put_object(
                        Bucket="uploads", Key="cond/c.jpg", Body=pictures[2], IfNoneMatch="*"))
                    upload = s3.create_multipart_upload(Bucket="uploads", Key="cond/d.jpg")["UploadId"]
                    etag = s3.upload_part(Bucket="uploads", Key="cond/d.jpg", UploadId=upload, PartNumber=1,
                                          Body=pictures[3])["ETag"]
                    parts = {"Parts": [{"PartNumber": 1, "ETag": etag}]}
                    out["completeIfMatch"] = attempt(lambda: s3.complete_multipart_upload(
                        Bucket="uploads", Key="cond/d.jpg", UploadId=upload, MultipartUpload=parts, IfMatch=etag))
                    out["completeIfNoneMatch"] = attempt(lambda: s3.complete_multipart_upload(
                        Bucket="uploads", Key="cond/d.jpg", UploadId=upload, MultipartUpload=parts, IfNoneMatch="*"))
                    out["originals"] = s3.list_objects_v2(Bucket="originals")["KeyCount"]
                    print(json.dumps(out))
                    """
                let out = try await AWSThrottleAndListingTests.boto3(script, pictures, gateway: gateway)
                func answer(_ name: String) -> [Any] { out[name] as? [Any] ?? [] }
                #expect(answer("bogusDirective")[0] as? String == "InvalidArgument", "\(out)")
                #expect(answer("bogusDirective")[1] as? String == "Unknown metadata directive.", "\(out)")
                #expect(answer("bogusDirective")[3] as? String == "x-amz-metadata-directive", "\(out)")
                #expect(answer("copyIntoThumbnails")[0] as? String == "AccessDenied", "\(out)")
                let copyMessage = answer("copyIntoThumbnails")[1] as? String ?? ""
                #expect(copyMessage.contains("CopyObject goes to the uploads bucket"), "\(copyMessage)")
                #expect(answer("emptyDelete")[0] as? String == "MalformedXML", "\(out)")
                #expect(answer("ifMatchMissing")[0] as? String == "NoSuchKey", "\(out)")
                #expect(answer("ifMatchMissing")[2] as? Int == 404, "\(out)")
                #expect(answer("ifNoneMatchETag")[0] as? String == "NotImplemented", "\(out)")
                #expect(out["originalsAfterRefusals"] as? Int == 1, "only the source is stored: \(out)")
                // An upload never stays in `uploads`: If-None-Match: * holds, If-Match finds nothing.
                #expect(answer("ifNoneMatchStar")[0] as? String == "ok", "\(out)")
                #expect(answer("completeIfMatch")[0] as? String == "NoSuchKey", "\(out)")
                #expect(answer("completeIfNoneMatch")[0] as? String == "ok", "\(out)")
                #expect(out["originals"] as? Int == 3, "\(out)")
            }
        }
    }
}

extension PicpipeCLI.AWSRequestChecksTests {
    /// A file dropped into `uploads/` that no watcher takes is an object of that key: a conditional write over it
    /// is held against it as S3 holds one against a stored object.
    @Test func aConditionalWriteIsHeldAgainstAFileWaitingInUploads() async throws {
        try await PicpipeCLI.AWSCLITests.withServe(environment: ["PICPIPE_WATCHER_ENABLED": "false"]) { gateway in
            let held = try PicpipeCLI.AWSCLITests.jpeg(seed: 346)
            try Data(held).write(to: gateway.store.appendingPathComponent("uploads/held.jpg"))
            let picture = gateway.root.appendingPathComponent("p.jpg")
            try Data(try PicpipeCLI.AWSCLITests.jpeg(seed: 347)).write(to: picture)
            let script = """
                import boto3, json, sys
                endpoint, key, secret, path = sys.argv[1:5]
                body = open(path, "rb").read()
                \(AWSTools.botoClientAndAttempt)
                etag = s3.head_object(Bucket="uploads", Key="held.jpg")["ETag"]
                put = lambda **options: lambda: s3.put_object(Bucket="uploads", Key="held.jpg", Body=body, **options)
                out = {"ifNoneMatchStar": attempt(put(IfNoneMatch="*")), "ifMatchOther": attempt(put(IfMatch='"0123"'))}
                out["originalsAfterRefusals"] = s3.list_objects_v2(Bucket="originals")["KeyCount"]
                out["ifMatch"] = attempt(put(IfMatch=etag))
                out["originals"] = s3.list_objects_v2(Bucket="originals")["KeyCount"]
                print(json.dumps(out))
                """
            let out = try await PicpipeCLI.AWSThrottleAndListingTests.boto3(script, [picture.path], gateway: gateway)
            #expect(out["ifNoneMatchStar"] as? String == "PreconditionFailed", "\(out)")
            #expect(out["ifMatchOther"] as? String == "PreconditionFailed", "\(out)")
            #expect(out["originalsAfterRefusals"] as? Int == 0, "\(out)")
            #expect(out["ifMatch"] as? String == "ok", "\(out)")
            #expect(out["originals"] as? Int == 1, "\(out)")
        }
    }
}

extension PicpipeCLI.AWSRequestChecksTests {
    /// S3's conditional deletes (If-Match on DeleteObject, `<ETag>` in DeleteObjects): an original is deleted only
    /// when its ETag matches, `If-Match: *` only where there is an object, and the conditions S3 honours on
    /// directory buckets only are refused. Until session 37 all were ignored and the picture was deleted anyway.
    @Test func aConditionalDeleteKeepsThePictureUnlessItsETagMatches() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            var pictures: [String] = []
            for seed in 371...372 {
                let file = gateway.root.appendingPathComponent("p\(seed).jpg")
                try Data(try PicpipeCLI.AWSCLITests.jpeg(seed: seed)).write(to: file)
                pictures.append(file.path)
            }
            let script = """
                import boto3, datetime, json, sys
                endpoint, key, secret = sys.argv[1:4]
                \(AWSTools.botoClientAndAttempt)
                keys, etags = [], []
                for index, path in enumerate(sys.argv[4:6]):
                    s3.put_object(Bucket="uploads", Key="del/%d.jpg" % index, Body=open(path, "rb").read())
                for item in s3.list_objects_v2(Bucket="originals")["Contents"]:
                    keys.append(item["Key"])
                    etags.append(item["ETag"])
                wrong = '"' + "0" * 32 + '"'
                def exists(name):
                    return attempt(lambda: s3.head_object(Bucket="originals", Key=name))
                out = {}
                out["wrongETag"] = attempt(lambda: s3.delete_object(Bucket="originals", Key=keys[0], IfMatch=wrong))
                out["afterWrongETag"] = exists(keys[0])
                batch = s3.delete_objects(Bucket="originals", Delete={"Objects": [{"Key": keys[1], "ETag": wrong}]})
                out["batchWrong"] = [[e["Key"], e["Code"]] for e in batch.get("Errors", [])]
                out["batchWrongDeleted"] = [d["Key"] for d in batch.get("Deleted", [])]
                out["afterBatchWrong"] = exists(keys[1])
                out["starMissing"] = attempt(lambda: s3.delete_object(
                    Bucket="originals", Key="ab/missing.jpg", IfMatch="*"))
                out["etagMissing"] = attempt(lambda: s3.delete_object(
                    Bucket="originals", Key="ab/missing.jpg", IfMatch=etags[0]))
                batch = s3.delete_objects(Bucket="originals", Delete={"Objects": [{"Key": "ab/missing.jpg", "ETag": wrong}]})
                out["batchMissing"] = [e["Code"] for e in batch.get("Errors", [])]
                out["size"] = attempt(lambda: s3.delete_object(Bucket="originals", Key=keys[0], IfMatchSize=1))
                out["modified"] = attempt(lambda: s3.delete_object(
                    Bucket="originals", Key=keys[0], IfMatchLastModifiedTime=datetime.datetime(2020, 1, 1)))
                batch = lambda: s3.delete_objects(Bucket="originals", Delete={"Objects": [{"Key": keys[0], "Size": 1}]})
                out["batchSize"] = attempt(batch)
                out["afterRefusals"] = exists(keys[0])
                out["rightETag"] = attempt(lambda: s3.delete_object(Bucket="originals", Key=keys[0], IfMatch=etags[0]))
                out["afterRightETag"] = exists(keys[0])
                batch = s3.delete_objects(Bucket="originals", Delete={"Objects": [{"Key": keys[1], "ETag": etags[1]}]})
                out["batchRight"] = [d["Key"] for d in batch.get("Deleted", [])]
                out["afterBatchRight"] = exists(keys[1])
                out["keys"] = keys
                print(json.dumps(out))
                """
            let out = try await PicpipeCLI.AWSThrottleAndListingTests.boto3(script, pictures, gateway: gateway)
            let keys = out["keys"] as? [String] ?? []
            #expect(keys.count == 2, "\(out)")
            #expect(out["wrongETag"] as? String == "PreconditionFailed", "\(out)")
            #expect(out["afterWrongETag"] as? String == "ok", "\(out)")
            #expect(out["batchWrong"] as? [[String]] == [[keys.last ?? "", "PreconditionFailed"]], "\(out)")
            #expect(out["batchWrongDeleted"] as? [String] == [], "\(out)")
            #expect(out["afterBatchWrong"] as? String == "ok", "\(out)")
            #expect(out["starMissing"] as? String == "NoSuchKey", "\(out)")
            #expect(out["etagMissing"] as? String == "NoSuchKey", "\(out)")
            #expect(out["batchMissing"] as? [String] == ["NoSuchKey"], "\(out)")
            #expect(out["size"] as? String == "NotImplemented", "\(out)")
            #expect(out["modified"] as? String == "NotImplemented", "\(out)")
            #expect(out["batchSize"] as? String == "NotImplemented", "\(out)")
            #expect(out["afterRefusals"] as? String == "ok", "\(out)")
            #expect(out["rightETag"] as? String == "ok", "\(out)")
            #expect(out["afterRightETag"] as? String == "404", "\(out)")
            #expect(out["batchRight"] as? [String] == [keys.last ?? ""], "\(out)")
            #expect(out["afterBatchRight"] as? String == "404", "\(out)")
        }
    }
}

extension PicpipeCLI.AWSRequestChecksTests {
    /// picpipe's buckets are never versioned, so `null` is the one version id, as on an S3 bucket that never was:
    /// another is refused on GetObject, HeadObject, DeleteObject and a copy's source, and is a key's NoSuchVersion
    /// in DeleteObjects. Until session 37 it was ignored: the current object was served, copied or deleted.
    @Test func aVersionIdOtherThanNullIsRefusedAndDeletesNothing() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            let picture = gateway.root.appendingPathComponent("p.jpg")
            try Data(try PicpipeCLI.AWSCLITests.jpeg(seed: 373)).write(to: picture)
            let script = """
                import boto3, json, sys
                endpoint, key, secret, path = sys.argv[1:5]
                \(AWSTools.botoClientAndAttempt)
                s3.put_object(Bucket="uploads", Key="v/p.jpg", Body=open(path, "rb").read())
                name = s3.list_objects_v2(Bucket="originals")["Contents"][0]["Key"]
                exists = lambda: attempt(lambda: s3.head_object(Bucket="originals", Key=name))
                other = "3HL4kqtJlcpXroDTDmJ"
                out = {}
                out["get"] = attempt(lambda: s3.get_object(Bucket="originals", Key=name, VersionId=other))
                out["head"] = attempt(lambda: s3.head_object(Bucket="originals", Key=name, VersionId=other))
                out["copy"] = attempt(lambda: s3.copy_object(
                    Bucket="uploads", Key="v/copy.jpg",
                    CopySource={"Bucket": "originals", "Key": name, "VersionId": other}))
                out["delete"] = attempt(lambda: s3.delete_object(Bucket="originals", Key=name, VersionId=other))
                out["afterDelete"] = exists()
                batch = s3.delete_objects(Bucket="originals", Delete={"Objects": [{"Key": name, "VersionId": other}]})
                out["batch"] = [[e["Code"], e.get("VersionId", "")] for e in batch.get("Errors", [])]
                out["batchDeleted"] = [d["Key"] for d in batch.get("Deleted", [])]
                out["afterBatch"] = exists()
                out["getNull"] = attempt(lambda: s3.get_object(Bucket="originals", Key=name, VersionId="null"))
                out["headNull"] = attempt(lambda: s3.head_object(Bucket="originals", Key=name, VersionId="null"))
                batch = s3.delete_objects(Bucket="originals", Delete={"Objects": [{"Key": name, "VersionId": "null"}]})
                out["batchNull"] = [[d["Key"], d.get("VersionId", "")] for d in batch.get("Deleted", [])]
                out["afterNull"] = exists()
                out["name"] = name
                print(json.dumps(out))
                """
            let out = try await PicpipeCLI.AWSThrottleAndListingTests.boto3(script, [picture.path], gateway: gateway)
            let name = out["name"] as? String ?? ""
            #expect(out["get"] as? String == "InvalidArgument", "\(out)")
            #expect(out["head"] as? String == "400", "\(out)")
            #expect(out["copy"] as? String == "InvalidArgument", "\(out)")
            #expect(out["delete"] as? String == "InvalidArgument", "\(out)")
            #expect(out["afterDelete"] as? String == "ok", "\(out)")
            #expect(out["batch"] as? [[String]] == [["NoSuchVersion", "3HL4kqtJlcpXroDTDmJ"]], "\(out)")
            #expect(out["batchDeleted"] as? [String] == [], "\(out)")
            #expect(out["afterBatch"] as? String == "ok", "\(out)")
            #expect(out["getNull"] as? String == "ok", "\(out)")
            #expect(out["headNull"] as? String == "ok", "\(out)")
            #expect(out["batchNull"] as? [[String]] == [[name, "null"]], "\(out)")
            #expect(out["afterNull"] as? String == "404", "\(out)")
        }
    }
}
