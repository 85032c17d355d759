// `http.max_body_bytes` holds for a multipart upload as a whole, part by part (boto3 against the real `serve`): the
// UploadPart or UploadPartCopy that takes the upload past it is EntityTooLarge and nothing of it is written; a part
// sent again under its number replaces the old one and counts once. Parts piled up on disk (21 MB against a 7 MB
// limit) until CompleteMultipartUpload said EntityTooLarge. Parts sent at once count each other: each saw only the
// parts already kept, so ten parts in flight (the AWS CLI sends ten) kept 80 MiB against a 12 MB limit.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

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

        /// Six parts of 5 MiB whose heads all reach the server before any body is sent (each waits for its
        /// "100 Continue" or its refusal: the check ran), against a limit two of them fit: two are taken, four
        /// refused with EntityTooLarge before a byte of them is written. All six were taken (30 MiB kept).
        @Test func partsSentAtOnceAreTakenOnlyWhileTheyFitTogether() async throws {
            try await AWSCLITests.withServe(environment: ["PICPIPE_MAX_BODY_BYTES": String(Self.together)]) { gateway in
                let out = try await Self.sendAtOnce(parts: 6, chunked: false, gateway: gateway)
                let answers = try #require(out["answers"] as? [String], "\(out)")
                #expect(answers.filter { $0 == "ok" }.count == 2, "\(answers)")
                #expect(answers.filter { $0 == "EntityTooLarge" }.count == 4, "\(answers)")
                // The refused ones were refused on their heads: only the two taken were asked for their bodies.
                #expect(out["continued"] as? Int == 2, "\(out)")
                let sizes = try #require(out["sizes"] as? [Int], "\(out)")
                #expect(sizes == [Self.part, Self.part], "\(out)")
                let folder = try Self.folder(out, gateway)
                #expect(Self.allocated(under: folder) <= Self.together, "\(PicpipeProcess.files(under: folder))")
            }
        }

        /// The same with bodies of no declared length (chunked): each reserves its room as its bytes come, so
        /// however the six interleave, what is taken fits the limit and the rest is EntityTooLarge.
        @Test func partsOfNoDeclaredLengthSentAtOnceFitTheLimitTogether() async throws {
            try await AWSCLITests.withServe(environment: ["PICPIPE_MAX_BODY_BYTES": String(Self.together)]) { gateway in
                let out = try await Self.sendAtOnce(parts: 6, chunked: true, gateway: gateway)
                let answers = try #require(out["answers"] as? [String], "\(out)")
                #expect(answers.allSatisfy { $0 == "ok" || $0 == "EntityTooLarge" }, "\(answers)")
                let sizes = try #require(out["sizes"] as? [Int], "\(out)")
                #expect(sizes.count == answers.filter { $0 == "ok" }.count, "\(out)")
                #expect(sizes.allSatisfy { $0 == Self.part }, "\(out)")
                #expect(sizes.reduce(0, +) <= Self.together, "\(out)")
                let folder = try Self.folder(out, gateway)
                #expect(Self.allocated(under: folder) <= Self.together, "\(PicpipeProcess.files(under: folder))")
            }
        }

        /// The parts' size, and a limit two of them fit (with room to spare for their ETag files).
        static let part = 5 * 1024 * 1024
        static let together = 2 * part + 512 * 1024

        /// Opens one connection per part, sends each part's head (presigned UploadPart, `Expect: 100-continue`) and
        /// reads each one's first answer before any body goes; then sends the bodies of those told to continue, all
        /// at once, and lists the parts kept. Answers `upload`, `answers` ("ok" or the error code, by part),
        /// `continued` (how many were asked for their bodies) and `sizes` (the parts listed).
        static func sendAtOnce(parts: Int, chunked: Bool, gateway: AWSServe) async throws -> [String: Any] {
            let script = #"""
                import boto3, json, socket, sys, threading, urllib.parse
                from botocore.config import Config
                endpoint, key, secret, parts, size, framing = sys.argv[1:7]
                parts, size, chunked = int(parts), int(size), framing == "chunked"
                s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                                  region_name="us-east-1", config=Config(signature_version="s3v4"))
                up = s3.create_multipart_upload(Bucket="uploads", Key="many.jpg")["UploadId"]
                body = b"\xff" * size

                def answer(connection, buffer):
                    """One answer (a 100 Continue or the final one) as (status, body), and the bytes after it."""
                    while b"\r\n\r\n" not in buffer:
                        data = connection.recv(65536)
                        if not data:
                            raise RuntimeError("the connection closed before an answer: %r" % buffer)
                        buffer += data
                    head, _, rest = buffer.partition(b"\r\n\r\n")
                    lines = head.decode().split("\r\n")
                    length = sum(int(line.split(":", 1)[1]) for line in lines[1:]
                                 if line.lower().startswith("content-length:"))
                    while len(rest) < length:
                        data = connection.recv(65536)
                        if not data:
                            break
                        rest += data
                    return (int(lines[0].split()[1]), rest[:length].decode(errors="replace")), rest[length:]

                connections = []
                for number in range(1, parts + 1):
                    url = urllib.parse.urlsplit(s3.generate_presigned_url("upload_part", Params={
                        "Bucket": "uploads", "Key": "many.jpg", "UploadId": up, "PartNumber": number}, ExpiresIn=300))
                    connection = socket.create_connection((url.hostname, url.port))
                    connection.settimeout(60)
                    length = "Transfer-Encoding: chunked" if chunked else "Content-Length: %d" % size
                    connection.sendall(("PUT %s?%s HTTP/1.1\r\nHost: %s\r\n%s\r\nExpect: 100-continue\r\n\r\n"
                                        % (url.path, url.query, url.netloc, length)).encode())
                    connections.append(connection)
                # Every head has been checked before any body goes.
                first = [answer(connection, b"") for connection in connections]
                out = {"upload": up, "answers": [None] * parts,
                       "continued": sum(1 for (status, _), _ in first if status == 100)}

                def send(connection):
                    try:
                        if chunked:
                            for start in range(0, size, 65536):
                                piece = body[start:start + 65536]
                                connection.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                            connection.sendall(b"0\r\n\r\n")
                        else:
                            connection.sendall(body)
                    except OSError:
                        pass  # refused part-way: the server answered and closed

                def finish(index):
                    (status, text), rest = first[index]
                    if status == 100:
                        sender = threading.Thread(target=send, args=(connections[index],))
                        sender.start()
                        (status, text), rest = answer(connections[index], rest)
                        sender.join()
                    connections[index].close()
                    out["answers"][index] = "ok" if status == 200 else text.split("<Code>")[1].split("</Code>")[0]

                threads = [threading.Thread(target=finish, args=(index,)) for index in range(parts)]
                for thread in threads: thread.start()
                for thread in threads: thread.join()
                out["sizes"] = [p["Size"] for p in s3.list_parts(Bucket="uploads", Key="many.jpg", UploadId=up)["Parts"]]
                print(json.dumps(out))
                """#
            return try await AWSThrottleAndListingTests.boto3(
                script, [String(parts), String(Self.part), chunked ? "chunked" : "length"], gateway: gateway)
        }

        /// The folder of the upload `sendAtOnce` made.
        static func folder(_ out: [String: Any], _ gateway: AWSServe) throws -> URL {
            let upload = try #require(out["upload"] as? String, "\(out)")
            return gateway.store.appendingPathComponent("uploads/.picpipe-s3-multipart/" + upload)
        }

        /// The disk space the files under `folder` take (parts placed in an upload's one object file leave holes
        /// where the parts not taken would have gone).
        static func allocated(under folder: URL) -> Int {
            PicpipeProcess.files(under: folder).reduce(0) { total, name in
                var info = stat()
                guard stat(folder.appendingPathComponent(name).path, &info) == 0 else { return total }
                return total + Int(info.st_blocks) * 512
            }
        }
    }
}
