// The raw-bytes path for cached thumbnails (`RawShortcutHandler`, `PlainRequestHead`): the same bytes as the decoder's
// path, what it leaves to the decoder, answers in order when it hands one request over, and a connection's idle
// timeout and reads kept right.
import Foundation
import HTTPTypes
import NIOCore
import NIOEmbedded
import Prometheus
import Testing

@testable import FetchService

struct PlainRequestHeadTests {
    static func head(_ text: String, maxLength: Int = 8192) -> PlainRequestHead? {
        PlainRequestHead(ByteBuffer(string: text).readableBytesView, maxLength: maxLength)
    }

    @Test func aPlainGetIsReadWithItsFields() throws {
        let text =
            "GET /images/a/thumbnails/256 HTTP/1.1\r\nhost: example.org\r\nAccept:  image/webp,*/* \r\n"
            + "Connection: Keep-Alive\r\nIf-None-Match: \"x\"\r\n\r\nGET /next"
        let head = try #require(Self.head(text))
        #expect(head.length == text.utf8.count - "GET /next".utf8.count)
        #expect(head.request.method == .get && head.request.path == "/images/a/thumbnails/256")
        #expect(head.request.authority == "example.org")
        #expect(head.request.headerFields[.accept] == "image/webp,*/*")
        #expect(head.request.headerFields[.connection] == "keep-alive")
        #expect(head.request.headerFields[.ifNoneMatch] == "\"x\"")
        #expect(head.request.headerFields[HTTPField.Name("Host")!] == nil)
        let headRequest = try #require(Self.head("HEAD /x?q=1 HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(headRequest.request.method == .head && headRequest.request.path == "/x?q=1")
    }

    @Test(arguments: [
        "GET /x HTTP/1.1\r\nHost: h\r\n",  // incomplete
        "GET /x HTTP/1.1\r\nHost: h\r\n\r",  // incomplete
        "get /x HTTP/1.1\r\nHost: h\r\n\r\n",  // methods are case-sensitive
        "POST /x HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /x HTTP/1.0\r\nHost: h\r\n\r\n",
        "GET http://h/x HTTP/1.1\r\nHost: h\r\n\r\n",  // absolute form
        "GET /x#f HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /x HTTP/1.1\r\n\r\n",  // no Host
        "GET /x HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer t\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: h\r\nX-Api-Key: k\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: h\r\nAccept: a\r\n b\r\n\r\n",  // obs-fold
        "GET /x HTTP/1.1\nHost: h\n\n",  // bare LF
        "GET /x HTTP/1.1\r\nHost : h\r\n\r\n",  // space before the colon
        "GET /x HTTP/1.1\r\nHost: h\r\nAccept:\r\n\r\n",  // empty value
        "GET /x HTTP/1.1\r\nHost: h\u{00E9}\r\n\r\n",  // not ASCII
        "GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\t\r\n\r\n",  // the decoder keeps a trailing tab
        "GET /x HTTP/1.1\r\nHost: h\r\nAccept: a\t \r\n\r\n",
    ])
    func anythingElseIsLeftToTheDecoder(_ text: String) {
        #expect(Self.head(text) == nil, "\(text.debugDescription)")
    }

    @Test func aHeadLongerThanTheLimitIsLeftToTheDecoder() {
        let text = "GET /\(String(repeating: "a", count: 100)) HTTP/1.1\r\nHost: h\r\n\r\n"
        #expect(Self.head(text, maxLength: text.utf8.count) != nil)
        #expect(Self.head(text, maxLength: text.utf8.count - 1) == nil)
    }
}

struct RawShortcutTests {
    /// The counters of answers given from memory: all of them, and those read from the raw bytes.
    static func answered(_ client: LoopbackClient) async throws -> (eventLoop: Int, raw: Int) {
        let values = try await counters(
            client, "picpipe_http_event_loop_answers_total", "picpipe_http_raw_answers_total")
        return (values[0], values[1])
    }

    /// The values of unlabelled counters on `/metrics` (-1 for one not found).
    static func counters(_ client: LoopbackClient, _ names: String...) async throws -> [Int] {
        let metrics = try await client.send("GET", "/metrics").text
        return names.map { name in
            let line = metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            return line.flatMap { $0.split(separator: " ").last }.flatMap { Int(Double($0) ?? -1) } ?? -1
        }
    }

    /// An answer's bytes without its Date and X-Request-Id lines (the lines that differ between two answers; the
    /// request id stands after the status line on the raw path, after Server on the decoder's).
    static func withoutDateAndRequestID(_ bytes: [UInt8]) -> [UInt8] {
        var text = String(decoding: bytes, as: UTF8.self)
        for line in ["\r\nDate: [^\r]*", "\r\nX-Request-Id: [0-9A-F]{16}"] {
            guard let range = text.range(of: line, options: .regularExpression) else { return bytes }
            text.replaceSubrange(range, with: "")
        }
        return Array(text.utf8)
    }

    static func upload(_ client: LoopbackClient) async throws -> String {
        let jpeg = try FetchServer.picture(seed: 91)
        let id = try #require(
            try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: jpeg).json?["id"]
                as? String)
        #expect(try await client.send("GET", "/images/\(id)/thumbnails/256").status == 200)
        return id
    }

    @Test func plainRequestsGetTheBytesTheDecodersPathWrites() async throws {
        try await FetchServer.with { client, _ in
            let id = try await Self.upload(client)
            let path = "/images/\(id)/thumbnails/256"
            let eTag = try #require(try await client.send("GET", path).header("ETag"))
            let cases: [(String, String)] = [
                ("GET", ""), ("HEAD", ""), ("GET", "Range: bytes=10-99\r\n"), ("GET", "If-None-Match: \(eTag)\r\n"),
                ("GET", "Accept: image/webp,*/*\r\n"), ("GET", "If-Range: \"other\"\r\nRange: bytes=0-9\r\n"),
            ]
            for (method, fields) in cases {
                let plain = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(fields)Connection: close\r\n\r\n"
                // Not plain: a field the raw path does not read sends the same request through the decoder, where
                // the event-loop handler answers it from the same cache.
                let decoded =
                    "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(fields)X-Trace: 1\r\nConnection: close\r\n\r\n"
                // The cache trusts an entry for 1 s from its last read: a GET through the route (a query) reads it
                // again when due, then the pair goes at once; on a machine so loaded that the second passed before
                // both were answered from memory, the pair is sent again (at most 20 times).
                var (raw, other, counted) = ([UInt8](), [UInt8](), (eventLoop: 0, raw: 0))
                for _ in 0..<20 where counted != (2, 1) {
                    let before = try await Self.answered(client)
                    #expect(try await client.send("GET", path + "?via=route").status == 200)
                    async let plainAnswer = client.conversation([(Array(plain.utf8), 0)])
                    async let decodedAnswer = client.conversation([(Array(decoded.utf8), 0)])
                    (raw, other) = try await (plainAnswer, decodedAnswer)
                    let after = try await Self.answered(client)
                    counted = (after.eventLoop - before.eventLoop, after.raw - before.raw)
                }
                #expect(counted == (2, 1), "\(method) \(fields.debugDescription): one raw answer and one decoded")
                #expect(
                    raw.count > 100 && Self.withoutDateAndRequestID(raw) == Self.withoutDateAndRequestID(other),
                    "\(method) \(fields.debugDescription)")
                #expect(String(decoding: raw, as: UTF8.self).contains("\r\nDate: "))
            }
        }
    }

    @Test func connectionsAnsweredFromTheBytesStartNoRequestLoop() async throws {
        try await FetchServer.with { client, _ in
            let id = try await Self.upload(client)
            let path = "/images/\(id)/thumbnails/256"
            let names = ["picpipe_http_raw_answers_total", "picpipe_http_request_loops_total"]
            // As above: the cache's 1 s may pass on a loaded machine (a raw miss goes to the route): sent again.
            var (raw, loops) = (0, 0)
            for _ in 0..<20 where raw != 10 {
                #expect(try await client.send("GET", path + "?via=route").status == 200)
                let before = try await Self.counters(client, names[0], names[1])
                for _ in 0..<10 { #expect(try await client.send("GET", path).status == 200) }
                let after = try await Self.counters(client, names[0], names[1])
                (raw, loops) = (after[0] - before[0], after[1] - before[1])
            }
            #expect(raw == 10)
            // Ten connections, each with one request and `Connection: close`: only the /metrics request that read
            // the counts after them needed a request loop.
            #expect(loops == 1)
        }
    }

    @Test func aHeadSplitAcrossReadsIsReadByTheDecoder() async throws {
        try await FetchServer.with { client, _ in
            let id = try await Self.upload(client)
            let thumbnail = try await client.send("GET", "/images/\(id)/thumbnails/256").body
            let before = try await Self.answered(client)
            let received = try await client.conversation([
                (Array("GET /images/\(id)/thumbnails/256 HTTP/1.1\r\nHo".utf8), 0),
                (Array("st: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8), 0.2),
            ])
            let answer = try LoopbackClient.parse(received, isHead: false)
            #expect(answer.status == 200 && answer.body == thumbnail)
            #expect(try await Self.answered(client).raw == before.raw)
        }
    }

    @Test func requestsBehindOneForTheRouteAreAnsweredAfterIt() async throws {
        try await FetchServer.with { client, _ in
            let id = try await Self.upload(client)
            let path = "/images/\(id)/thumbnails/256"
            let thumbnail = try await client.send("GET", path).body
            let original = try await client.send("GET", "/images/\(id)").body
            #expect(!original.isEmpty && original != thumbnail)
            var answers: [(status: Int, body: [UInt8])] = []
            var counted = 0
            // A thumbnail (raw), the original (plain, but the route's: handed to the decoder alone), two thumbnails
            // (held until the original's answer is written, then raw again), all sent at once.
            // As above: on a loaded machine the cache's 1 s may pass before all three are answered: sent again.
            for _ in 0..<20 where counted != 3 {
                let before = try await Self.answered(client).raw
                #expect(try await client.send("GET", path + "?via=route").status == 200)
                var bytes: [UInt8] = []
                for (target, close) in [(path, false), ("/images/\(id)", false), (path, false), (path, true)] {
                    let closing = close ? "Connection: close\r\n" : ""
                    bytes += Array("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(closing)\r\n".utf8)
                }
                answers = CachedThumbnailResponderTests.split(try await client.conversation([(bytes, 0)]))
                counted = try await Self.answered(client).raw - before
            }
            #expect(answers.map(\.status) == [200, 200, 200, 200])
            #expect(answers.map(\.body) == [thumbnail, original, thumbnail, thumbnail])
            #expect(counted == 3)
        }
    }

    @Test func aRequestHandedOnAfterAWaitIsAnsweredWithoutMoreBytes() async throws {
        // The original twice behind a thumbnail, sent at once: the first original waits for nothing, the second is
        // held until the first is answered, then handed to the decoder outside any read from the socket; the client
        // sends nothing more, so it must be answered all the same (not only when the idle timeout closes).
        try await FetchServer.with { client, _ in
            let id = try await Self.upload(client)
            let path = "/images/\(id)/thumbnails/256"
            let thumbnail = try await client.send("GET", path).body
            let original = try await client.send("GET", "/images/\(id)").body
            var bytes: [UInt8] = []
            for (target, close) in [(path, false), ("/images/\(id)", false), ("/images/\(id)", true)] {
                let closing = close ? "Connection: close\r\n" : ""
                bytes += Array("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(closing)\r\n".utf8)
            }
            let answers = CachedThumbnailResponderTests.split(try await client.conversation([(bytes, 0)]))
            #expect(answers.map(\.status) == [200, 200, 200])
            #expect(answers.map(\.body) == [thumbnail, original, original])
        }
    }
}

/// The handlers alone on an embedded channel, whose clock the test moves.
struct RawShortcutIdleTests {
    /// Answers every GET of `/hit` with two bytes.
    struct Hits: EventLoopShortcut {
        func mayAnswer(_ head: HTTPRequest) -> Bool { true }
        func answer(_ head: HTTPRequest) -> CachedAnswer? {
            guard head.path == "/hit" else { return nil }
            return CachedAnswer(status: .ok, fields: [.contentLength: "2"], body: ByteBuffer(string: "hi"))
        }
    }

    static let request = ByteBuffer(string: "GET /hit HTTP/1.1\r\nHost: h\r\n\r\n")

    /// A connection with the raw handler and the state handler (idle after 2 s), active when made (at time 0 on a
    /// new loop).
    static func connection(
        on loop: EmbeddedEventLoop = EmbeddedEventLoop(), sweeps: IdleSweeps = IdleSweeps()
    ) throws -> (EmbeddedChannel, EmbeddedEventLoop) {
        let channel = EmbeddedChannel(loop: loop)
        let state = ConnectionStateHandler(idleTimeout: .seconds(2), sweeps: sweeps)
        let registry = PrometheusCollectorRegistry()
        let answers = registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "t", metricName: "raw", unitName: "", helpText: ""))
        try channel.pipeline.syncOperations.addHandler(
            RawShortcutHandler(
                Hits(), maxHeadLength: 1024, connection: state, answers: answers, reused: answers, memos: nil))
        try channel.pipeline.syncOperations.addHandler(state)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, loop)
    }

    /// Closes the channel if open and stops its loop, which drops its scheduled tasks (an idle check holds its
    /// handler, and so the pipeline, until then).
    static func finish(_ channel: EmbeddedChannel, _ loop: EmbeddedEventLoop) {
        _ = try? channel.finish()
        try? loop.syncShutdownGracefully()
    }

    /// The bytes written since the last call.
    static func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test func answersFromTheBytesKeepTheConnectionFromBeingIdle() throws {
        let (channel, loop) = try Self.connection()
        defer { Self.finish(channel, loop) }
        for _ in 0..<4 {
            loop.advanceTime(by: .milliseconds(1500))
            try channel.writeInbound(Self.request)
            #expect(try Self.written(channel).hasSuffix("\r\n\r\nhi"))
        }
        // 6 s after it opened, 0 s after its last answer: still open; 2 s after the last answer: closed.
        #expect(channel.isActive)
        loop.advanceTime(by: .milliseconds(1900))
        #expect(channel.isActive)
        loop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
    }

    @Test func anIdleConnectionIsClosed() throws {
        let (channel, loop) = try Self.connection()
        defer { Self.finish(channel, loop) }
        loop.advanceTime(by: .milliseconds(1900))
        #expect(channel.isActive)
        loop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
    }

    @Test func theConnectionsOfALoopAreCheckedByOneSweepEachAtItsOwnDeadline() throws {
        let loop = EmbeddedEventLoop()
        let sweeps = IdleSweeps()
        defer { try? loop.syncShutdownGracefully() }
        let sweep = sweeps.sweep(on: loop, timeout: .seconds(2))
        // Opened at 0 s: a (left idle), b (answered at 1.5 s), c (closed by its client at 1 s); d opened at 1.8 s.
        let (a, _) = try Self.connection(on: loop, sweeps: sweeps)
        let (b, _) = try Self.connection(on: loop, sweeps: sweeps)
        let (c, _) = try Self.connection(on: loop, sweeps: sweeps)
        #expect(sweep.count == 3)
        loop.advanceTime(by: .milliseconds(1_000))
        // (Closed, not `finish`ed: that cancels every task of the loop, the sweep's too.)
        try c.close().wait()
        loop.run()
        #expect(sweep.count == 2)
        loop.advanceTime(by: .milliseconds(500))
        try b.writeInbound(Self.request)
        #expect(try Self.written(b).hasSuffix("hi"))
        loop.advanceTime(by: .milliseconds(300))
        let (d, _) = try Self.connection(on: loop, sweeps: sweeps)
        #expect(sweep.count == 3)
        // 1.99 s: all open; 2.01 s: a closed, b looked at and put back at 3.5 s, ahead of d (3.8 s).
        loop.advanceTime(by: .milliseconds(190))
        #expect(a.isActive && b.isActive && d.isActive)
        loop.advanceTime(by: .milliseconds(20))
        #expect(!a.isActive && b.isActive && d.isActive)
        #expect(sweep.count == 2)
        // Each closes 2 s after it was last busy, not before and not later.
        loop.advanceTime(by: .milliseconds(1_480))
        #expect(b.isActive && d.isActive)
        loop.advanceTime(by: .milliseconds(20))
        #expect(!b.isActive && d.isActive)
        loop.advanceTime(by: .milliseconds(280))
        #expect(d.isActive)
        loop.advanceTime(by: .milliseconds(20))
        #expect(!d.isActive)
        loop.run()
        #expect(sweep.count == 0)
        for channel in [a, b, d] { _ = try? channel.finish() }
    }

    @Test func shuttingDownClosesAConnectionBetweenAnswers() throws {
        let (channel, loop) = try Self.connection()
        defer { Self.finish(channel, loop) }
        try channel.writeInbound(Self.request)
        #expect(try Self.written(channel).hasSuffix("hi"))
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!channel.isActive)
    }
}
