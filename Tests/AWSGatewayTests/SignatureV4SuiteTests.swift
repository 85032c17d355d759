// SigV4 against AWS's published test suite (Fixtures/aws-sig-v4-test-suite, see its SOURCE.md) and the S3
// documentation's chunked-upload example, plus the verifier's AWS error codes.
import Crypto
import Foundation
import Testing

@testable import AWSGateway

@Suite struct SignatureV4SuiteTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/aws-sig-v4-test-suite")

    static let cases: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".req") }.map { String($0.dropLast(4)) }.sorted()
    }()

    static func read(_ name: String, _ ext: String) throws -> String {
        String(decoding: try Data(contentsOf: folder.appendingPathComponent("\(name).\(ext)")), as: UTF8.self)
    }

    /// Parses a `.req` file: request line, header lines, blank line, body.
    static func parse(_ text: String) -> (SignedRequest, body: String) {
        let (head, body): (Substring, Substring)
        if let blank = text.range(of: "\n\n") {
            (head, body) = (text[..<blank.lowerBound], text[blank.upperBound...])
        } else {
            (head, body) = (text[...], "")
        }
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false)
        let requestLine = lines.removeFirst().split(separator: " ")
        let target = String(requestLine[1...].dropLast().joined(separator: " "))
        let (path, query) =
            target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) }
            ?? (target, "")
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...]))
        }
        return (SignedRequest(method: String(requestLine[0]), path: path, query: query, headers: headers), String(body))
    }

    /// Every service but S3 signs a normalised path encoded twice: the suite's normalize-path cases (their canonical
    /// paths), and a Lambda function ARN as the SDKs send it (`%3A` signed as `%253A`: boto3's invoke by ARN was
    /// refused as a bad signature). S3 signs the path as it is, once.
    @Test func otherServicesSignANormalisedPathEncodedTwice() {
        for (path, canonical) in [
            ("/example/..", "/"), ("/example1/example2/../..", "/"), ("//", "/"), ("/./", "/"),
            ("/./example", "/example"), ("//example//", "/example/"), ("/example space/", "/example%20space/"),
            (
                "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A0%3Afunction%3Athumbnail/invocations",
                "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A0%253Afunction%253Athumbnail/invocations"
            ),
            ("/2015-03-31/functions/thumbnail%3A%24LATEST", "/2015-03-31/functions/thumbnail%253A%2524LATEST"),
        ] {
            #expect(SignatureV4.normalizedCanonicalURI(path) == canonical, "\(path)")
        }
        #expect(SignatureV4.canonicalURI("/originals/a%3Ab.jpg") == "/originals/a%3Ab.jpg")
        #expect(SignatureV4.canonicalURI("//example//") == "//example//")
    }

    @Test func theSuiteIsPresent() {
        #expect(Self.cases.count >= 20, "the committed vectors are missing from \(Self.folder.path)")
    }

    /// Two published cases whose files disagree with each other (checked with sha256sum: the `.sts` of the
    /// `-parameters` case does not hash its `.creq`, and the plain case's `.creq` signs content-length while its
    /// `.authz` does not). For each, only the files that agree with the rest of the case are checked.
    static let errata: [String: Set<String>] = [
        "post-x-www-form-urlencoded": ["creq"],
        "post-x-www-form-urlencoded-parameters": ["sts", "authz"],
    ]

    @Test(arguments: cases) func canonicalRequestStringToSignAndSignature(_ name: String) throws {
        let skipped = Self.errata[name] ?? []
        let (request, body) = Self.parse(try Self.read(name, "req"))
        let authz = try Self.read(name, "authz")
        let fields = RequestAuthenticator.authorizationFields(String(authz.dropFirst("AWS4-HMAC-SHA256 ".count)))
        let signed = try #require(fields["SignedHeaders"]).split(separator: ";").map(String.init)
        let canonical = SignatureV4.canonicalRequest(
            method: request.method, path: request.path, query: request.query, headers: request.headers,
            signedHeaders: signed, payloadHash: SignatureV4.hexSHA256(Data(body.utf8)), s3Path: false)
        if !skipped.contains("creq") { #expect(canonical == (try Self.read(name, "creq"))) }
        let scope = "20150830/us-east-1/service/aws4_request"
        let sts = SignatureV4.stringToSign(amzDate: "20150830T123600Z", scope: scope, canonicalRequest: canonical)
        if !skipped.contains("sts") { #expect(sts == (try Self.read(name, "sts"))) }
        let key = SignatureV4.signingKey(
            secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", date: "20150830", region: "us-east-1",
            service: "service")
        if !skipped.contains("authz") { #expect(SignatureV4.signature(sts, key: key) == fields["Signature"]) }
    }

    // MARK: The S3 documentation's streaming example (66560 bytes of "a" in chunks of 65536, 1024, 0)

    static let exampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    static let chunkSignatures = [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ]
    static let exampleNow = RequestAuthenticator.parseAmzDate("20130524T000000Z")!

    static func exampleRequest() -> SignedRequest {
        SignedRequest(
            method: "PUT", path: "/examplebucket/chunkObject.txt", query: "",
            headers: [
                ("Host", "s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                        + "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
                        + "x-amz-decoded-content-length;x-amz-storage-class,Signature=\(seed)"
                ),
                ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), ("Content-Encoding", "aws-chunked"),
                ("x-amz-decoded-content-length", "66560"), ("Content-Length", "66824"),
            ])
    }

    static func exampleBody(corruptSecondChunk: Bool = false) -> [UInt8] {
        var body: [UInt8] = []
        for (size, signature) in zip([65536, 1024, 0], chunkSignatures) {
            body += Array("\(String(size, radix: 16));chunk-signature=\(signature)\r\n".utf8)
            var data = [UInt8](repeating: UInt8(ascii: "a"), count: size)
            if corruptSecondChunk && size == 1024 { data[10] = UInt8(ascii: "b") }
            body += data + Array("\r\n".utf8)
        }
        return body
    }

    static let exampleAuthenticator = RequestAuthenticator(
        credentials: AWSCredentialStore([AWSCredential(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secret: exampleSecret)]),
        region: "us-east-1")

    @Test func theExampleSeedSignatureVerifies() throws {
        let authenticated = try Self.exampleAuthenticator.authenticate(
            Self.exampleRequest(), service: .s3, now: Self.exampleNow)
        guard case .chunked(let signing?, trailer: false) = authenticated.payload else {
            Issue.record("expected a signed chunked payload, got \(authenticated.payload)")
            return
        }
        #expect(signing.seedSignature == Self.seed)
    }

    @Test func theExampleChunksDecodeWithTheirDocumentedSignatures() throws {
        let authenticated = try Self.exampleAuthenticator.authenticate(
            Self.exampleRequest(), service: .s3, now: Self.exampleNow)
        guard case .chunked(let signing, let trailer) = authenticated.payload else { return }
        let body = Self.exampleBody()
        #expect(body.count == 66824)
        // Fed in awkward pieces: chunk headers and data split across reads.
        for piece in [1, 7, 4096, 70000] {
            var decoder = ChunkedPayloadDecoder(signing: signing, trailer: trailer)
            var decoded: [UInt8] = []
            var offset = 0
            while offset < body.count {
                let end = min(body.count, offset + piece)
                try body[offset..<end].withUnsafeBytes { raw in try decoder.feed(raw) { decoded += $0 } }
                offset = end
            }
            #expect(decoder.isComplete)
            #expect(decoded == [UInt8](repeating: UInt8(ascii: "a"), count: 66560))
        }
    }

    @Test func aChangedChunkIsRefused() throws {
        let authenticated = try Self.exampleAuthenticator.authenticate(
            Self.exampleRequest(), service: .s3, now: Self.exampleNow)
        guard case .chunked(let signing, let trailer) = authenticated.payload else { return }
        var decoder = ChunkedPayloadDecoder(signing: signing, trailer: trailer)
        let error = #expect(throws: AWSError.self) {
            try Self.exampleBody(corruptSecondChunk: true).withUnsafeBytes { raw in try decoder.feed(raw) { _ in } }
        }
        #expect(error?.code == "SignatureDoesNotMatch")
    }

    // MARK: The verifier's errors

    static let now = RequestAuthenticator.parseAmzDate("20260101T120000Z")!
    static let authenticator = RequestAuthenticator(
        credentials: AWSCredentialStore([AWSCredential(accessKeyID: "PICPIPEKEY", secret: "s3cret")]),
        region: "us-east-1")

    /// Signs a GET of /uploads/a.jpg as an SDK would.
    static func signedGet(
        key: String = "PICPIPEKEY", secret: String = "s3cret", date: String = "20260101T120000Z"
    ) -> SignedRequest {
        var request = SignedRequest(
            method: "GET", path: "/uploads/a%20b.jpg", query: "versionId=null",
            headers: [
                ("Host", "127.0.0.1:9000"), ("x-amz-date", date), ("x-amz-content-sha256", SignatureV4.emptyHash),
            ])
        let signed = ["host", "x-amz-content-sha256", "x-amz-date"]
        let scope = "\(date.prefix(8))/us-east-1/s3/aws4_request"
        let canonical = SignatureV4.canonicalRequest(
            method: "GET", path: request.path, query: request.query, headers: request.headers, signedHeaders: signed,
            payloadHash: SignatureV4.emptyHash)
        let signature = SignatureV4.signature(
            SignatureV4.stringToSign(amzDate: date, scope: scope, canonicalRequest: canonical),
            key: SignatureV4.signingKey(
                secret: secret, date: String(date.prefix(8)), region: "us-east-1", service: "s3"))
        request.headers.append(
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=\(key)/\(scope), SignedHeaders=\(signed.joined(separator: ";")), Signature=\(signature)"
            ))
        return request
    }

    static func code(_ request: SignedRequest, now: Date = now) -> String? {
        do {
            _ = try authenticator.authenticate(request, service: .s3, now: now)
            return nil
        } catch let error as AWSError {
            return error.code
        } catch {
            return "\(error)"
        }
    }

    @Test func aRightSignatureIsAccepted() throws {
        let authenticated = try Self.authenticator.authenticate(Self.signedGet(), service: .s3, now: Self.now)
        #expect(authenticated.credential.accessKeyID == "PICPIPEKEY")
        guard case .sha256(let hash) = authenticated.payload else {
            Issue.record("expected the body's hash to check")
            return
        }
        #expect(hash == SignatureV4.emptyHash)
    }

    @Test func eachFailureHasAWSsCode() {
        #expect(Self.code(Self.signedGet(secret: "wrong")) == "SignatureDoesNotMatch")
        #expect(Self.code(Self.signedGet(key: "NOBODY")) == "InvalidAccessKeyId")
        #expect(Self.code(Self.signedGet(date: "20260101T114400Z")) == "RequestTimeTooSkewed")
        #expect(Self.code(Self.signedGet(date: "20260101T114600Z")) == nil)  // 14 minutes: within the skew
        var tampered = Self.signedGet()
        tampered.path = "/uploads/other.jpg"
        #expect(Self.code(tampered) == "SignatureDoesNotMatch")
        var unsigned = Self.signedGet()
        unsigned.headers.removeAll { $0.0 == "Authorization" }
        #expect(Self.code(unsigned) == "AccessDenied")
        var noHash = Self.signedGet()
        noHash.headers.removeAll { $0.0 == "x-amz-content-sha256" }
        #expect(Self.code(noHash) == "InvalidRequest")
    }

    /// A presigned GET as `aws s3 presign` makes it.
    static func presigned(expires: Int, date: String = "20260101T120000Z", secret: String = "s3cret") -> SignedRequest {
        let scope = "\(date.prefix(8))/us-east-1/s3/aws4_request"
        var query =
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=\(SignatureV4.uriEncode("PICPIPEKEY/" + scope))"
            + "&X-Amz-Date=\(date)&X-Amz-Expires=\(expires)&X-Amz-SignedHeaders=host"
        let headers = [("Host", "127.0.0.1:9000")]
        let canonical = SignatureV4.canonicalRequest(
            method: "GET", path: "/thumbnails/256/ab/x.jpg", query: query, headers: headers, signedHeaders: ["host"],
            payloadHash: SignatureV4.unsignedPayload)
        let signature = SignatureV4.signature(
            SignatureV4.stringToSign(amzDate: date, scope: scope, canonicalRequest: canonical),
            key: SignatureV4.signingKey(
                secret: secret, date: String(date.prefix(8)), region: "us-east-1", service: "s3"))
        query += "&X-Amz-Signature=\(signature)"
        return SignedRequest(method: "GET", path: "/thumbnails/256/ab/x.jpg", query: query, headers: headers)
    }

    @Test func presignedURLsWorkUntilTheyExpire() throws {
        #expect(Self.code(Self.presigned(expires: 60)) == nil)
        #expect(Self.code(Self.presigned(expires: 60), now: Self.now.addingTimeInterval(59)) == nil)
        #expect(Self.code(Self.presigned(expires: 60), now: Self.now.addingTimeInterval(61)) == "AccessDenied")
        #expect(Self.code(Self.presigned(expires: 60, secret: "wrong")) == "SignatureDoesNotMatch")
        // A lifetime out of S3's range (1 s to a week) is S3's 400, not an AccessDenied (until session 27).
        #expect(Self.code(Self.presigned(expires: 700_000)) == "AuthorizationQueryParametersError")
        #expect(Self.code(Self.presigned(expires: 604_801)) == "AuthorizationQueryParametersError")
        #expect(Self.code(Self.presigned(expires: 0)) == "AuthorizationQueryParametersError")
        #expect(Self.code(Self.presigned(expires: 604_800)) == nil)
    }

    /// A trailer-signed chunked body with a CRC32 trailer, signed here the way SDKs sign it.
    @Test func trailerSignatureAndChecksumAreChecked() throws {
        let key = SignatureV4.signingKey(secret: "s3cret", date: "20260101", region: "us-east-1", service: "s3")
        let signing = ChunkSigning(
            seedSignature: String(repeating: "0", count: 64), key: key, amzDate: "20260101T120000Z",
            scope: "20260101/us-east-1/s3/aws4_request")
        let data = Array("hello, picpipe".utf8)
        var checksum = PayloadChecksum(.crc32)
        data.withUnsafeBytes { checksum.update($0) }
        func body(trailerValue: String) -> [UInt8] {
            var previous = signing.seedSignature
            var out: [UInt8] = []
            for chunk in [data, []] {
                let signature = SignatureV4.signature(
                    SignatureV4.chunkStringToSign(
                        amzDate: signing.amzDate, scope: signing.scope, previousSignature: previous,
                        chunkHash: SignatureV4.hexSHA256(Data(chunk))),
                    key: key)
                out += Array("\(String(chunk.count, radix: 16));chunk-signature=\(signature)\r\n".utf8) + chunk
                if !chunk.isEmpty { out += Array("\r\n".utf8) }
                previous = signature
            }
            let trailer = "x-amz-checksum-crc32:\(trailerValue)\n"
            let trailerSignature = SignatureV4.signature(
                SignatureV4.trailerStringToSign(
                    amzDate: signing.amzDate, scope: signing.scope, previousSignature: previous,
                    trailerHash: SignatureV4.hexSHA256(Data(trailer.utf8))),
                key: key)
            out += Array(
                "x-amz-checksum-crc32:\(trailerValue)\r\nx-amz-trailer-signature:\(trailerSignature)\r\n\r\n".utf8)
            return out
        }
        var decoder = ChunkedPayloadDecoder(signing: signing, trailer: true, declaredTrailer: "x-amz-checksum-crc32")
        var decoded: [UInt8] = []
        try body(trailerValue: checksum.finalValue()).withUnsafeBytes { raw in try decoder.feed(raw) { decoded += $0 } }
        #expect(decoder.isComplete)
        #expect(decoded == data)
        #expect(decoder.trailers.first { $0.0 == "x-amz-checksum-crc32" }?.1 == checksum.finalValue())
        // A trailer changed after signing fails its signature.
        var tampered = body(trailerValue: checksum.finalValue())
        let text = String(decoding: tampered, as: UTF8.self).replacingOccurrences(
            of: "crc32:\(checksum.finalValue())", with: "crc32:AAAAAA==")
        tampered = Array(text.utf8)
        var second = ChunkedPayloadDecoder(signing: signing, trailer: true, declaredTrailer: "x-amz-checksum-crc32")
        #expect(throws: AWSError.self) { try tampered.withUnsafeBytes { raw in try second.feed(raw) { _ in } } }
    }

    @Test func checksumsMatchKnownValues() {
        // "123456789" is the check input of every CRC catalogue: CRC-32 cbf43926, CRC-32C e3069283.
        let input = Array("123456789".utf8)
        var crc32 = PayloadChecksum(.crc32)
        var crc32c = PayloadChecksum(.crc32c)
        input.withUnsafeBytes {
            crc32.update($0)
            crc32c.update($0)
        }
        #expect(crc32.finalValue() == Data([0xcb, 0xf4, 0x39, 0x26]).base64EncodedString())
        #expect(crc32c.finalValue() == Data([0xe3, 0x06, 0x92, 0x83]).base64EncodedString())
        // CRC-64/NVME (S3's full-object checksum): ae8b14860a799888; "" gives 0.
        var crc64 = PayloadChecksum(.crc64nvme)
        input.withUnsafeBytes { crc64.update($0) }
        #expect(crc64.finalValue() == Data([0xae, 0x8b, 0x14, 0x86, 0x0a, 0x79, 0x98, 0x88]).base64EncodedString())
        #expect(PayloadChecksum(.crc64nvme).finalValue() == Data(count: 8).base64EncodedString())
    }

    @Test func slicedCRC64MatchesTheBitwiseDefinitionForEveryLengthAndSplit() {
        func bitwise(_ bytes: [UInt8]) -> String {
            var crc: UInt64 = ~0
            for byte in bytes {
                crc ^= UInt64(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x9A6C_9329_AC4B_C9B5 : crc >> 1 }
            }
            let value = ~crc
            return Data((0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }).base64EncodedString()
        }
        let data = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 73 &+ 11) }
        for length in 0...data.count {
            let bytes = Array(data[0..<length])
            var whole = PayloadChecksum(.crc64nvme)
            bytes.withUnsafeBytes { whole.update($0) }
            var split = PayloadChecksum(.crc64nvme)
            bytes[0..<(length / 3)].withUnsafeBytes { split.update($0) }
            bytes[(length / 3)...].withUnsafeBytes { split.update($0) }
            #expect(whole.finalValue() == bitwise(bytes), "\(length) bytes")
            #expect(split.finalValue() == bitwise(bytes), "\(length) bytes cut at \(length / 3)")
        }
    }

    @Test func slicedChecksumsMatchTheBitwiseDefinitionForEveryLengthAndSplit() {
        // The eight-bytes-a-step CRCs against the polynomial's bit-by-bit definition, over lengths that end on and
        // off an 8-byte step, fed whole and in two unaligned pieces.
        func bitwise(_ bytes: [UInt8], _ polynomial: UInt32) -> String {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
            }
            let value = ~crc
            return Data([UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
                .base64EncodedString()
        }
        var generator = SystemRandomNumberGenerator()
        let data = (0..<100).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for length in 0...data.count {
            let bytes = Array(data[0..<length])
            for (algorithm, polynomial) in [
                (PayloadChecksum.Algorithm.crc32, UInt32(0xEDB8_8320)), (.crc32c, 0x82F6_3B78),
            ] {
                var whole = PayloadChecksum(algorithm)
                bytes.withUnsafeBytes { whole.update($0) }
                var split = PayloadChecksum(algorithm)
                let cut = length / 3
                bytes[0..<cut].withUnsafeBytes { split.update($0) }
                bytes[cut...].withUnsafeBytes { split.update($0) }
                let expected = bitwise(bytes, polynomial)
                #expect(whole.finalValue() == expected, "\(algorithm) of \(length) bytes")
                #expect(split.finalValue() == expected, "\(algorithm) of \(length) bytes cut at \(cut)")
            }
        }
    }
}

extension SignatureV4SuiteTests {
    /// RequestTimeTooSkewed names both times and the allowed skew, as S3's `<Error>` does.
    @Test func aSkewedRequestNamesBothTimes() throws {
        let error = #expect(throws: AWSError.self) {
            try Self.authenticator.authenticate(Self.signedGet(), service: .s3, now: Self.now.addingTimeInterval(3600))
        }
        #expect(error?.code == "RequestTimeTooSkewed")
        #expect(
            error?.details == [
                .init(name: "RequestTime", value: "20260101T120000Z"),
                .init(name: "ServerTime", value: "20260101T130000Z"),
                .init(name: "MaxAllowedSkewMilliseconds", value: "900000"),
            ])
        let document = String(
            decoding: try S3XML.encode(
                S3ErrorDocument(
                    code: "RequestTimeTooSkewed", message: "m", requestID: "1", details: error?.details ?? []),
                root: "Error", namespace: false), as: UTF8.self)
        #expect(document.contains("<ServerTime>20260101T130000Z</ServerTime>"), "\(document)")
    }
}
