// The real boto3 and AWS CLI against the real `serve`: `Expect: 100-continue`, `response-*` overrides; a
// synchronous Invoke is refused with TooManyRequestsException while the function's only reserved slot runs an
// upload's invocation; ListObjects (version 1, with marker, prefix, delimiter, max-keys, NextMarker),
// ListMultipartUploads and UploadPartCopy.
import Foundation
import PipelineCore
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSThrottleAndListingTests {
        /// Runs a Python script with boto3 from the test venv; its stdout decoded as JSON.
        static func boto3(_ script: String, _ arguments: [String], gateway: AWSServe) async throws -> [String: Any] {
            let file = gateway.root.appendingPathComponent("script-\(UUID().uuidString).py")
            try Data(script.utf8).write(to: file)
            let output = try await AWSTools.run(
                AWSTools.python, [file.path, gateway.endpoint, AWSServe.keyID, AWSServe.secret] + arguments,
                environment: gateway.environment())
            guard output.status == 0 else { throw ServeTestError.timedOut("boto3 script: \(output.stderr)") }
            return (try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]) ?? [:]
        }

        @Test func invokeIsThrottledWhileAnUploadHoldsTheReservedConcurrency() async throws {
            guard await AWSTools.available() else { return }
            let root = try PicpipeProcess.temporaryFolder("aws-throttle")
            defer { try? FileManager.default.removeItem(at: root) }
            // One thumbnail worker: the function's reserved concurrency is 1.
            let gateway = try await AWSServe.start(
                root: root, environment: ["PICPIPE_FUNCTIONS_THUMBNAIL_CONCURRENCY": "1"])
            do {
                let store = gateway.store
                let small = try AWSCLITests.jpeg(seed: 21)
                let smallFile = root.appendingPathComponent("small.jpg")
                try Data(small).write(to: smallFile)
                #expect(
                    try await gateway.aws(["s3", "cp", smallFile.path, "s3://uploads/small.jpg", "--no-progress"])
                        .status == 0)
                try await ServeProcess.eventually("small processed") {
                    try await StoreView.processed(store).contains("small.jpg")
                }
                let hash = AWSCLITests.hash(small)
                let event = try AWSCLITests.payload(
                    key: AWSCLITests.originalKey(hash), size: small.count, hash: hash, in: root)
                // A large picture to drop into the upload folder: its thumbnail invocation holds the only slot a
                // while, on a queue worker (not through the Lambda API).
                let large = root.appendingPathComponent("large.jpg")
                try Data(try AWSCLITests.largeJPEG()).write(to: large)
                let drop = store.appendingPathComponent("uploads/large.jpg")
                let script = """
                    import boto3, json, os, sys, time
                    from botocore.config import Config
                    endpoint, key, secret, payload_path, large, drop = sys.argv[1:7]
                    lam = boto3.client("lambda", endpoint_url=endpoint, aws_access_key_id=key,
                                       aws_secret_access_key=secret, region_name="us-east-1",
                                       config=Config(retries={"total_max_attempts": 1}))
                    payload = open(payload_path, "rb").read()
                    os.rename(large, drop)
                    deadline, ok, refused = time.time() + 120, 0, None
                    while refused is None and time.time() < deadline:
                        try:
                            lam.invoke(FunctionName="thumbnail", Payload=payload)
                            ok += 1
                        except lam.exceptions.TooManyRequestsException as error:
                            refused = error.response
                    print(json.dumps({
                        "ok": ok,
                        "refused": refused is not None,
                        "status": refused and refused["ResponseMetadata"]["HTTPStatusCode"],
                        "errorType": refused and refused["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-errortype"),
                        "code": refused and refused["Error"]["Code"],
                        "reason": refused and refused.get("Reason"),
                        "message": refused and refused["Error"]["Message"],
                    }))
                    """
                let result = try await Self.boto3(script, [event.path, large.path, drop.path], gateway: gateway)
                #expect(result["refused"] as? Bool == true, "\(result)")
                #expect(result["status"] as? Int == 429)
                #expect(result["errorType"] as? String == "TooManyRequestsException")
                #expect(result["code"] as? String == "TooManyRequestsException")
                #expect(result["reason"] as? String == "ReservedFunctionConcurrentInvocationLimitExceeded", "\(result)")
                #expect((result["message"] as? String)?.contains("functions.thumbnail.reserved_concurrency") == true)
                // The upload's invocation was not disturbed, and once it is done a synchronous call runs again.
                try await ServeProcess.eventually("the large picture processed") {
                    try await StoreView.processed(store).contains("large.jpg")
                }
                let out = root.appendingPathComponent("out.json")
                let again = try await gateway.awsJSON([
                    "lambda", "invoke", "--function-name", "thumbnail", "--payload", "fileb://\(event.path)", out.path,
                ])
                #expect(again["StatusCode"] as? Int == 200)
                #expect(again["FunctionError"] == nil)
                // The refused call counts as a throttle in `stats`, as Lambda's Throttles metric counts it.
                let stats = try await PicpipeProcess.run(["stats", "--store", store.path, "--json"])
                let functions = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [[String: Any]]
                let thumbnail = functions?.first { $0["function"] as? String == "thumbnail" }
                #expect((thumbnail?["throttles"] as? Int ?? 0) >= 1, "\(stats.stdout)")
            } catch {
                print(gateway.serve.log.suffix(4000))
                await gateway.stop()
                throw error
            }
            await gateway.stop()
        }

        /// SIGTERM while a synchronous Invoke runs: the shutdown grace (0 here) starts at the signal and cuts the call,
        /// whose caller gets the reason, and serve exits. Until session 28 the runtime stopped only after the HTTP
        /// listeners had drained, so the call ran to its end (`succeeded`), holding serve past `shutdown_grace`.
        @Test func aSynchronousCallRunningAtSigtermIsCutWhenTheShutdownGraceEnds() async throws {
            guard await AWSTools.available() else { return }
            let root = try PicpipeProcess.temporaryFolder("aws-sigterm")
            defer { try? FileManager.default.removeItem(at: root) }
            let gateway = try await AWSServe.start(
                root: root,
                environment: ["PICPIPE_SHUTDOWN_GRACE": "0", "PICPIPE_FUNCTIONS_THUMBNAIL_CONCURRENCY": "2"])
            do {
                let store = gateway.store
                let large = try AWSCLITests.largeJPEG()
                try Data(large).write(to: store.appendingPathComponent("uploads/large.jpg"))
                try await ServeProcess.eventually("large processed") {
                    try await StoreView.processed(store).contains("large.jpg")
                }
                let hash = AWSCLITests.hash(large)
                let event = try AWSCLITests.payload(
                    key: AWSCLITests.originalKey(hash), size: large.count, hash: hash, in: root)
                // Its thumbnails removed, so the call makes them again (it takes a while) instead of finding them.
                for path in ServeProcess.files(store, "thumbnails") where path.contains(hash) {
                    try FileManager.default.removeItem(at: store.appendingPathComponent("thumbnails/\(path)"))
                }
                let out = root.appendingPathComponent("out.json")
                let arguments = [
                    "--endpoint-url", gateway.endpoint, "lambda", "invoke", "--function-name", "thumbnail",
                    "--payload", "fileb://\(event.path)", out.path,
                ]
                let environment = gateway.environment()
                let call = Task { try await AWSTools.run(AWSTools.aws, arguments, environment: environment) }
                try await ServeProcess.eventually("the call runs") {
                    try await StoreView.events(store).contains { $0.type == "RequestResponse" && $0.state == "running" }
                }
                gateway.serve.signal(SIGTERM)
                #expect(await gateway.serve.waitForExit(within: 120) == 0)
                let answer = try await call.value
                #expect(answer.status == 0, "\(answer.stderr)")
                let fields = try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any]
                #expect(fields?["FunctionError"] as? String == "Unhandled", "\(answer.stdout)")
                let payload = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
                #expect(payload.contains("serve is shutting down"), "\(payload)")
                let calls = try await StoreView.events(store).filter { $0.type == "RequestResponse" }
                #expect(calls.map(\.state) == ["failed"], "\(calls)")
            } catch {
                print(gateway.serve.log.suffix(4000))
                await gateway.stop()
                throw error
            }
            await gateway.stop()
        }

        /// GetObject's `response-*` parameters set the answer's headers, as S3 sets them on signed requests: a
        /// presigned download link with a file name (`ResponseContentDisposition`), another type, no caching. They
        /// were ignored. A value no header may carry is refused, never written into the answer.
        @Test func responseOverridesSetTheHeadersOfGetAndHead() async throws {
            try await AWSCLITests.withServe { gateway in
                let key = try await AWSCLITests.uploadedThumbnail(gateway, name: "override.jpg", seed: 12)
                let script = """
                    import boto3, json, sys, urllib.request, urllib.error
                    endpoint, key, secret, thumbnail = sys.argv[1:5]
                    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key,
                                      aws_secret_access_key=secret, region_name="us-east-1")
                    def fetch(params):
                        url = s3.generate_presigned_url("get_object", ExpiresIn=60,
                                                        Params=dict(Bucket="thumbnails", Key=thumbnail, **params))
                        try:
                            answer = urllib.request.urlopen(url)
                            return [answer.status, answer.headers.get("Content-Disposition"),
                                    answer.headers.get("Content-Type"), answer.headers.get("Cache-Control"),
                                    answer.headers.get("X-Evil"), len(answer.read())]
                        except urllib.error.HTTPError as error:
                            return [error.code, error.read().decode()]
                    out = {"plain": fetch({})}
                    asked = {"ResponseContentDisposition": 'attachment; filename="holiday.jpg"',
                             "ResponseContentType": "application/octet-stream", "ResponseCacheControl": "no-store"}
                    out["overridden"] = [fetch(asked), fetch(asked)]
                    out["injected"] = fetch({"ResponseContentType": "text/plain\\r\\nX-Evil: 1"})
                    head = s3.head_object(Bucket="thumbnails", Key=thumbnail, ResponseContentLanguage="fr",
                                          ResponseContentDisposition="inline")
                    out["head"] = [head["ResponseMetadata"]["HTTPHeaders"].get("content-language"),
                                   head["ResponseMetadata"]["HTTPHeaders"].get("content-disposition")]

                    # A SigV4-presigned PUT (a browser's upload without a form).
                    from botocore.config import Config
                    v4 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                                      region_name="us-east-1", config=Config(signature_version="s3v4"))
                    picture = s3.get_object(Bucket="thumbnails", Key=thumbnail)["Body"].read()
                    put = v4.generate_presigned_url("put_object", Params={"Bucket": "uploads", "Key": "put/p.jpg"},
                                                    ExpiresIn=60)
                    answer = urllib.request.urlopen(urllib.request.Request(put, data=picture, method="PUT"))
                    out["presignedPut"] = answer.status
                    print(json.dumps(out))
                    """
                let out = try await Self.boto3(script, [key], gateway: gateway)
                let size = try Data(contentsOf: gateway.store.appendingPathComponent("thumbnails/" + key)).count
                let plain = try #require(out["plain"] as? [Any])
                #expect(plain[0] as? Int == 200 && plain[1] is NSNull && plain[2] as? String == "image/jpeg")
                for answer in try #require(out["overridden"] as? [[Any]]) {
                    #expect(answer[0] as? Int == 200)
                    #expect(answer[1] as? String == #"attachment; filename="holiday.jpg""#)
                    #expect(answer[2] as? String == "application/octet-stream")
                    #expect(answer[3] as? String == "no-store")
                    #expect(answer[5] as? Int == size)
                }
                let injected = try #require(out["injected"] as? [Any])
                #expect(injected[0] as? Int == 400)
                #expect((injected[1] as? String)?.contains("<Code>InvalidArgument</Code>") == true, "\(injected)")
                #expect(out["head"] as? [String] == ["fr", "inline"])
                #expect(out["presignedPut"] as? Int == 200)
            }
        }

        /// boto3 sends `Expect: 100-continue` with every PutObject and UploadPart and holds the body back for it: it
        /// waited a second per upload for a "100 Continue" that never came; and a PutObject refused before its body
        /// (AccessDenied) left the connection out of step, so the next call on it failed with a 400.
        @Test func uploadsGetTheirContinueAndARefusalLeavesTheNextCallWhole() async throws {
            try await AWSCLITests.withServe { gateway in
                let file = gateway.root.appendingPathComponent("continue.jpg")
                try Data(try AWSCLITests.jpeg(seed: 13)).write(to: file)
                let script = """
                    import boto3, io, json, logging, sys
                    endpoint, key, secret, path = sys.argv[1:5]
                    log = io.StringIO()
                    handler = logging.StreamHandler(log)
                    logging.getLogger("botocore.awsrequest").addHandler(handler)
                    logging.getLogger("botocore.awsrequest").setLevel(logging.DEBUG)
                    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key,
                                      aws_secret_access_key=secret, region_name="us-east-1")
                    out = {"calls": []}
                    s3.put_object(Bucket="uploads", Key="continue.jpg", Body=open(path, "rb"))
                    for attempt in range(2):
                        try:
                            s3.put_object(Bucket="thumbnails", Key="refused.jpg", Body=open(path, "rb"))
                            out["calls"].append("put accepted")
                        except s3.exceptions.ClientError as error:
                            out["calls"].append(error.response["Error"]["Code"])
                        try:
                            listed = s3.list_objects_v2(Bucket="originals")
                            out["calls"].append("listed %d" % listed["KeyCount"])
                        except Exception as error:
                            out["calls"].append(str(error))
                    out["log"] = log.getvalue()
                    print(json.dumps(out))
                    """
                let out = try await Self.boto3(script, [file.path], gateway: gateway)
                #expect(out["calls"] as? [String] == ["AccessDenied", "listed 1", "AccessDenied", "listed 1"])
                let log = try #require(out["log"] as? String)
                #expect(log.contains("100 Continue response seen, now sending request body"), "\(log)")
                #expect(!log.contains("No response seen from server"), "\(log)")
            }
        }

        @Test func listObjectsV1MultipartUploadsAndUploadPartCopy() async throws {
            try await AWSCLITests.withServe { gateway in
                let store = gateway.store
                var names: [String] = []
                for seed in 30..<33 {
                    let file = gateway.root.appendingPathComponent("p\(seed).jpg")
                    try Data(try AWSCLITests.jpeg(seed: seed)).write(to: file)
                    await #expect(
                        try gateway.aws(["s3", "cp", file.path, "s3://uploads/p\(seed).jpg", "--no-progress"]).status
                            == 0)
                    names.append("p\(seed).jpg")
                }
                let largeBytes = try AWSCLITests.largeJPEG()
                let large = gateway.root.appendingPathComponent("large.jpg")
                try Data(largeBytes).write(to: large)
                #expect(
                    try await gateway.aws(["s3", "cp", large.path, "s3://uploads/large.jpg", "--no-progress"]).status
                        == 0)
                try await ServeProcess.eventually("all processed") {
                    try await StoreView.processed(store).isSuperset(of: names + ["large.jpg"])
                }
                let largeKey = AWSCLITests.originalKey(AWSCLITests.hash(largeBytes))
                let script = """
                    import boto3, hashlib, json, sys
                    endpoint, key, secret, large_key, large_path = sys.argv[1:6]
                    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key,
                                      aws_secret_access_key=secret, region_name="us-east-1")
                    out = {}
                    every = s3.list_objects(Bucket="originals")
                    out["all"] = [o["Key"] for o in every["Contents"]]
                    out["allTruncated"] = every["IsTruncated"]
                    first = s3.list_objects(Bucket="originals", MaxKeys=2)
                    out["first"] = [o["Key"] for o in first["Contents"]]
                    out["firstTruncated"] = first["IsTruncated"]
                    out["firstNextMarker"] = first.get("NextMarker")
                    rest = s3.list_objects(Bucket="originals", Marker=out["first"][-1])
                    out["rest"] = [o["Key"] for o in rest["Contents"]]
                    out["restMarker"] = rest["Marker"]
                    rolled = s3.list_objects(Bucket="originals", Delimiter="/", MaxKeys=1)
                    out["rolled"] = [p["Prefix"] for p in rolled.get("CommonPrefixes", [])]
                    out["rolledContents"] = len(rolled.get("Contents", []))
                    out["rolledNextMarker"] = rolled.get("NextMarker")
                    after = s3.list_objects(Bucket="originals", Delimiter="/", Marker=rolled.get("NextMarker", ""))
                    out["after"] = [p["Prefix"] for p in after.get("CommonPrefixes", [])]
                    prefix = out["all"][0][:3]
                    out["prefixed"] = [o["Key"] for o in s3.list_objects(Bucket="originals", Prefix=prefix)["Contents"]]
                    out["prefix"] = prefix
                    out["etag"] = every["Contents"][0]["ETag"]

                    # Uploads in progress.
                    ids = {}
                    for name in ["mp/a.jpg", "mp/b.jpg", "other.jpg"]:
                        ids[name] = s3.create_multipart_upload(Bucket="uploads", Key=name)["UploadId"]
                    listed = s3.list_multipart_uploads(Bucket="uploads")
                    out["uploads"] = [[u["Key"], u["UploadId"]] for u in listed["Uploads"]]
                    out["ids"] = ids
                    grouped = s3.list_multipart_uploads(Bucket="uploads", Delimiter="/")
                    out["grouped"] = [p["Prefix"] for p in grouped.get("CommonPrefixes", [])]
                    out["groupedUploads"] = [u["Key"] for u in grouped.get("Uploads", [])]
                    page = s3.list_multipart_uploads(Bucket="uploads", MaxUploads=1)
                    out["page"] = [u["Key"] for u in page["Uploads"]]
                    out["pageTruncated"] = page["IsTruncated"]
                    out["pageNext"] = [page.get("NextKeyMarker"), page.get("NextUploadIdMarker")]
                    following = s3.list_multipart_uploads(Bucket="uploads", KeyMarker=page["NextKeyMarker"],
                                                          UploadIdMarker=page["NextUploadIdMarker"])
                    out["following"] = [u["Key"] for u in following["Uploads"]]
                    for name in ["mp/a.jpg", "mp/b.jpg"]:
                        s3.abort_multipart_upload(Bucket="uploads", Key=name, UploadId=ids[name])

                    # A new object from two ranges of a stored one: the first copied, the second uploaded.
                    data = open(large_path, "rb").read()
                    cut = 5 * 1024 * 1024 + 12345
                    upload = ids["other.jpg"]
                    copied = s3.upload_part_copy(Bucket="uploads", Key="other.jpg", UploadId=upload, PartNumber=1,
                                                 CopySource={"Bucket": "originals", "Key": large_key},
                                                 CopySourceRange="bytes=0-%d" % (cut - 1))
                    out["copyETag"] = copied["CopyPartResult"]["ETag"]
                    out["copyExpected"] = '"%s"' % hashlib.md5(data[:cut]).hexdigest()
                    second = s3.upload_part(Bucket="uploads", Key="other.jpg", UploadId=upload, PartNumber=2,
                                            Body=data[cut:])
                    # Those are the stored picture's own bytes: a copy onto itself, refused; the parts stay.
                    try:
                        s3.complete_multipart_upload(
                            Bucket="uploads", Key="other.jpg", UploadId=upload,
                            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]},
                                                       {"PartNumber": 2, "ETag": second["ETag"]}]})
                        out["copyOfItself"] = "completed"
                    except s3.exceptions.ClientError as error:
                        out["copyOfItself"] = error.response["Error"]["Code"]
                    # Bytes after the JPEG's end make it another picture.
                    tail = data[cut:] + bytes(16)
                    second = s3.upload_part(Bucket="uploads", Key="other.jpg", UploadId=upload, PartNumber=2,
                                            Body=tail)
                    parts = s3.list_parts(Bucket="uploads", Key="other.jpg", UploadId=upload)["Parts"]
                    out["partSizes"] = [p["Size"] for p in parts]
                    try:
                        s3.upload_part_copy(Bucket="uploads", Key="other.jpg", UploadId=upload, PartNumber=3,
                                            CopySource={"Bucket": "originals", "Key": large_key},
                                            CopySourceRange="bytes=0-%d" % len(data))
                        out["badRange"] = "accepted"
                    except s3.exceptions.ClientError as error:
                        out["badRange"] = error.response["Error"]["Code"]
                    done = s3.complete_multipart_upload(
                        Bucket="uploads", Key="other.jpg", UploadId=upload,
                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]},
                                                   {"PartNumber": 2, "ETag": second["ETag"]}]})
                    md5s = hashlib.md5(hashlib.md5(data[:cut]).digest() + hashlib.md5(tail).digest())
                    out["completeETag"] = done["ETag"]
                    out["completeExpected"] = '"%s-2"' % md5s.hexdigest()

                    # Parts out of order, one sent twice (first with wrong bytes): the last upload of a part counts.
                    size = 6 * 1024 * 1024
                    chunks = [data[i:i + size] for i in range(0, len(data), size)]
                    upload = s3.create_multipart_upload(Bucket="uploads", Key="shuffled.jpg")["UploadId"]
                    etags = {}
                    for number in [3, 1, 2] + list(range(4, len(chunks) + 1)):
                        if number == 1:
                            s3.upload_part(Bucket="uploads", Key="shuffled.jpg", UploadId=upload, PartNumber=1,
                                           Body=bytes(len(chunks[0])))
                        etags[number] = s3.upload_part(Bucket="uploads", Key="shuffled.jpg", UploadId=upload,
                                                       PartNumber=number, Body=chunks[number - 1])["ETag"]
                    shuffled = s3.complete_multipart_upload(
                        Bucket="uploads", Key="shuffled.jpg", UploadId=upload,
                        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n]} for n in sorted(etags)]})
                    out["shuffledETag"] = shuffled["ETag"]
                    out["shuffledExpected"] = '"%s-%d"' % (
                        hashlib.md5(b"".join(hashlib.md5(c).digest() for c in chunks)).hexdigest(), len(chunks))
                    out["left"] = [u["Key"] for u in s3.list_multipart_uploads(Bucket="uploads").get("Uploads", [])]
                    out["originalsAfter"] = sorted(o["Key"] for o in s3.list_objects(Bucket="originals")["Contents"])
                    print(json.dumps(out))
                    """
                let out = try await Self.boto3(script, [largeKey, large.path], gateway: gateway)
                let all = try #require(out["all"] as? [String])
                #expect(all.count == 4)
                #expect(all == all.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
                #expect(out["allTruncated"] as? Bool == false)
                #expect(out["first"] as? [String] == Array(all.prefix(2)))
                #expect(out["firstTruncated"] as? Bool == true)
                #expect(
                    out["firstNextMarker"] == nil || out["firstNextMarker"] is NSNull,
                    "no NextMarker without a delimiter")
                #expect(out["rest"] as? [String] == Array(all.dropFirst(2)))
                #expect(out["restMarker"] as? String == all[1])
                let shards = Array(Set(all.map { String($0.prefix(3)) })).sorted()
                #expect(out["rolled"] as? [String] == [shards[0]])
                #expect(out["rolledContents"] as? Int == 0)
                if shards.count > 1 {
                    #expect(out["rolledNextMarker"] as? String == shards[0])
                    #expect(out["after"] as? [String] == Array(shards.dropFirst()))
                }
                #expect(out["prefixed"] as? [String] == all.filter { $0.hasPrefix(out["prefix"] as? String ?? "-") })
                #expect((out["etag"] as? String)?.hasPrefix("\"") == true)

                let ids = try #require(out["ids"] as? [String: String])
                let uploads = try #require(out["uploads"] as? [[String]])
                #expect(uploads.map { $0[0] } == ["mp/a.jpg", "mp/b.jpg", "other.jpg"])
                #expect(uploads.allSatisfy { ids[$0[0]] == $0[1] })
                #expect(out["grouped"] as? [String] == ["mp/"])
                #expect(out["groupedUploads"] as? [String] == ["other.jpg"])
                #expect(out["page"] as? [String] == ["mp/a.jpg"])
                #expect(out["pageTruncated"] as? Bool == true)
                #expect(out["pageNext"] as? [String] == ["mp/a.jpg", ids["mp/a.jpg"] ?? "-"])
                #expect(out["following"] as? [String] == ["mp/b.jpg", "other.jpg"])

                #expect(out["copyETag"] as? String == out["copyExpected"] as? String)
                #expect(
                    out["partSizes"] as? [Int] == [
                        5 * 1024 * 1024 + 12345, largeBytes.count - (5 * 1024 * 1024 + 12345) + 16,
                    ])
                #expect(out["badRange"] as? String == "InvalidArgument")
                #expect(out["copyOfItself"] as? String == "InvalidRequest")
                #expect(out["completeETag"] as? String == out["completeExpected"] as? String)
                #expect(out["shuffledETag"] as? String == out["shuffledExpected"] as? String)
                #expect(out["left"] as? [String] == [])
                // The shuffled upload has the large picture's bytes exactly: the same content id, no new original; the
                // one with a new tail is a new original.
                let after = try #require(out["originalsAfter"] as? [String])
                #expect(after.count == all.count + 1 && Set(all).isSubset(of: after), "\(after)")

                // The AWS CLI's list-objects pages through ListObjects v1 by marker.
                let listed = try await gateway.awsJSON([
                    "s3api", "list-objects", "--bucket", "originals", "--page-size", "1",
                ])
                let keys = (listed["Contents"] as? [[String: Any]] ?? []).compactMap { $0["Key"] as? String }
                #expect(keys == after)
            }
        }
    }
}

extension PicpipeCLI.AWSThrottleAndListingTests {
    /// `aws s3 sync` of a folder sends every file, dot-named ones too (macOS's `._IMG.jpg`, a `.trip/` folder): they
    /// were refused ("not a plain relative path"), so the sync failed; a key is a source name, not a path in the
    /// store. `..` is still refused. ListObjects names each object's owner (boto3's `o["Owner"]` was a KeyError),
    /// ListObjectsV2 when asked (`--fetch-owner`).
    @Test func syncTakesDotNamesAndListingsNameTheOwner() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            let folder = gateway.root.appendingPathComponent("holiday")
            try FileManager.default.createDirectory(
                at: folder.appendingPathComponent(".trip"), withIntermediateDirectories: true)
            for (seed, name) in [(41, "a.jpg"), (42, ".trip/b.jpg"), (43, "._c.jpg")] {
                try Data(try PicpipeCLI.AWSCLITests.jpeg(seed: seed)).write(to: folder.appendingPathComponent(name))
            }
            let sync = try await gateway.aws(["s3", "sync", folder.path, "s3://uploads/holiday/", "--no-progress"])
            #expect(sync.status == 0, "\(sync.stdout)\(sync.stderr)")
            try await ServeProcess.eventually("the three synced files processed") {
                try await StoreView.processed(gateway.store)
                    .isSuperset(of: ["holiday/a.jpg", "holiday/.trip/b.jpg", "holiday/._c.jpg"])
            }
            let file = folder.appendingPathComponent("a.jpg").path
            let escaping = try await gateway.aws(["s3", "cp", file, "s3://uploads/holiday/../a.jpg"])
            #expect(escaping.status != 0 && escaping.stderr.contains("not a plain relative path"), "\(escaping.stderr)")

            let v1 = try await gateway.awsJSON(["s3api", "list-objects", "--bucket", "originals"])
            let v1Contents = try #require(v1["Contents"] as? [[String: Any]])
            #expect(v1Contents.count == 3)
            #expect(v1Contents.allSatisfy { ($0["Owner"] as? [String: String])?["ID"] == "picpipe" }, "\(v1)")
            let v2 = try await gateway.awsJSON(["s3api", "list-objects-v2", "--bucket", "originals"])
            #expect((v2["Contents"] as? [[String: Any]])?.allSatisfy { $0["Owner"] == nil } == true)
            let owned = try await gateway.awsJSON([
                "s3api", "list-objects-v2", "--bucket", "originals", "--fetch-owner",
            ])
            #expect(
                (owned["Contents"] as? [[String: Any]])?.allSatisfy {
                    ($0["Owner"] as? [String: String])?["DisplayName"] == "picpipe"
                } == true, "\(owned)")
        }
    }
}

extension PicpipeCLI.AWSThrottleAndListingTests {
    /// The SDKs' transfer managers start a download with `partNumber=1`: an object picpipe holds is one part, so part
    /// 1 is the whole object as a 206 with its Content-Range (it was a plain 200, the parameter ignored), part 2 is
    /// S3's InvalidPartNumber, and a Range beside it is InvalidRequest.
    @Test func partNumberOneIsTheWholeObject() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            let bytes = try PicpipeCLI.AWSCLITests.jpeg(seed: 61)
            let file = gateway.root.appendingPathComponent("part.jpg")
            try Data(bytes).write(to: file)
            #expect(
                try await gateway.aws(["s3", "cp", file.path, "s3://uploads/part.jpg", "--no-progress"]).status == 0)
            let key = PicpipeCLI.AWSCLITests.originalKey(PicpipeCLI.AWSCLITests.hash(bytes))
            let out = gateway.root.appendingPathComponent("part-1.bin")
            let first = try await gateway.awsJSON([
                "s3api", "get-object", "--bucket", "originals", "--key", key, "--part-number", "1", out.path,
            ])
            #expect(first["ContentRange"] as? String == "bytes 0-\(bytes.count - 1)/\(bytes.count)", "\(first)")
            #expect(try Data(contentsOf: out) == Data(bytes))
            let second = try await gateway.aws([
                "s3api", "head-object", "--bucket", "originals", "--key", key, "--part-number", "2",
            ])
            #expect(second.status != 0 && second.stderr.contains("416"), "\(second.stderr)")
            let both = try await gateway.aws([
                "s3api", "get-object", "--bucket", "originals", "--key", key, "--part-number", "1", "--range",
                "bytes=0-1", out.path,
            ])
            #expect(both.status != 0 && both.stderr.contains("InvalidRequest"), "\(both.stderr)")
        }
    }
}

extension PicpipeCLI.AWSThrottleAndListingTests {
    /// Deploy tools list a function's versions and aliases before they look on: one version, `$LATEST`, no alias,
    /// and a named alias is not found. They were UnknownOperationException.
    @Test func versionsAndAliasesAreListed() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            let versions = try await gateway.awsJSON([
                "lambda", "list-versions-by-function", "--function-name", "thumbnail",
            ])
            let listed = try #require(versions["Versions"] as? [[String: Any]])
            #expect(listed.map { $0["Version"] as? String } == ["$LATEST"])
            #expect(listed.first?["FunctionName"] as? String == "thumbnail")
            let aliases = try await gateway.awsJSON(["lambda", "list-aliases", "--function-name", "metadata"])
            #expect((aliases["Aliases"] as? [Any])?.isEmpty == true, "\(aliases)")
            let alias = try await gateway.aws(["lambda", "get-alias", "--function-name", "thumbnail", "--name", "live"])
            #expect(alias.status != 0 && alias.stderr.contains("ResourceNotFoundException"), "\(alias.stderr)")
            let unknown = try await gateway.aws(["lambda", "list-versions-by-function", "--function-name", "nope"])
            #expect(unknown.stderr.contains("ResourceNotFoundException"), "\(unknown.stderr)")
        }
    }
}

extension PicpipeCLI.AWSThrottleAndListingTests {
    /// What boto3 sees of function names, pages and settings, as Lambda answers them: a partial ARN names the
    /// function, an ARN of another region or account does not; ListFunctions pages by MaxItems and Marker; Put of an
    /// event invoke config replaces it (Update merges); the Event payload limit is 1 MB; GetFunctionConcurrency
    /// names the limit a 429 applies; `picpipe invoke` runs with what the Lambda API set.
    @Test func namesPagesAndSettingsAsLambdaHasThem() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            // 4,200 x 4,200 pixels: within the default memory_mb, over what 128 MB allows (8 bytes a pixel).
            let picture = gateway.root.appendingPathComponent("p.jpg")
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 3, width: 4200, height: 4200).write(to: picture)
            let put = try await gateway.aws(["s3", "cp", picture.path, "s3://uploads/p.jpg"])
            #expect(put.status == 0, "\(put.stderr)")
            try await ServeProcess.eventually("made") { try await StoreView.processed(gateway.store).contains("p.jpg") }
            let script = """
                import boto3, json, sys, botocore
                endpoint, key, secret = sys.argv[1:4]
                lam = boto3.client("lambda", endpoint_url=endpoint, aws_access_key_id=key,
                                   aws_secret_access_key=secret, region_name="us-east-1")
                def code(call):
                    try:
                        call()
                        return "ok"
                    except botocore.exceptions.ClientError as e:
                        return e.response["Error"]["Code"]
                out = {}
                out["partial"] = lam.get_function_configuration(
                    FunctionName="000000000000:function:metadata")["FunctionName"]
                out["partialLatest"] = lam.get_function_configuration(
                    FunctionName="000000000000:function:metadata:$LATEST")["FunctionName"]
                out["otherRegion"] = code(lambda: lam.get_function_configuration(
                    FunctionName="arn:aws:lambda:eu-west-1:000000000000:function:thumbnail"))
                out["otherAccount"] = code(lambda: lam.get_function_configuration(
                    FunctionName="arn:aws:lambda:us-east-1:999999999999:function:thumbnail"))
                out["otherAccountPartial"] = code(lambda: lam.get_function_configuration(
                    FunctionName="999999999999:function:thumbnail"))
                pages, marker = [], None
                while True:
                    page = lam.list_functions(MaxItems=1, **({"Marker": marker} if marker else {}))
                    pages.append([f["FunctionName"] for f in page["Functions"]])
                    marker = page.get("NextMarker")
                    if not marker:
                        break
                out["pages"] = pages
                out["badMarker"] = code(lambda: lam.list_functions(Marker="nonsense"))
                lam.put_function_event_invoke_config(FunctionName="thumbnail", MaximumRetryAttempts=0)
                lam.update_function_event_invoke_config(FunctionName="thumbnail", MaximumEventAgeInSeconds=600)
                merged = lam.get_function_event_invoke_config(FunctionName="thumbnail")
                out["merged"] = [merged["MaximumRetryAttempts"], merged["MaximumEventAgeInSeconds"]]
                lam.put_function_event_invoke_config(FunctionName="thumbnail", MaximumEventAgeInSeconds=7200)
                replaced = lam.get_function_event_invoke_config(FunctionName="thumbnail")
                out["replaced"] = [replaced["MaximumRetryAttempts"], replaced["MaximumEventAgeInSeconds"]]
                record = {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                          "eventTime": "2026-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
                          "s3": {"s3SchemaVersion": "1.0", "configurationId": "x",
                                 "bucket": {"name": "store", "arn": "arn:aws:s3:::store"},
                                 "object": {"key": "originals/aa/" + "a" * 64 + ".jpg", "size": 1,
                                            "eTag": "a" * 64, "sequencer": "01"}}}
                big = json.dumps({"Records": [record], "padding": "x" * 1100000})
                out["bigEvent"] = code(lambda: lam.invoke(FunctionName="thumbnail", InvocationType="Event", Payload=big))
                out["concurrency"] = lam.get_function_concurrency(FunctionName="thumbnail").get(
                    "ReservedConcurrentExecutions")
                lam.update_function_configuration(FunctionName="thumbnail", MemorySize=128)
                print(json.dumps(out))
                """
            let scriptFile = gateway.root.appendingPathComponent("lambda-names.py")
            try Data(script.utf8).write(to: scriptFile)
            let output = try await AWSTools.run(
                AWSTools.python, [scriptFile.path, gateway.endpoint, AWSServe.keyID, AWSServe.secret],
                environment: gateway.environment())
            #expect(output.status == 0, "\(output.stderr)")
            let result = try #require(
                try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
            #expect(result["partial"] as? String == "metadata")
            #expect(result["partialLatest"] as? String == "metadata")
            #expect(result["otherRegion"] as? String == "InvalidParameterValueException")
            #expect(result["otherAccount"] as? String == "ResourceNotFoundException")
            #expect(result["otherAccountPartial"] as? String == "ResourceNotFoundException")
            #expect(result["pages"] as? [[String]] == [["thumbnail"], ["metadata"], ["fetch"]])
            #expect(result["badMarker"] as? String == "InvalidParameterValueException")
            #expect(result["merged"] as? [Int] == [0, 600])
            #expect(result["replaced"] as? [Int] == [2, 7200], "Put replaces: the retries go back to Lambda's 2")
            #expect(result["bigEvent"] as? String == "RequestEntityTooLargeException")
            #expect(result["concurrency"] as? Int == 1)

            // The CLI's own invocation runs with the memory the Lambda API set, as serve's do (its thumbnails
            // removed first, so it decodes).
            try FileManager.default.removeItem(at: gateway.store.appendingPathComponent("thumbnails"))
            let key = "originals/" + PicpipeProcess.files(under: gateway.store.appendingPathComponent("originals"))[0]
            let invoked = try await PicpipeProcess.run([
                "invoke", "thumbnail", "--key", key, "--store", gateway.store.path,
            ])
            #expect(invoked.status == 1)
            #expect(invoked.stdout.contains("functions.thumbnail.memory_mb: 128 MiB"), "\(invoked.stdout)")
        }
    }
}
