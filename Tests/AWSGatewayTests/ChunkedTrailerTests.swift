// The trailing headers of an aws-chunked body (STREAMING-UNSIGNED-PAYLOAD-TRAILER, the SDKs' default over HTTPS):
// exactly the checksum `x-amz-trailer` declares, with a well-formed value, as S3 requires.
import Crypto
import Foundation
import Testing

@testable import AWSGateway

@Suite struct ChunkedTrailerTests {
    static let data = Array("hello, picpipe".utf8)

    /// An unsigned chunked body of `data` ending with `trailers` (`name:value` lines).
    static func body(_ trailers: [String]) -> [UInt8] {
        Array("\(String(data.count, radix: 16))\r\n".utf8) + data
            + Array("\r\n0\r\n\(trailers.map { $0 + "\r\n" }.joined())\r\n".utf8)
    }

    /// Decodes `body` as a request declaring `declared` would have it decoded; the error, if any.
    static func decode(_ body: [UInt8], declared: String?) -> (AWSError?, ChunkedPayloadDecoder) {
        var decoder = ChunkedPayloadDecoder(signing: nil, trailer: true, declaredTrailer: declared)
        do {
            try body.withUnsafeBytes { raw in try decoder.feed(raw) { _ in } }
            return (nil, decoder)
        } catch let error as AWSError {
            return (error, decoder)
        } catch {
            return (AWSError("Unexpected", status: 0, "\(error)"), decoder)
        }
    }

    static var crc32: String {
        var checksum = PayloadChecksum(.crc32)
        data.withUnsafeBytes { checksum.update($0) }
        return checksum.finalValue()
    }

    @Test func theDeclaredChecksumIsTaken() {
        let (error, decoder) = Self.decode(
            Self.body(["x-amz-checksum-crc32:\(Self.crc32)"]), declared: "X-Amz-Checksum-CRC32 ")
        #expect(error == nil)
        #expect(decoder.isComplete)
        #expect(decoder.trailers.map { "\($0.0):\($0.1)" } == ["x-amz-checksum-crc32:\(Self.crc32)"])
        // Neither declared nor sent: nothing to check.
        #expect(Self.decode(Self.body([]), declared: nil).0 == nil)
    }

    /// Each was skipped until session 33, and the upload answered with the server's own checksum.
    @Test func aTrailerOtherThanTheDeclaredOneIsMalformed() throws {
        let sha256 = Data(SHA256.hash(data: Self.data)).base64EncodedString()
        let cases: [(declared: String?, trailers: [String])] = [
            ("x-amz-checksum-crc32", []),
            ("x-amz-checksum-crc32", ["x-amz-checksum-sha256:\(sha256)"]),
            (nil, ["x-amz-checksum-crc32:AAAAAA=="]),
            ("x-amz-checksum-crc32", ["x-amz-checksum-crc32:\(Self.crc32)", "x-amz-checksum-crc32:\(Self.crc32)"]),
            ("x-amz-checksum-crc32", ["x-amz-checksum-crc32:\(Self.crc32)", "x-amz-meta-owner:mallory"]),
            // A trailer signature belongs to STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER only.
            ("x-amz-checksum-crc32", ["x-amz-checksum-crc32:\(Self.crc32)", "x-amz-trailer-signature:00"]),
        ]
        for test in cases {
            let error = try #require(Self.decode(Self.body(test.trailers), declared: test.declared).0, "\(test)")
            #expect(error.code == "MalformedTrailerError", "\(test)")
            #expect(error.status == 400)
            #expect(
                error.message.hasPrefix(
                    "The request contained trailing data that was not well-formed or did not conform to our "
                        + "published schema"))
        }
    }

    /// It was compared as it came and refused as BadDigest.
    @Test func aValueThatIsNotItsAlgorithmsBase64IsInvalid() throws {
        for value in ["notbase64!!", Data(count: 8).base64EncodedString(), ""] {
            let error = try #require(
                Self.decode(Self.body(["x-amz-checksum-crc32:\(value)"]), declared: "x-amz-checksum-crc32").0)
            #expect(error.code == "InvalidRequest")
            #expect(error.message == "Value for x-amz-checksum-crc32 trailing header is invalid.")
        }
    }
}
