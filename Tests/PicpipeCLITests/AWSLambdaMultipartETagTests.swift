// A Lambda payload written as S3 writes its notifications names the object by the ETag head-object gives: after a
// multipart upload `md5-of-the-parts'-md5s-N`, which is checked against the ETag the front door keeps for the content
// (boto3 against the real `serve`). Until session 36 any `…-N` eTag was taken on the key's word.
import Foundation
import Testing

extension PicpipeCLI.AWSLambdaRefusalsTests {
    /// The expected ETags are computed in the script from the pictures' bytes, as S3 documents them: a single PUT's
    /// is the MD5 of the bytes, a multipart upload's the MD5 of the parts' binary MD5s, a dash and the part count.
    @Test func aMultipartETagMustBeTheOneKeptForTheContent() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            let root = gateway.root
            let pictures = try (41...43).map { seed in
                let file = root.appendingPathComponent("p\(seed).jpg")
                try Data(try PicpipeCLI.AWSCLITests.jpeg(seed: seed)).write(to: file)
                return file.path
            }
            // The third is dropped into the store's folder: no upload through S3 kept an ETag for it.
            try FileManager.default.copyItem(
                at: URL(fileURLWithPath: pictures[2]), to: gateway.store.appendingPathComponent("uploads/dropped.jpg"))
            try await ServeProcess.eventually("dropped processed") {
                try await StoreView.processed(gateway.store).contains("dropped.jpg")
            }
            let out = try await PicpipeCLI.AWSThrottleAndListingTests.boto3(
                """
                import boto3, botocore, hashlib, json, sys, time
                endpoint, key, secret, a, b, c = sys.argv[1:7]
                \(AWSTools.botoClientAndAttempt)
                lam = boto3.client("lambda", endpoint_url=endpoint, aws_access_key_id=key,
                                   aws_secret_access_key=secret, region_name="us-east-1",
                                   config=botocore.config.Config(retries={"max_attempts": 0}))
                md5 = lambda data: hashlib.md5(data).hexdigest()
                def multipart(name, data):
                    up = s3.create_multipart_upload(Bucket="uploads", Key=name)["UploadId"]
                    part = s3.upload_part(Bucket="uploads", Key=name, UploadId=up, PartNumber=1, Body=data)
                    s3.complete_multipart_upload(Bucket="uploads", Key=name, UploadId=up,
                                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
                    return md5(hashlib.md5(data).digest()) + "-1"
                def key_of(data):
                    sha = hashlib.sha256(data).hexdigest()
                    return sha[:2] + "/" + sha + ".jpg"
                def invoke(data, etag, kind="RequestResponse"):
                    record = {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                              "eventTime": "2026-12-07T00:00:00.000Z", "eventName": "ObjectCreated:Put",
                              "s3": {"s3SchemaVersion": "1.0", "configurationId": "picpipe",
                                     "bucket": {"name": "originals", "arn": "arn:aws:s3:::originals"},
                                     "object": {"key": key_of(data), "size": len(data), "eTag": etag,
                                                "sequencer": "01"}}}
                    # The uploads' own invocations may hold the function's one slot a moment (429): asked again.
                    for _ in range(200):
                        try:
                            answer = lam.invoke(FunctionName="thumbnail", InvocationType=kind,
                                                Payload=json.dumps({"Records": [record]}).encode())
                            body = answer["Payload"].read().decode()
                            return [answer["StatusCode"], answer.get("FunctionError"), body]
                        except botocore.exceptions.ClientError as failure:
                            if failure.response["Error"]["Code"] == "TooManyRequestsException":
                                time.sleep(0.1)
                                continue
                            return [failure.response["ResponseMetadata"]["HTTPStatusCode"],
                                    failure.response["Error"]["Code"], failure.response["Error"]["Message"]]
                data_a, data_b, data_c = (open(p, "rb").read() for p in (a, b, c))
                out = {}
                etag_a, etag_b = multipart("a.jpg", data_a), multipart("b.jpg", data_b)
                out["head"] = s3.head_object(Bucket="originals", Key=key_of(data_a))["ETag"].strip('"') == etag_a
                out["kept"] = invoke(data_a, etag_a)
                out["keptQuoted"] = invoke(data_a, '"' + etag_a + '"')
                out["zeros"] = invoke(data_a, "0" * 32 + "-2")
                out["zerosQueued"] = invoke(data_a, "0" * 32 + "-2", "Event")
                out["zerosDryRun"] = invoke(data_a, "0" * 32 + "-2", "DryRun")
                out["another"] = invoke(data_a, etag_b)
                out["md5"] = invoke(data_a, md5(data_a))
                # The same bytes put again in one piece: the ETag kept is now their MD5, the multipart one is stale.
                s3.put_object(Bucket="uploads", Key="a-again.jpg", Body=data_a)
                out["stale"] = invoke(data_a, etag_a)
                out["afterPut"] = invoke(data_a, md5(data_a))
                # Stored without S3: its ETag is its MD5, and no multipart ETag names it.
                out["droppedMultipart"] = invoke(data_c, md5(hashlib.md5(data_c).digest()) + "-1")
                out["droppedMD5"] = invoke(data_c, md5(data_c))
                out["md5s"] = {"a": md5(data_a), "c": md5(data_c), "etagA": etag_a}
                print(json.dumps(out))
                """, pictures, gateway: gateway)
            #expect(out["head"] as? Bool == true, "\(out)")
            let md5s = try #require(out["md5s"] as? [String: String])
            func answer(_ name: String) -> (status: Int?, error: String?, body: String) {
                let answer = out[name] as? [Any] ?? []
                return (answer.first as? Int, answer.dropFirst().first as? String, answer.last as? String ?? "")
            }
            for name in ["kept", "keptQuoted", "md5", "afterPut", "droppedMD5"] {
                let accepted = answer(name)
                #expect(accepted.status == 200 && accepted.error == nil, "\(name): \(accepted)")
            }
            let expected = [
                "zeros": "\"\(md5s["etagA"] ?? "")\"", "another": "\"\(md5s["etagA"] ?? "")\"",
                "stale": "\"\(md5s["a"] ?? "")\"", "droppedMultipart": "\"\(md5s["c"] ?? "")\"",
            ]
            for (name, etag) in expected {
                let refused = answer(name)
                #expect(refused.status == 200 && refused.error == "Unhandled", "\(name): \(refused)")
                let error = try JSONSerialization.jsonObject(with: Data(refused.body.utf8)) as? [String: Any]
                #expect(error?["errorType"] as? String == "InvalidPayload", "\(name): \(refused)")
                let message = error?["errorMessage"] as? String ?? ""
                #expect(message.hasSuffix("the original's ETag is \(etag)"), "\(name): \(refused)")
            }
            for name in ["zerosQueued", "zerosDryRun"] {
                let refused = answer(name)
                #expect(refused.status == 400, "\(name): \(refused)")
                #expect(refused.error == "InvalidRequestContentException", "\(name): \(refused)")
            }
        }
    }
}
