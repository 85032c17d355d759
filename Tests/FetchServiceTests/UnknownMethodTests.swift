// A request the HTTP parser stops at its method or its version, though the line is well formed, is answered for what
// it is: an unknown method (any token, `FOO`) is 501 `not_implemented` (RFC 9110 §15.6.2), a version picpipe does not
// speak (`HTTP/2.0` in an HTTP/1 request line) 505 `http_version_not_supported` (§15.6.6). Until session 36 both were
// 400 `malformed_request`, which is kept for lines that are not well formed.
import Foundation
import Testing

struct UnknownMethodTests {
    static func line(_ requestLine: String) -> [UInt8] { Array("\(requestLine)\r\nHost: x\r\n\r\n".utf8) }

    static func message(_ answer: HTTPAnswer) -> String {
        (answer.json?["error"] as? [String: Any])?["message"] as? String ?? ""
    }

    @Test func anUnknownMethodIsNotImplemented() async throws {
        try await FetchServer.with { client, _ in
            for method in ["FOO", "BREW", "foo", "M-SEARCH!"] {
                let answer = try await client.raw(Self.line("\(method) /images/x HTTP/1.1"))
                #expect(answer.status == 501, "\(method): \(answer.text)")
                #expect(answer.errorCode == "not_implemented", "\(method)")
                #expect(Self.message(answer).contains("'\(method)'"), "\(answer.text)")
            }
            // Not a token, or no request line at all: still malformed.
            for line in ["GE@T /images HTTP/1.1", "GARBAGE"] {
                let answer = try await client.raw(Self.line(line))
                #expect(answer.status == 400 && answer.errorCode == "malformed_request", "\(line): \(answer.text)")
            }
            // A method the parser knows and the route does not take is still 405 with Allow.
            let patch = try await client.raw(Self.line("PATCH /images/x HTTP/1.1"))
            #expect(patch.status == 405 && patch.header("Allow") != nil, "\(patch.text)")
        }
    }

    @Test func aVersionPicpipeDoesNotSpeakIs505() async throws {
        try await FetchServer.with { client, _ in
            for version in ["HTTP/2.0", "HTTP/3.0", "HTTP/1.2"] {
                let answer = try await client.raw(Self.line("GET /images \(version)"))
                #expect(answer.status == 505, "\(version): \(answer.text)")
                #expect(answer.errorCode == "http_version_not_supported", "\(version)")
                #expect(Self.message(answer).contains(version), "\(answer.text)")
            }
            let garbled = try await client.raw(Self.line("GET /images HTTP/1.x"))
            #expect(garbled.status == 400 && garbled.errorCode == "malformed_request", "\(garbled.text)")
        }
    }
}
