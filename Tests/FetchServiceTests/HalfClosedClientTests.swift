// A client that sends its requests, then bytes that are no request, then closes its sending side (`nc -N`, an
// HTTP/1.0-style client, a body with a byte too many): the complete requests are answered, in order, before the
// refusal of what follows them and before the connection closes, as with the socket left open and as nginx does.
import Foundation
import Testing

struct HalfClosedClientTests {
    /// Each request of `requests` on one connection, then `trailing`, then the sending side shut.
    static func answers(
        _ client: LoopbackClient, _ requests: [[UInt8]], trailing: String
    ) async throws -> [(status: Int, body: [UInt8])] {
        let bytes = requests.joined() + Array(trailing.utf8)
        return CachedThumbnailResponderTests.split(try await client.conversation([(Array(bytes), 0)], halfClose: true))
    }

    static func get(_ target: String) -> [UInt8] { Array("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8) }

    /// The refusal of the bytes behind the answered requests.
    static func expectRefused(_ answer: (status: Int, body: [UInt8])?) {
        #expect(answer?.status == 400)
        let text = answer.map { String(decoding: $0.body, as: UTF8.self) } ?? ""
        #expect(text.contains("malformed_request") && text.contains("not an HTTP method"), "\(text)")
    }

    @Test(arguments: ["X", "GARBAGE\r\n\r\n"])
    func aRouteAnswerComesBeforeTheRefusalOfWhatFollows(_ trailing: String) async throws {
        try await FetchServer.with { client, _ in
            // Until session 33 the bytes behind the request were refused at once, the answer to /healthz still being
            // made, and the client's end then closed the connection: it got nothing at all.
            let answers = try await Self.answers(client, [Self.get("/healthz")], trailing: trailing)
            #expect(answers.map(\.status) == [200, 400], "\(answers.map(\.status))")
            let health = String(decoding: answers.first?.body ?? [], as: UTF8.self)
            #expect(health.contains("\"status\":\"ok\""), "\(health)")
            Self.expectRefused(answers.last)
        }
    }

    @Test(arguments: [false, true])
    func bytesAfterARequestThatAskedToCloseAreNotRead(_ halfClose: Bool) async throws {
        try await FetchServer.with { client, _ in
            // RFC 9112 §9.6: nothing after it is processed. With its end read first the client got a 400 after the
            // answer (and, until session 33, not even the answer), where with its side open it got the answer alone.
            for request in ["HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close", "HTTP/1.0"] {
                let bytes = Array("GET /healthz \(request)\r\n\r\nX".utf8)
                let answers = CachedThumbnailResponderTests.split(
                    try await client.conversation([(bytes, 0)], halfClose: halfClose))
                #expect(answers.map(\.status) == [200], "\(request): \(answers.map(\.status))")
            }
        }
    }

    @Test func anUploadIsAcknowledgedBeforeTheRefusalOfAByteTooMany() async throws {
        try await FetchServer.with { client, _ in
            let jpeg = try FetchServer.picture(seed: 33)
            let head = "POST /images HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
            let upload = Array((head + "Content-Length: \(jpeg.count)\r\n\r\n").utf8) + jpeg
            let answers = try await Self.answers(client, [upload], trailing: "X")
            // The picture is stored either way; until session 33 its 202 never reached the client, which would then
            // send it again.
            try #require(answers.map(\.status) == [202, 400], "\(answers.map(\.status))")
            let accepted = try JSONSerialization.jsonObject(with: Data(answers[0].body)) as? [String: Any]
            let id = try #require(accepted?["id"] as? String)
            #expect(try await client.send("GET", "/images/\(id)").status == 200)
            Self.expectRefused(answers.last)
        }
    }

    @Test func answersFromTheRawPathAndTheRouteComeInOrder() async throws {
        try await FetchServer.with { client, _ in
            let id = try await RawShortcutTests.upload(client)
            let thumbnail = "/images/\(id)/thumbnails/256"
            // A cached thumbnail (the raw path), the original (the route), the thumbnail again, then garbage.
            let answers = try await Self.answers(
                client, [Self.get(thumbnail), Self.get("/images/\(id)"), Self.get(thumbnail)], trailing: "X")
            try #require(answers.map(\.status) == [200, 200, 200, 400], "\(answers.map(\.status))")
            #expect(answers[0].body == answers[2].body && answers[0].body != answers[1].body)
            Self.expectRefused(answers.last)
        }
    }
}
