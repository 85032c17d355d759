// `http.max_body_bytes` holds for a multipart upload as a whole, part by part (boto3 against the real `serve`): the
// UploadPart or UploadPartCopy that takes the upload past it is EntityTooLarge and nothing of it is written; a part
// sent again under its number replaces the old one and counts once. Parts piled up on disk (21 MB against a 7 MB
// limit) until CompleteMultipartUpload said EntityTooLarge.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSMultipartLimitTests {
        static let limit = 7 * 1024 * 1024

        @Test func aPartPastTheUploadsLimitIsRefusedAndNotWritten() async throws {
            try await AWSCLITests.withServe(environment: ["PICPIPE_MAX_BODY_BYTES": String(Self.limit)]) { gateway in
                let picture = gateway.root.appendingPathComponent("small.jpg")
                try Data(try AWSCLITests.jpeg(seed: 91)).write(to: picture)
                let script = """
                    import boto3, json, sys
                    endpoint, key, secret, picture = sys.argv[1:5]
                    \(AWSTools.botoClientAndAttempt)
                    s3.put_object(Bucket="uploads", Key="small.jpg", Body=open(picture, "rb").read())
                    original = s3.list_objects_v2(Bucket="originals")["Contents"][0]["Key"]
                    up = s3.create_multipart_upload(Bucket="uploads", Key="big.jpg")["UploadId"]
                    five = b"\\xff" * (5 * 1024 * 1024)
                    part = lambda number, body: lambda: s3.upload_part(
                        Bucket="uploads", Key="big.jpg", UploadId=up, PartNumber=number, Body=body)
                    out = {"upload": up}
                    out["first"] = attempt(part(1, five))
                    out["second"] = attempt(part(2, five))
                    out["firstAgain"] = attempt(part(1, five))
                    out["fits"] = attempt(part(2, b"\\0" * (2 * 1024 * 1024)))
                    out["copied"] = attempt(lambda: s3.upload_part_copy(
                        Bucket="uploads", Key="big.jpg", UploadId=up, PartNumber=3,
                        CopySource={"Bucket": "originals", "Key": original}))
                    out["sizes"] = [p["Size"] for p in
                                    s3.list_parts(Bucket="uploads", Key="big.jpg", UploadId=up)["Parts"]]
                    print(json.dumps(out))
                    """
                let out = try await AWSThrottleAndListingTests.boto3(script, [picture.path], gateway: gateway)
                #expect(out["first"] as? String == "ok", "\(out)")
                #expect(out["second"] as? String == "EntityTooLarge", "\(out)")
                #expect(out["firstAgain"] as? String == "ok", "\(out)")
                #expect(out["fits"] as? String == "ok", "\(out)")
                #expect(out["copied"] as? String == "EntityTooLarge", "\(out)")
                #expect(out["sizes"] as? [Int] == [5 * 1024 * 1024, 2 * 1024 * 1024], "\(out)")
                // On disk: the two parts kept, nothing of the refused ones (a few bytes of ETags beside them).
                let upload = try #require(out["upload"] as? String)
                let folder = gateway.store.appendingPathComponent("uploads/.picpipe-s3-multipart/" + upload)
                let bytes = PicpipeProcess.files(under: folder).reduce(0) { total, name in
                    let attributes = try? FileManager.default.attributesOfItem(
                        atPath: folder.appendingPathComponent(name).path)
                    return total + ((attributes?[.size] as? Int) ?? 0)
                }
                #expect(bytes <= Self.limit + 4096, "\(PicpipeProcess.files(under: folder))")
            }
        }
    }
}
