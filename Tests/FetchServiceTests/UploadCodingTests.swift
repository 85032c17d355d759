// Uploads sent in a coding picpipe does not decode are refused for that coding, never stored: a transfer coding other
// than chunked is 501 (RFC 9112 §6.1, as nginx answers), a content coding other than identity is 415 naming it (RFC
// 9110 §15.5.16). Until session 36 both reached the format sniffing and were called "not a JPEG, PNG…".
import Foundation
import Testing

struct UploadCodingTests {
    /// A body that starts as gzip does (picpipe never decodes it, so the rest need not be deflate).
    static func gzipFramed(_ bytes: [UInt8]) -> [UInt8] { [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff] + bytes }

    /// `bytes` as one chunk and the last chunk.
    static func chunked(_ bytes: [UInt8]) -> [UInt8] {
        Array("\(String(bytes.count, radix: 16))\r\n".utf8) + bytes + Array("\r\n0\r\n\r\n".utf8)
    }

    static func message(_ answer: HTTPAnswer) -> String {
        (answer.json?["error"] as? [String: Any])?["message"] as? String ?? ""
    }

    @Test func aTransferCodingOtherThanChunkedIsNotImplemented() async throws {
        let body = Self.gzipFramed(try FetchServer.picture(.png))
        try await FetchServer.with { client, layout in
            for codings in ["gzip, chunked", "deflate,chunked", "identity, chunked"] {
                let head =
                    "POST /images HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nTransfer-Encoding: \(codings)\r\n\r\n"
                let answer = try await client.raw(Array(head.utf8) + Self.chunked(body))
                #expect(answer.status == 501, "\(codings): \(answer.text)")
                #expect(answer.errorCode == "not_implemented", "\(codings)")
                #expect(Self.message(answer).contains("Transfer-Encoding"), "\(codings): \(answer.text)")
                #expect(answer.header("Connection") == "close")
            }
            #expect(FetchServer.files(under: layout.uploads).isEmpty)
            #expect(FetchServer.files(under: layout.originals).isEmpty)
        }
    }

    @Test func aContentCodingIsRefusedByNameAndIdentityIsTaken() async throws {
        let png = try FetchServer.picture(.png)
        try await FetchServer.with { client, layout in
            for (method, target, coding) in [("POST", "/images", "gzip"), ("PUT", "/images/cat", "br")] {
                let answer = try await client.send(
                    method, target, headers: [("Content-Type", "image/png"), ("Content-Encoding", coding)],
                    body: Self.gzipFramed(png))
                #expect(answer.status == 415, "\(method) \(coding): \(answer.text)")
                #expect(answer.errorCode == "unsupported_media_type")
                #expect(Self.message(answer).contains("Content-Encoding: \(coding)"), "\(answer.text)")
                // RFC 9110 §12.5.3: what the server takes instead, so a client tells it from a wrong media type.
                #expect(answer.header("Accept-Encoding") == "identity")
            }
            #expect(FetchServer.files(under: layout.uploads).isEmpty)
            #expect(FetchServer.files(under: layout.originals).isEmpty)
            let identity = try await client.send(
                "POST", "/images", headers: [("Content-Type", "image/png"), ("Content-Encoding", "identity")],
                body: png)
            #expect(identity.status == 202, "\(identity.text)")
        }
    }
}
