// AbortMultipartUpload while an UploadPart is under way (hand-made presigned requests against the real `serve`): the
// part is NoSuchUpload (404) and nothing of the upload is left. The part recreated the upload's folder with its
// files and no upload.json, which no abort, listing or expiry sweep could see or remove, and was answered 200 or a
// 503 (retried by every SDK) naming the missing file.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct AWSMultipartAbortTests {
        /// Part 2 of 5 MiB (the parts' size: written in place in the upload's object file) and of 6 MiB (a file of
        /// its own), each with its head checked ("100 Continue") and half its body in when the upload is aborted,
        /// then the rest of its body sent.
        @Test func aPartUnderWayWhenItsUploadIsAbortedIsNoSuchUploadAndLeavesNothing() async throws {
            try await AWSCLITests.withServe { gateway in
                let out = try await AWSThrottleAndListingTests.boto3(
                    """
                    import boto3, json, socket, sys, urllib.parse
                    from botocore.config import Config
                    endpoint, key, secret = sys.argv[1:4]
                    \(AWSTools.botoClientAndAttempt)
                    # Presigned URLs in SigV4.
                    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                                      region_name="us-east-1", config=Config(signature_version="s3v4"))
                    MiB = 1024 * 1024
                    def answer(connection):
                        # The final answer on the connection, head and body, as text.
                        data = b""
                        while b"\\r\\n\\r\\n" not in data:
                            chunk = connection.recv(65536)
                            if not chunk:
                                return data.decode(errors="replace")
                            data += chunk
                        head, _, body = data.partition(b"\\r\\n\\r\\n")
                        length = sum(int(line.split(b":", 1)[1]) for line in head.split(b"\\r\\n")[1:]
                                     if line.lower().startswith(b"content-length:"))
                        while len(body) < length:
                            chunk = connection.recv(65536)
                            if not chunk:
                                break
                            body += chunk
                        return (head + b"\\r\\n\\r\\n" + body).decode(errors="replace")
                    out = {}
                    for size in [5 * MiB, 6 * MiB]:
                        name = "aborted-%d.jpg" % size
                        up = s3.create_multipart_upload(Bucket="uploads", Key=name)["UploadId"]
                        s3.upload_part(Bucket="uploads", Key=name, UploadId=up, PartNumber=1, Body=b"\\xff" * (5 * MiB))
                        url = urllib.parse.urlsplit(s3.generate_presigned_url("upload_part", Params={
                            "Bucket": "uploads", "Key": name, "UploadId": up, "PartNumber": 2}, ExpiresIn=300))
                        held = socket.create_connection((url.hostname, url.port))
                        held.settimeout(60)
                        held.sendall(("PUT %s?%s HTTP/1.1\\r\\nHost: %s\\r\\nContent-Length: %d\\r\\n"
                                      "Expect: 100-continue\\r\\n\\r\\n" % (url.path, url.query, url.netloc, size)).encode())
                        result = {"continue": held.recv(65536).decode().split("\\r\\n")[0]}
                        held.sendall(b"\\1" * (size // 2))
                        result["abort"] = attempt(lambda: s3.abort_multipart_upload(Bucket="uploads", Key=name, UploadId=up))
                        try:
                            held.sendall(b"\\1" * (size - size // 2))
                        except OSError:
                            pass  # answered and closed before the rest
                        text = answer(held)
                        held.close()
                        result["status"] = text.split("\\r\\n")[0]
                        result["code"] = text.split("<Code>")[1].split("</Code>")[0] if "<Code>" in text else None
                        result["again"] = attempt(lambda: s3.abort_multipart_upload(Bucket="uploads", Key=name, UploadId=up))
                        out[str(size)] = result
                    out["uploads"] = len(s3.list_multipart_uploads(Bucket="uploads").get("Uploads", []))
                    print(json.dumps(out))
                    """, [], gateway: gateway)
                for size in [5 * 1024 * 1024, 6 * 1024 * 1024] {
                    let result = try #require(out[String(size)] as? [String: Any], "\(out)")
                    #expect(result["continue"] as? String == "HTTP/1.1 100 Continue", "\(size): \(result)")
                    #expect(result["abort"] as? String == "ok", "\(size): \(result)")
                    #expect(result["status"] as? String == "HTTP/1.1 404 Not Found", "\(size): \(result)")
                    #expect(result["code"] as? String == "NoSuchUpload", "\(size): \(result)")
                    #expect(result["again"] as? String == "NoSuchUpload", "\(size): \(result)")
                }
                #expect(out["uploads"] as? Int == 0, "\(out)")
                let folder = gateway.store.appendingPathComponent("uploads/.picpipe-s3-multipart")
                #expect(
                    (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) == [],
                    "\(PicpipeProcess.files(under: folder))")
            }
        }
    }
}
