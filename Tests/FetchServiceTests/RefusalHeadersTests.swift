// The refusals made before the router (the request limits' 400, 408, 414, 431) carry the fields every routed answer
// carries: `Date` (RFC 9110 §6.6.1: an origin server with a clock sends it; nginx always does) and `Server`. Until
// session 36 they had neither.
import Foundation
import PipelineCore
import Testing

struct RefusalHeadersTests {
    /// Each refused head, by what it breaks.
    static let refused: [(what: String, head: String, status: Int)] = [
        ("two Host fields", "GET /images HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("a target over the limit", "GET /images/\(pad(9000)) HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        ("headers over the limit", "GET /images HTTP/1.1\r\nHost: x\r\nX-Pad: \(pad(17_000))\r\n\r\n", 431),
        ("a head that never ends", "GET /images HTTP/1.1\r\nHost: x\r\n", 408),
    ]

    static func pad(_ count: Int) -> String { String(repeating: "a", count: count) }

    /// A head not complete in half a second is refused.
    static func shortHeaderTimeout(_ configuration: inout PicpipeConfiguration) {
        configuration.http.headerTimeout = 0.5
    }

    @Test func refusalsBeforeTheRouterCarryDateAndServer() async throws {
        try await FetchServer.with(configure: Self.shortHeaderTimeout) { client, _ in
            let routed = try await client.send("GET", "/images/nothing-here")
            #expect(routed.status == 404)
            for (what, head, status) in Self.refused {
                let answer = try await client.raw(Array(head.utf8))
                #expect(answer.status == status, "\(what): \(answer.text)")
                let date = try #require(answer.header("Date"), "\(what)")
                #expect(date.hasSuffix(" GMT") && date.count == 29, "\(what): \(date)")
                #expect(answer.header("Server") == routed.header("Server"), "\(what)")
                #expect(answer.header("Server") == "picpipe", "\(what)")
            }
        }
    }
}
