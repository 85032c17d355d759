// Flexible checksums in multipart uploads (boto3 against the real `serve`): CreateMultipartUpload's
// x-amz-checksum-algorithm is echoed and kept, every part has a checksum of it (the client's, or computed), ListParts
// and ListMultipartUploads show them, a part naming another algorithm is refused, and CompleteMultipartUpload checks
// the checksums its list gives (InvalidPart on a mismatch, as S3). The algorithm was dropped, parts' checksums were
// not listed, and a completion listing a wrong ChecksumSHA256 was stored. The completed object has the checksum S3
// gives it (composite `BASE64-N`, or the whole object's for CRC64NVME and `x-amz-checksum-type: FULL_OBJECT`) in the
// completion's answer and on HEAD and GET with checksum mode; until session 36 it had none.
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

        /// The expected values are computed here, from the picture's bytes, as S3 documents them: a composite checksum
        /// is the algorithm's checksum of the parts' binary checksums joined, in base64, a dash and the part count;
        /// a full-object one the checksum of all the bytes (CRC-64/NVME by table, as Python has none).
        @Test func aCompletedObjectHasTheChecksumS3GivesIt() async throws {
            try await AWSCLITests.withServe { gateway in
                let out = try await AWSMultipartCompletionTests.run(
                    """
                    import base64, zlib
                    from boto3.s3.transfer import TransferConfig
                    b64 = lambda raw: base64.b64encode(raw).decode()
                    crc32 = lambda data: zlib.crc32(data).to_bytes(4, "big")
                    sha256 = lambda data: hashlib.sha256(data).digest()
                    table = []
                    for n in range(256):
                        c = n
                        for _ in range(8):
                            c = (c >> 1) ^ 0x9A6C9329AC4BC9B5 if c & 1 else c >> 1
                        table.append(c)
                    def crc64nvme(data):
                        c = 0xFFFFFFFFFFFFFFFF
                        for byte in data:
                            c = table[(c ^ byte) & 0xFF] ^ (c >> 8)
                        return (c ^ 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
                    pieces = [picture[:5 * MiB], picture[5 * MiB:10 * MiB], picture[10 * MiB:]]
                    sha = hashlib.sha256(picture).hexdigest()
                    original = sha[:2] + "/" + sha + ".jpg"
                    def checksums(answer):
                        return {k: v for k, v in answer.items() if k.startswith("Checksum")}
                    def created(name, **create):
                        return s3.create_multipart_upload(Bucket="uploads", Key=name, **create)["UploadId"]
                    # botocore computes no CRC-64/NVME without its crt extra: those parts go without a checksum,
                    # and the server computes the upload's.
                    bare = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                                        region_name="us-east-1",
                                        config=config.merge(Config(request_checksum_calculation="when_required")))
                    def uploaded(name, up, algorithm):
                        parts = []
                        for n, piece in enumerate(pieces):
                            send = (lambda **kw: bare.upload_part(**kw)) if algorithm == "CRC64NVME" else (
                                lambda **kw: s3.upload_part(ChecksumAlgorithm=algorithm, **kw))
                            answer = send(Bucket="uploads", Key=name, UploadId=up, PartNumber=n + 1, Body=piece)
                            # Each part's checksum listed, as S3 requires of a composite upload's completion.
                            parts.append({"PartNumber": n + 1, "ETag": answer["ETag"],
                                          **checksums(answer)})
                        return {"Parts": parts}
                    def completed(name, algorithm, **complete):
                        up = created(name, ChecksumAlgorithm=algorithm, **{k: v for k, v in complete.items()
                                                                            if k == "ChecksumType"})
                        parts = uploaded(name, up, algorithm)
                        answer = s3.complete_multipart_upload(Bucket="uploads", Key=name, UploadId=up,
                                                              MultipartUpload=parts, **complete)
                        head = s3.head_object(Bucket="originals", Key=original, ChecksumMode="ENABLED")
                        got = s3.get_object(Bucket="originals", Key=original, ChecksumMode="ENABLED")
                        body = got["Body"].read()
                        return {"complete": checksums(answer), "head": checksums(head), "get": checksums(got),
                                "same": body == picture}
                    out = {"expected": {
                        "sha256": b64(sha256(b"".join(sha256(p) for p in pieces))) + "-3",
                        "managed": b64(crc32(b"".join(crc32(picture[start:start + 5 * MiB])
                                                      for start in range(0, len(picture), 5 * MiB))))
                                   + "-%d" % -(-len(picture) // (5 * MiB)),
                        "fullCRC32": b64(crc32(picture)),
                        "crc64nvme": b64(crc64nvme(picture))}}
                    out["sha256"] = completed("sha256.jpg", "SHA256")
                    out["crc64nvme"] = completed("crc64.jpg", "CRC64NVME")
                    out["fullCRC32"] = completed("full.jpg", "CRC32", ChecksumType="FULL_OBJECT",
                                                 ChecksumCRC32=out["expected"]["fullCRC32"])
                    # boto3's transfer manager: CRC32 by default, parts of 5 MiB here (composite, as from S3).
                    s3.upload_file(sys.argv[4], "uploads", "managed.jpg",
                                   Config=TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB))
                    out["managed"] = checksums(s3.head_object(Bucket="originals", Key=original, ChecksumMode="ENABLED"))
                    # Refusals: a full-object value that is not the object's, a type other than the upload's, types
                    # an algorithm does not have, a type without an algorithm, an unknown type.
                    up = created("wrong.jpg", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
                    parts = uploaded("wrong.jpg", up, "CRC32")
                    out["wrongValue"] = attempt(lambda: s3.complete_multipart_upload(
                        Bucket="uploads", Key="wrong.jpg", UploadId=up, MultipartUpload=parts,
                        ChecksumType="FULL_OBJECT", ChecksumCRC32=b64(crc32(b"other"))))
                    out["wrongType"] = attempt(lambda: s3.complete_multipart_upload(
                        Bucket="uploads", Key="wrong.jpg", UploadId=up, MultipartUpload=parts, ChecksumType="COMPOSITE"))
                    try:
                        out["afterRefusals"] = len(s3.list_parts(Bucket="uploads", Key="wrong.jpg", UploadId=up)["Parts"])
                    except s3.exceptions.ClientError as error:
                        out["afterRefusals"] = error.response["Error"]["Code"]
                    out["fullSHA256"] = attempt(lambda: created("x.jpg", ChecksumAlgorithm="SHA256",
                                                                ChecksumType="FULL_OBJECT"))
                    out["compositeCRC64"] = attempt(lambda: created("x.jpg", ChecksumAlgorithm="CRC64NVME",
                                                                    ChecksumType="COMPOSITE"))
                    out["typeAlone"] = attempt(lambda: created("x.jpg", ChecksumType="COMPOSITE"))
                    out["unknownType"] = attempt(lambda: created("x.jpg", ChecksumAlgorithm="CRC32",
                                                                 ChecksumType="PARTIAL"))
                    print(json.dumps(out))
                    """, gateway: gateway)
                let expected = try #require(out["expected"] as? [String: String], "\(out)")
                func object(_ name: String, _ algorithm: String, _ value: String?, _ type: String) {
                    let answer = out[name] as? [String: Any]
                    let want = ["Checksum" + algorithm: value ?? "", "ChecksumType": type]
                    for place in ["complete", "head", "get"] {
                        #expect(answer?[place] as? [String: String] == want, "\(name) \(place): \(out)")
                    }
                    #expect(answer?["same"] as? Bool == true, "\(name): \(out)")
                }
                object("sha256", "SHA256", expected["sha256"], "COMPOSITE")
                object("crc64nvme", "CRC64NVME", expected["crc64nvme"], "FULL_OBJECT")
                object("fullCRC32", "CRC32", expected["fullCRC32"], "FULL_OBJECT")
                #expect(
                    out["managed"] as? [String: String] == [
                        "ChecksumCRC32": expected["managed"] ?? "", "ChecksumType": "COMPOSITE",
                    ],
                    "\(out)")
                #expect(out["wrongValue"] as? String == "BadDigest", "\(out)")
                #expect(out["wrongType"] as? String == "BadDigest", "\(out)")
                #expect(out["afterRefusals"] as? Int == 3, "\(out)")
                for refused in ["fullSHA256", "compositeCRC64", "typeAlone", "unknownType"] {
                    #expect(out[refused] as? String == "InvalidRequest", "\(refused): \(out)")
                }
            }
        }

        /// ListParts and ListMultipartUploads name the upload's ChecksumType as S3's ListPartsResult and
        /// MultipartUpload do (until session 36 only its ChecksumAlgorithm): the one CreateMultipartUpload named, else
        /// S3's for the algorithm (COMPOSITE, FULL_OBJECT for CRC64NVME); none without an algorithm.
        @Test func listingsNameTheUploadsChecksumType() async throws {
            try await AWSCLITests.withServe { gateway in
                let out = try await AWSMultipartCompletionTests.run(
                    """
                    uploads = {"full.jpg": {"ChecksumAlgorithm": "CRC32C", "ChecksumType": "FULL_OBJECT"},
                               "composite.jpg": {"ChecksumAlgorithm": "SHA256"},
                               "crc64.jpg": {"ChecksumAlgorithm": "CRC64NVME"}, "plain.jpg": {}}
                    out = {"parts": {}}
                    for name, create in uploads.items():
                        up = s3.create_multipart_upload(Bucket="uploads", Key=name, **create)["UploadId"]
                        out["parts"][name] = s3.list_parts(Bucket="uploads", Key=name, UploadId=up).get("ChecksumType")
                    listed = s3.list_multipart_uploads(Bucket="uploads")["Uploads"]
                    out["uploads"] = {u["Key"]: u.get("ChecksumType") for u in listed}
                    print(json.dumps(out))
                    """, gateway: gateway)
                let expected: [String: String] = [
                    "full.jpg": "FULL_OBJECT", "composite.jpg": "COMPOSITE", "crc64.jpg": "FULL_OBJECT",
                ]
                for place in ["parts", "uploads"] {
                    let types = try #require(out[place] as? [String: Any], "\(out)")
                    #expect(Set(types.keys) == Set(expected.keys).union(["plain.jpg"]), "\(place): \(out)")
                    #expect(types.compactMapValues { $0 as? String } == expected, "\(place): \(out)")
                }
            }
        }

        /// A composite upload's completion must give every listed part's checksum, as S3 requires (until session 36
        /// one without them was taken); a full-object upload's need not. The AWS CLI's and boto3's own multipart
        /// transfers, which send them, still complete.
        @Test func aCompositeCompletionMustGiveEveryPartsChecksum() async throws {
            try await AWSCLITests.withServe { gateway in
                let out = try await AWSMultipartCompletionTests.run(
                    """
                    import base64
                    from boto3.s3.transfer import TransferConfig
                    sha256 = lambda data: base64.b64encode(hashlib.sha256(data).digest()).decode()
                    pieces = [picture[:5 * MiB], picture[5 * MiB:]]
                    def upload(name, algorithm, **create):
                        up = s3.create_multipart_upload(Bucket="uploads", Key=name, ChecksumAlgorithm=algorithm,
                                                        **create)["UploadId"]
                        sent = [s3.upload_part(Bucket="uploads", Key=name, UploadId=up, PartNumber=n + 1, Body=piece,
                                               ChecksumAlgorithm=algorithm) for n, piece in enumerate(pieces)]
                        return up, [{"PartNumber": n + 1, "ETag": part["ETag"]} for n, part in enumerate(sent)]
                    def refusal(call):
                        try:
                            call()
                            return "ok"
                        except s3.exceptions.ClientError as error:
                            return [error.response["ResponseMetadata"]["HTTPStatusCode"], error.response["Error"]["Code"],
                                    error.response["Error"]["Message"]]
                    out = {}
                    up, sent = upload("composite.jpg", "SHA256")
                    complete = lambda listed: s3.complete_multipart_upload(
                        Bucket="uploads", Key="composite.jpg", UploadId=up, MultipartUpload={"Parts": listed})
                    out["none"] = refusal(lambda: complete(sent))
                    out["second"] = refusal(lambda: complete([dict(sent[0], ChecksumSHA256=sha256(pieces[0])), sent[1]]))
                    out["kept"] = parts("composite.jpg", up)
                    out["all"] = refusal(lambda: complete([dict(part, ChecksumSHA256=sha256(piece))
                                                           for part, piece in zip(sent, pieces)]))
                    up, sent = upload("full.jpg", "CRC32", ChecksumType="FULL_OBJECT")
                    out["full"] = refusal(lambda: s3.complete_multipart_upload(
                        Bucket="uploads", Key="full.jpg", UploadId=up, MultipartUpload={"Parts": sent}))
                    out["managed"] = refusal(lambda: s3.upload_file(
                        sys.argv[4], "uploads", "managed.jpg", ExtraArgs={"ChecksumAlgorithm": "SHA256"},
                        Config=TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)))
                    print(json.dumps(out))
                    """, gateway: gateway)
                let words =
                    "The upload was created using a sha256 checksum. The complete request must include the checksum "
                    + "for each part. It was missing for part"
                for (name, part) in [("none", 1), ("second", 2)] {
                    let refusal = out[name] as? [Any] ?? []
                    #expect(refusal.first as? Int == 400, "\(name): \(out)")
                    #expect(refusal.dropFirst().first as? String == "InvalidRequest", "\(name): \(out)")
                    #expect(refusal.last as? String == "\(words) \(part) in the request.", "\(name): \(out)")
                }
                #expect((out["kept"] as? [Any])?.count == 2, "the refused completions kept the parts: \(out)")
                for name in ["all", "full", "managed"] {
                    #expect(out[name] as? String == "ok", "\(name): \(out)")
                }
                // The AWS CLI's own transfer of the large picture (8 MiB parts), with a checksum algorithm.
                let cli = try await gateway.aws([
                    "s3", "cp", gateway.root.appendingPathComponent("large.jpg").path, "s3://uploads/cli.jpg",
                    "--checksum-algorithm", "SHA1", "--no-progress",
                ])
                #expect(cli.status == 0, "\(cli.stderr)")
            }
        }
    }
}
