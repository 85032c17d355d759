// Every answer of the HTTP API names its request, as API Gateway's, S3's and imgproxy's do: `X-Request-Id` (16 hex
// digits, or the valid id a proxy in front sent), the same id as `request_id` in a JSON error body and in the
// server's log line for a failure. Answers made ahead of the router (cached thumbnails from the raw bytes, kept
// answers given again, the request limits' refusals) carry one too.
import FetchService
import Foundation
import Logging
import PipelineCore
import Synchronization
import Testing

@Suite(.serialized)
struct HTTPRequestIDTests {
    /// Whether a value is an id this server made.
    static func isMade(_ id: String?) -> Bool {
        id.map { $0.wholeMatch(of: /[0-9A-F]{16}/) != nil } ?? false
    }

    /// The `request_id` of a JSON error body.
    static func bodyID(_ answer: HTTPAnswer) -> String? {
        (answer.json?["error"] as? [String: Any])?["request_id"] as? String
    }

    @Test func everyAnswerNamesItsRequestAndAnErrorBodyTheSame() async throws {
        let picture = try FetchServer.picture(seed: 67)
        try await FetchServer.with { client, _ in
            let upload = try await client.send(
                "POST", "/images", headers: [("Content-Type", "image/jpeg")], body: picture)
            let id = try #require(upload.json?["id"] as? String)
            #expect(Self.isMade(upload.header("X-Request-Id")))
            let health = try await client.send("GET", "/healthz")
            #expect(Self.isMade(health.header("X-Request-Id")))
            #expect(health.header("X-Request-Id") != upload.header("X-Request-Id"))

            let missing = try await client.send("GET", "/images/missing")
            #expect(missing.status == 404)
            #expect(Self.isMade(missing.header("X-Request-Id")))
            #expect(Self.bodyID(missing) == missing.header("X-Request-Id"))

            // A proxy's id is kept when it is a plain token; a huge or odd one is replaced.
            let proxied = try await client.send("GET", "/images/missing", headers: [("X-Request-Id", "zz-test-123")])
            #expect(proxied.header("X-Request-Id") == "zz-test-123")
            #expect(Self.bodyID(proxied) == "zz-test-123")
            for odd in [String(repeating: "a", count: 129), "two words", "quote\"d", "semi;colon"] {
                let replaced = try await client.send("GET", "/healthz", headers: [("X-Request-Id", odd)])
                #expect(Self.isMade(replaced.header("X-Request-Id")), "\(odd)")
            }

            // Refused ahead of the router (the request limits): an id in the field and the body.
            let long = try await client.send("GET", "/images/" + String(repeating: "a", count: 9000))
            #expect(long.status == 414)
            #expect(Self.isMade(long.header("X-Request-Id")))
            #expect(Self.bodyID(long) == long.header("X-Request-Id"))

            // Cached thumbnails: a GET, a GET and a HEAD on one connection are answered from the raw bytes, the
            // last two given again from the kept answer; a request with a field the raw path does not read goes to
            // the event-loop shortcut behind the decoder, which keeps a proxy's id. Each answer has its own id.
            let path = "/images/\(id)/thumbnails/64"
            var ids: [String?] = []
            var counted = (raw: 0, reused: 0)
            for attempt in 0..<20 where counted != (3, 2) {
                // The cache trusts an entry for 1 s from its last read: sent again when that passed between them.
                #expect(try await client.send("GET", path + "?via=route").status == 200)
                let before = try await RawAnswerMemoTests.rawCounts(client)
                var bytes: [UInt8] = []
                for (method, close) in [("GET", false), ("GET", false), ("HEAD", true)] {
                    bytes += Array(
                        ("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: image/jpeg, */*;q=0.\(attempt + 1)\r\n"
                            + (close ? "Connection: close\r\n" : "") + "\r\n").utf8)
                }
                let answers = RawAnswerMemoTests.split(
                    try await client.conversation([(bytes, 0)]), heads: [false, false, true])
                ids = try answers.enumerated().map { index, bytes in
                    try LoopbackClient.parse(bytes, isHead: index == 2).header("X-Request-Id")
                }
                let after = try await RawAnswerMemoTests.rawCounts(client)
                counted = (after.raw - before.raw, after.reused - before.reused)
            }
            #expect(counted == (3, 2), "one answer looked up, then a GET and a HEAD given again")
            #expect(ids.count == 3 && ids.allSatisfy(Self.isMade) && Set(ids).count == 3, "\(ids)")
            let decoded = try await client.send("GET", path, headers: [("X-Trace", "1")])
            #expect(decoded.status == 200 && Self.isMade(decoded.header("X-Request-Id")))
            let kept = try await client.send("GET", path, headers: [("X-Request-Id", "edge-4f1c")])
            #expect(kept.status == 200 && kept.header("X-Request-Id") == "edge-4f1c")

            // The document declares the field on these answers.
            let calls = [
                DocumentedHeadersTests.Call(method: "GET", target: "/images", operation: "/images"),
                .init(method: "GET", target: "/images/missing", operation: "/images/{id}"),
                .init(method: "GET", target: path, operation: "/images/{id}/thumbnails/{size}"),
                .init(
                    method: "GET", target: "/images/" + String(repeating: "a", count: 9000), operation: "/images/{id}"),
                .init(
                    method: "POST", target: "/images/\(id)/signed-url", operation: "/images/{id}/signed-url",
                    headers: [("Content-Type", "application/json")], body: Array(#"{"size": 64}"#.utf8)),
                .init(method: "GET", target: "/healthz", operation: "/healthz"),
                .init(method: "GET", target: "/openapi.json", operation: "/openapi.json"),
            ]
            let seen = try await DocumentedHeadersTests.expectDeclared(["X-Request-Id"], calls, client: client)
            #expect(seen["X-Request-Id"] == calls.count)
        }
    }

    /// An index whose look-up of one id fails as a bug would (not an outage): the route's answer is a 500.
    final class FailingIndex: ImageIndex {
        struct Broken: Error {}
        let wrapped: any ImageIndex
        init(_ wrapped: any ImageIndex) { self.wrapped = wrapped }

        func entry(for id: String) throws -> IndexedImage? {
            if id == "broken" { throw Broken() }
            return try wrapped.entry(for: id)
        }
        func ids(using hash: ContentHash) throws -> [String] { try wrapped.ids(using: hash) }
        func namedContents() throws -> [ContentHash: Int] { try wrapped.namedContents() }
        func upsert(_ entry: IndexedImage) throws -> IndexedImage? { try wrapped.upsert(entry) }
        func remove(id: String) throws -> IndexedImage? { try wrapped.remove(id: id) }
        func upsert(_ entry: IndexedImage, ifNaming expected: ContentHash?) throws -> IndexChange {
            try wrapped.upsert(entry, ifNaming: expected)
        }
        func remove(id: String, ifNaming expected: ContentHash) throws -> IndexChange {
            try wrapped.remove(id: id, ifNaming: expected)
        }
    }

    /// The error lines a server logged: message and metadata.
    final class ErrorLines: Sendable {
        let lines = Mutex<[(message: String, metadata: [String: String])]>([])

        /// A handler that records the error lines here.
        func handler(_ label: String) -> any LogHandler { Recorder(lines: self) }

        struct Recorder: LogHandler {
            let lines: ErrorLines
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .warning
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                guard event.level >= .error else { return }
                let fields = (event.metadata ?? [:]).mapValues { "\($0)" }
                lines.lines.withLock { $0.append(("\(event.message)", fields)) }
            }
        }
    }

    @Test func theLogLineOfAFailureNamesTheRequestItsAnswerNames() async throws {
        let logged = ErrorLines()
        let logger = Logger(label: "request-ids", factory: logged.handler)
        let index: (StoreLayout) throws -> any ImageIndex = { layout in
            FailingIndex(try SQLiteImageIndex(url: SQLiteImageIndex.location(in: layout)))
        }
        try await FetchServer.with(imageIndex: index, logger: logger) { client, _ in
            let failed = try await client.send("GET", "/images/broken", headers: [("X-Request-Id", "trace-500-abc")])
            #expect(failed.status == 500)
            #expect(failed.header("X-Request-Id") == "trace-500-abc")
            #expect(Self.bodyID(failed) == "trace-500-abc")
            let made = try await client.send("GET", "/images/broken")
            let id = try #require(made.header("X-Request-Id"))
            #expect(Self.bodyID(made) == id)
            let lines = logged.lines.withLock { $0 }.filter { $0.message == "request failed" }
            #expect(lines.map { $0.metadata["request_id"] } == ["trace-500-abc", id])
            #expect(lines.allSatisfy { $0.metadata["path"] == "/images/broken" })
        }
    }
}
