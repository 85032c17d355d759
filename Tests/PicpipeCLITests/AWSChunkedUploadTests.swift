// aws-chunked uploads against the real `serve`, the encodings SDKs use over HTTPS (and some over HTTP): chunks signed
// in a chain with a signed CRC-32 trailer, and unsigned chunks with a trailer. A changed chunk or a wrong checksum is
// refused with S3's code and leaves nothing in the store. (The AWS CLI over http:// sends a SHA-256-signed body and an
// x-amz-checksum-crc32 header instead, which AWSCLITests covers.)
import AWSGateway
import Crypto
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct AWSChunkedUploadTests {
        /// A PUT of `data` to `/uploads/KEY` in aws-chunked encoding, signed as the SDKs sign it.
        /// - Parameters:
        ///   - declaredTrailer: the `x-amz-trailer` header (nil: none).
        ///   - trailerLines: the trailing headers (`name:value`) in place of the CRC-32 of the data.
        static func chunkedPut(
            port: Int, key: String, data: [UInt8], signedChunks: Bool, chunkSize: Int = 64 * 1024,
            corruptChunk: Int? = nil, checksumOverride: String? = nil, query: String = "",
            declaredTrailer: String? = "x-amz-checksum-crc32", trailerLines: [String]? = nil
        ) async throws -> (status: Int, body: String, checksum: String?) {
            let date = RequestAuthenticator.amzDate(Date())
            let day = String(date.prefix(8))
            let scope = "\(day)/us-east-1/s3/aws4_request"
            let host = "127.0.0.1:\(port)"
            let payloadMode =
                signedChunks ? "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" : "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
            var checksum = PayloadChecksum(.crc32)
            data.withUnsafeBytes { checksum.update($0) }
            let headers: [(String, String)] =
                [
                    ("host", host), ("x-amz-content-sha256", payloadMode), ("x-amz-date", date),
                    ("x-amz-decoded-content-length", String(data.count)),
                ] + (declaredTrailer.map { [("x-amz-trailer", $0)] } ?? [])
            let signed = headers.map(\.0).sorted()
            let path = "/uploads/" + key
            let key4 = SignatureV4.signingKey(secret: AWSServe.secret, date: day, region: "us-east-1", service: "s3")
            let canonical = SignatureV4.canonicalRequest(
                method: "PUT", path: path, query: query, headers: headers, signedHeaders: signed,
                payloadHash: payloadMode)
            let seed = SignatureV4.signature(
                SignatureV4.stringToSign(amzDate: date, scope: scope, canonicalRequest: canonical), key: key4)

            var body: [UInt8] = []
            var previous = seed
            var chunks = stride(from: 0, to: data.count, by: chunkSize).map {
                Array(data[$0..<min(data.count, $0 + chunkSize)])
            }
            chunks.append([])
            for (index, original) in chunks.enumerated() {
                let signature = SignatureV4.signature(
                    SignatureV4.chunkStringToSign(
                        amzDate: date, scope: scope, previousSignature: previous,
                        chunkHash: SignatureV4.hexSHA256(Data(original))),
                    key: key4)
                previous = signature
                var chunk = original
                if index == corruptChunk, !chunk.isEmpty { chunk[0] ^= 0xFF }
                let size = String(chunk.count, radix: 16)
                body += Array((signedChunks ? "\(size);chunk-signature=\(signature)\r\n" : "\(size)\r\n").utf8) + chunk
                if !chunk.isEmpty { body += Array("\r\n".utf8) }
            }
            let lines = trailerLines ?? ["x-amz-checksum-crc32:\(checksumOverride ?? checksum.finalValue())"]
            body += Array(lines.map { $0 + "\r\n" }.joined().utf8)
            if signedChunks {
                let trailer = lines.map { $0 + "\n" }.joined()
                let trailerSignature = SignatureV4.signature(
                    SignatureV4.trailerStringToSign(
                        amzDate: date, scope: scope, previousSignature: previous,
                        trailerHash: SignatureV4.hexSHA256(Data(trailer.utf8))),
                    key: key4)
                body += Array("x-amz-trailer-signature:\(trailerSignature)\r\n".utf8)
            }
            body += Array("\r\n".utf8)

            var request = URLRequest(
                url: try #require(URL(string: "http://\(host)\(path)" + (query.isEmpty ? "" : "?" + query))))
            request.httpMethod = "PUT"
            for (name, value) in headers where name != "host" { request.setValue(value, forHTTPHeaderField: name) }
            request.setValue("aws-chunked", forHTTPHeaderField: "Content-Encoding")
            request.setValue(
                "AWS4-HMAC-SHA256 Credential=\(AWSServe.keyID)/\(scope), SignedHeaders=\(signed.joined(separator: ";")), Signature=\(seed)",
                forHTTPHeaderField: "Authorization")
            let (answer, response) = try await URLSession.shared.upload(for: request, from: Data(body))
            let http = response as? HTTPURLResponse
            return (
                http?.statusCode ?? 0, String(decoding: answer, as: UTF8.self),
                http?.value(forHTTPHeaderField: "x-amz-checksum-crc32")
            )
        }

        @Test func signedAndUnsignedChunkedUploadsBecomeOriginalsAndBadOnesLeaveNothing() async throws {
            guard await AWSTools.available() else { return }
            let root = try PicpipeProcess.temporaryFolder("aws-chunked")
            defer { try? FileManager.default.removeItem(at: root) }
            let gateway = try await AWSServe.start(root: root)
            do {
                let store = gateway.store
                let signedBytes = try AWSCLITests.jpeg(seed: 11, width: 640, height: 480)
                #expect(signedBytes.count > 3 * 8192)
                let signed = try await Self.chunkedPut(
                    port: gateway.port, key: "signed.jpg", data: signedBytes, signedChunks: true, chunkSize: 8192)
                #expect(signed.status == 200, "\(signed.body)")
                let unsignedBytes = try AWSCLITests.jpeg(seed: 12, width: 640, height: 480)
                let unsigned = try await Self.chunkedPut(
                    port: gateway.port, key: "unsigned.jpg", data: unsignedBytes, signedChunks: false)
                #expect(unsigned.status == 200, "\(unsigned.body)")
                let originals = ServeProcess.files(store, "originals")
                for bytes in [signedBytes, unsignedBytes] {
                    let hash = AWSCLITests.hash(bytes)
                    let stored = try #require(originals.first { $0.contains(hash) })
                    #expect(try Data(contentsOf: store.appendingPathComponent("originals/" + stored)) == Data(bytes))
                }

                let other = try AWSCLITests.jpeg(seed: 13, width: 640, height: 480)
                let tampered = try await Self.chunkedPut(
                    port: gateway.port, key: "tampered.jpg", data: other, signedChunks: true, chunkSize: 8192,
                    corruptChunk: 1)
                #expect(tampered.status == 403)
                #expect(tampered.body.contains("<Code>SignatureDoesNotMatch</Code>"))
                let wrongSum = try await Self.chunkedPut(
                    port: gateway.port, key: "crc.jpg", data: other, signedChunks: false, checksumOverride: "AAAAAA==")
                #expect(wrongSum.status == 400)
                #expect(wrongSum.body.contains("<Code>BadDigest</Code>"))
                #expect(ServeProcess.files(store, "originals") == originals)
                #expect(ServeProcess.files(store, "uploads").isEmpty)
            } catch {
                print(gateway.serve.log.suffix(4000))
                await gateway.stop()
                throw error
            }
            await gateway.stop()
        }
    }
}

extension PicpipeCLI.AWSChunkedUploadTests {
    /// `x-amz-checksum-crc64nvme` (S3's full-object checksum, which the CRT-based clients send) is checked like
    /// the others: the right value is echoed, a wrong one is BadDigest and nothing is kept. It was ignored, so a
    /// corrupted body passed.
    @Test func crc64NVMEChecksumsAreChecked() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            let file = gateway.root.appendingPathComponent("crc.jpg")
            try Data(try PicpipeCLI.AWSCLITests.jpeg(seed: 51)).write(to: file)
            let script = """
                import base64, boto3, json, sys
                endpoint, key, secret, path = sys.argv[1:5]
                s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                                  region_name="us-east-1")
                body = open(path, "rb").read()
                crc = (1 << 64) - 1
                for byte in body:
                    crc ^= byte
                    for _ in range(8):
                        crc = (crc >> 1) ^ 0x9A6C9329AC4BC9B5 if crc & 1 else crc >> 1
                right = base64.b64encode((crc ^ ((1 << 64) - 1)).to_bytes(8, "big")).decode()
                out = {"right": right}
                for name, value, key_name in [("good", right, "crc/good.jpg"), ("bad", "AAAAAAAAAAA=", "crc/bad.jpg")]:
                    try:
                        answer = s3.put_object(Bucket="uploads", Key=key_name, Body=body, ChecksumCRC64NVME=value)
                        out[name] = answer["ResponseMetadata"]["HTTPHeaders"].get("x-amz-checksum-crc64nvme")
                    except s3.exceptions.ClientError as error:
                        out[name] = error.response["Error"]["Code"]
                print(json.dumps(out))
                """
            let out = try await PicpipeCLI.AWSThrottleAndListingTests.boto3(script, [file.path], gateway: gateway)
            #expect(out["good"] as? String == out["right"] as? String, "\(out)")
            #expect(out["bad"] as? String == "BadDigest")
            try await ServeProcess.eventually("the good upload processed") {
                try await StoreView.processed(gateway.store).contains("crc/good.jpg")
            }
            #expect(ServeProcess.files(gateway.store, "originals").count == 1)
        }
    }
}

extension PicpipeCLI.AWSChunkedUploadTests {
    /// A checksum sent in an aws-chunked trailer is echoed in the answer's `x-amz-checksum-*`, by PutObject and by
    /// UploadPart, as when it comes in a header (it was checked, not echoed).
    @Test func trailerChecksumsAreEchoed() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            let bytes = try PicpipeCLI.AWSCLITests.jpeg(seed: 121)
            var checksum = PayloadChecksum(.crc32)
            bytes.withUnsafeBytes { checksum.update($0) }
            let put = try await Self.chunkedPut(
                port: gateway.port, key: "echo.jpg", data: bytes, signedChunks: true, chunkSize: 8192)
            #expect(put.status == 200, "\(put.body)")
            #expect(put.checksum == checksum.finalValue())

            let created = try await gateway.awsJSON([
                "s3api", "create-multipart-upload", "--bucket", "uploads", "--key", "parts.jpg",
            ])
            let upload = try #require(created["UploadId"] as? String)
            let part = try await Self.chunkedPut(
                port: gateway.port, key: "parts.jpg", data: bytes, signedChunks: false,
                query: "partNumber=1&uploadId=\(upload)")
            #expect(part.status == 200, "\(part.body)")
            #expect(part.checksum == checksum.finalValue())
        }
    }
}

extension PicpipeCLI.AWSChunkedUploadTests {
    /// The trailing headers of an aws-chunked body must be the one `x-amz-trailer` declares, as S3 requires
    /// (`MalformedTrailerError`), with a value that is the base64 of its algorithm's bytes (`InvalidRequest`). A
    /// declared checksum that never came, one of another algorithm and an undeclared wrong one were skipped (until
    /// session 33): the upload was stored and answered with the CRC-32 the server computed itself.
    @Test func trailersOtherThanTheDeclaredChecksumAreRefusedAndNothingIsStored() async throws {
        try await PicpipeCLI.AWSCLITests.withServe { gateway in
            let cases: [(name: String, declared: String?, lines: [String], code: String, message: String)] = [
                ("missing", "x-amz-checksum-crc32", [], "MalformedTrailerError", "the body ends with no trailer"),
                (
                    "otherAlgorithm", "x-amz-checksum-crc32", ["x-amz-checksum-sha256:SHA256"], "MalformedTrailerError",
                    "the body ends with x-amz-checksum-sha256"
                ),
                (
                    "undeclared", nil, ["x-amz-checksum-crc32:AAAAAA=="], "MalformedTrailerError",
                    "no x-amz-trailer was declared"
                ),
                (
                    "malformedValue", "x-amz-checksum-crc32", ["x-amz-checksum-crc32:notbase64!!"], "InvalidRequest",
                    "Value for x-amz-checksum-crc32 trailing header is invalid."
                ),
                (
                    "unsupported", "x-amz-checksum-sha10", ["x-amz-checksum-sha10:AAAAAA=="], "InvalidRequest",
                    "The value specified in the x-amz-trailer header is not supported"
                ),
            ]
            for (index, test) in cases.enumerated() {
                let bytes = try PicpipeCLI.AWSCLITests.jpeg(seed: 331 + index)
                let sha256 = Data(SHA256.hash(data: bytes)).base64EncodedString()
                for signedChunks in [false, true] {
                    let answer = try await Self.chunkedPut(
                        port: gateway.port, key: "\(test.name).jpg", data: bytes, signedChunks: signedChunks,
                        declaredTrailer: test.declared,
                        trailerLines: test.lines.map { $0.replacingOccurrences(of: "SHA256", with: sha256) })
                    #expect(answer.status == 400, "\(test.name) signed=\(signedChunks): \(answer.body)")
                    #expect(answer.body.contains("<Code>\(test.code)</Code>"), "\(test.name): \(answer.body)")
                    #expect(answer.body.contains(test.message), "\(test.name): \(answer.body)")
                    #expect(answer.checksum == nil)
                }
            }
            #expect(ServeProcess.files(gateway.store, "originals").isEmpty)
            #expect(ServeProcess.files(gateway.store, "uploads").isEmpty)
            // The declared checksum, right, is taken and echoed.
            let bytes = try PicpipeCLI.AWSCLITests.jpeg(seed: 339)
            let good = try await Self.chunkedPut(port: gateway.port, key: "good.jpg", data: bytes, signedChunks: false)
            #expect(good.status == 200, "\(good.body)")
            var checksum = PayloadChecksum(.crc32)
            bytes.withUnsafeBytes { checksum.update($0) }
            #expect(good.checksum == checksum.finalValue())
        }
    }
}
