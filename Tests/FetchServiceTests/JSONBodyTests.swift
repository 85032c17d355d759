// The routes that read a JSON body (a signed thumbnail URL, a signed event-stream URL, an import) answer a body the
// client cut short, one whose chunked framing breaks and one over their limit as the client's doing: 400
// `malformed_request` or 413 `body_too_large`, and no error line in the log. Until session 33 the first two were a
// 500 `internal_error` logged as "request failed" on the signing routes, and the import called them all "JSON of at
// most 16 KiB".
import Foundation
import Logging
import PipelineCore
import Testing

struct JSONBodyTests {
    /// Signed URLs on.
    static func signing(_ configuration: inout PicpipeConfiguration) {
        configuration.http.signingKey = "json-body-tests-signing-key"
    }

    /// The JSON body routes, for the picture `id`, with the most each takes.
    static func routes(_ id: String) -> [(path: String, limit: Int)] {
        [("/images/\(id)/signed-url", 4096), ("/events/stream/signed-url", 4096), ("/images", 16 * 1024)]
    }

    /// Sends `head` (without its blank line) and `body` on one connection, then closes the sending side.
    static func answer(_ client: LoopbackClient, _ head: String, body: String) async throws -> HTTPAnswer {
        let bytes = Array((head + "\r\n").utf8) + Array(body.utf8)
        return try LoopbackClient.parse(try await client.conversation([(bytes, 0)], halfClose: true), isHead: false)
    }

    static func post(_ path: String, _ fields: String) -> String {
        "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\(fields)"
    }

    @Test func aBodyCutShortIsTheClients400AndNoErrorLine() async throws {
        let logged = HTTPRequestIDTests.ErrorLines()
        let logger = Logger(label: "json-body", factory: logged.handler)
        try await FetchServer.with(configure: Self.signing, logger: logger) { client, _ in
            let id = try await RawShortcutTests.upload(client)
            for (path, _) in Self.routes(id) {
                // 3 of the 32 bytes declared, then the client's end.
                let cut = try await Self.answer(client, Self.post(path, "Content-Length: 32\r\n"), body: "{\"s")
                #expect(cut.status == 400 && cut.errorCode == "malformed_request", "\(path): \(cut.text)")
                #expect(cut.text.contains("after 3 of 32 bytes") && cut.text.contains("cut short"), "\(cut.text)")
                #expect(cut.header("Connection") == "close", "\(path)")
                // A chunk size that is not hex.
                let broken = try await Self.answer(
                    client, Self.post(path, "Transfer-Encoding: chunked\r\n"), body: "zz\r\n")
                #expect(broken.status == 400 && broken.errorCode == "malformed_request", "\(path): \(broken.text)")
                #expect(broken.text.contains("cannot be read after 0 bytes"), "\(broken.text)")
            }
            let errors = logged.lines.withLock { $0 }
            #expect(errors.isEmpty, "\(errors.map(\.message))")
        }
    }

    @Test func aBodyOverTheRoutesLimitIs413() async throws {
        let logged = HTTPRequestIDTests.ErrorLines()
        let logger = Logger(label: "json-body", factory: logged.handler)
        try await FetchServer.with(configure: Self.signing, logger: logger) { client, _ in
            let id = try await RawShortcutTests.upload(client)
            for (path, limit) in Self.routes(id) {
                let padding = String(repeating: " ", count: limit + 1)
                // Said by its length, and found while reading a chunked body.
                for framing in ["Content-Length: \(limit + 1)", "Transfer-Encoding: chunked"] {
                    let chunked = framing.hasPrefix("Transfer")
                    let body =
                        chunked ? String(padding.utf8.count, radix: 16) + "\r\n" + padding + "\r\n0\r\n\r\n" : padding
                    let answer = try await Self.answer(client, Self.post(path, framing + "\r\n"), body: body)
                    #expect(answer.status == 413 && answer.errorCode == "body_too_large", "\(path): \(answer.text)")
                    #expect(answer.text.contains("\(limit) bytes"), "\(answer.text)")
                }
                // Within it: the route reads it (and refuses what it is not).
                let within = try await Self.answer(
                    client, Self.post(path, "Content-Length: 2\r\n"), body: "[]")
                #expect(within.status == 400 && within.errorCode == "bad_request", "\(path): \(within.text)")
            }
            let errors = logged.lines.withLock { $0 }
            #expect(errors.isEmpty, "\(errors.map(\.message))")
        }
    }
}
