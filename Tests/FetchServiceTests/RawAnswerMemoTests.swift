// The answers the raw path keeps per event loop (`RawAnswerMemo`): given again only for the same target (and Accept
// when the answer varies by it), only while the revision read before the look-up holds and the file is not due for
// a new read; and, through a server, the same bytes as a looked-up answer, and never after a PUT or DELETE changed
// what the id names.
import Foundation
import HTTPTypes
import NIOCore
import Testing

@testable import FetchService

struct RawAnswerMemoTests {
    static let revision = ShortcutRevision(index: 1, files: 2, recipes: 3)

    static func entry(
        _ target: String, body: String = "body", varies: Bool = false, accept: String? = nil,
        until: ContinuousClock.Instant = .now + .seconds(60), revision: ShortcutRevision = Self.revision
    ) -> RawAnswerMemo.Entry {
        RawAnswerMemo.Entry(
            target: Array(target.utf8), accept: accept.map { Array($0.utf8) }, varies: varies,
            head: ByteBuffer(string: "HTTP/1.1 200 OK\r\n"), body: ByteBuffer(string: body), until: until,
            revision: revision)
    }

    static func find(
        _ memo: RawAnswerMemo, _ target: String, accept: String? = nil, now: ContinuousClock.Instant = .now,
        revision: ShortcutRevision? = Self.revision
    ) -> String? {
        let bytes = ByteBuffer(string: target).readableBytesView
        let asked = accept.map { ByteBuffer(string: $0).readableBytesView }
        return memo.answer(target: bytes, accept: asked, now: now, revision: revision).map {
            String(buffer: $0.body)
        }
    }

    @Test func aKeptAnswerIsGivenOnlyForItsTargetWhileItsRevisionAndTimeHold() {
        let memo = RawAnswerMemo()
        let now = ContinuousClock.now
        memo.keep(Self.entry("/images/a/thumbnails/256", body: "a", until: now + .seconds(1)))
        #expect(Self.find(memo, "/images/a/thumbnails/256", now: now) == "a")
        #expect(Self.find(memo, "/images/a/thumbnails/128", now: now) == nil)
        #expect(Self.find(memo, "/images/a/thumbnails/256", now: now + .seconds(1)) == nil, "due for a new read")
        for changed in [
            ShortcutRevision(index: 2, files: 2, recipes: 3), ShortcutRevision(index: 1, files: 3, recipes: 3),
            ShortcutRevision(index: 1, files: 2, recipes: 4),
        ] {
            #expect(Self.find(memo, "/images/a/thumbnails/256", now: now, revision: changed) == nil)
        }
        #expect(Self.find(memo, "/images/a/thumbnails/256", now: now, revision: nil) == nil, "nothing may be reused")
        // A newer answer for the same target replaces the older one.
        memo.keep(Self.entry("/images/a/thumbnails/256", body: "a2", until: now + .seconds(1)))
        #expect(Self.find(memo, "/images/a/thumbnails/256", now: now) == "a2" && memo.count == 1)
    }

    @Test func anAnswerThatVariesByAcceptIsGivenOnlyForTheSameAccept() {
        let memo = RawAnswerMemo()
        memo.keep(Self.entry("/w", body: "webp", varies: true, accept: "image/webp,*/*"))
        #expect(Self.find(memo, "/w", accept: "image/webp,*/*") == "webp")
        #expect(Self.find(memo, "/w", accept: "image/avif,*/*") == nil)
        #expect(Self.find(memo, "/w") == nil)
        memo.keep(Self.entry("/n", body: "jpeg", varies: true, accept: nil))
        #expect(Self.find(memo, "/n") == "jpeg" && Self.find(memo, "/n", accept: "image/webp") == nil)
        // An answer that does not vary is the same whatever the client accepts.
        memo.keep(Self.entry("/j", body: "jpeg", varies: false, accept: "text/html"))
        #expect(Self.find(memo, "/j", accept: "image/webp") == "jpeg" && Self.find(memo, "/j") == "jpeg")
    }

    @Test func aKeepAliveAnswerIsOneBufferWithThisSecondsDateMadeOnce() throws {
        let memo = RawAnswerMemo()
        let now = ContinuousClock.now
        memo.keep(Self.entry("/a", body: "body-a", until: now + .seconds(60)))
        let target = ByteBuffer(string: "/a").readableBytesView
        func kept(
            closes: Bool = false, at time: ContinuousClock.Instant = now, revision: ShortcutRevision = Self.revision
        ) -> RawAnswerMemo.Kept? {
            memo.kept(target: target, accept: nil, closes: closes, now: time, revision: revision, allocator: .init())
        }
        let (whole, headLength) = try #require(kept()?.whole)
        let text = String(buffer: whole)
        let date = try #require(text.firstRange(of: /Date: [^\r]+\r\n/))
        #expect(text == "HTTP/1.1 200 OK\r\n\(text[date])Server: picpipe\r\n\r\nbody-a")
        // ("\r\n" is one Character.)
        #expect(HTTPDate.parse(String(text[date].dropFirst(6).dropLast(1))) != nil)
        #expect(headLength == text.utf8.count - "body-a".utf8.count)
        // Asked again within the second (up to three tries, should the second turn between the calls): the same
        // storage, not a new copy.
        var same = false
        for _ in 0..<3 where !same {
            let first = kept()?.whole
            let again = kept()?.whole
            same = first.map { Self.address($0.bytes) } == again.map { Self.address($0.bytes) }
        }
        #expect(same)
        // To a request that closes: its own buffer, with `Connection: close` after Server.
        let closing = try #require(kept(closes: true)?.whole)
        #expect(String(buffer: closing.bytes).hasSuffix("Server: picpipe\r\nConnection: close\r\n\r\nbody-a"))
        #expect(closing.headLength == closing.bytes.readableBytes - "body-a".utf8.count)
        // The same rules as `answer`: not for another revision, not once the file is due for a new read.
        let changed = ShortcutRevision(index: 9, files: 2, recipes: 3)
        #expect(kept(revision: changed) == nil)
        #expect(kept(at: now + .seconds(61)) == nil)
    }

    @Test func aWholeAnswerThatWouldPassTheBudgetIsNotMade() throws {
        let memo = RawAnswerMemo()
        let now = ContinuousClock.now
        // Two thirds of the budget as a body: kept, but its whole copy would pass the budget.
        let body = String(repeating: "x", count: RawAnswerMemo.budget * 2 / 3)
        memo.keep(Self.entry("/big", body: body, until: now + .seconds(60)))
        let target = ByteBuffer(string: "/big").readableBytesView
        let kept = memo.kept(
            target: target, accept: nil, closes: false, now: now, revision: Self.revision, allocator: .init())
        // The answer itself is still kept and given in parts (the raw path writes its head and body as two buffers).
        guard case .parts(let entry) = kept else {
            Issue.record("expected the answer in parts, got \(String(describing: kept))")
            return
        }
        #expect(entry.body.readableBytes == RawAnswerMemo.budget * 2 / 3)
        #expect(Self.find(memo, "/big", now: now)?.count == RawAnswerMemo.budget * 2 / 3)
    }

    static func address(_ buffer: ByteBuffer) -> UnsafeRawPointer? {
        buffer.withUnsafeReadableBytes { $0.baseAddress }
    }

    @Test func pastItsBudgetTheMemoStartsOver() {
        let memo = RawAnswerMemo()
        let big = String(repeating: "x", count: RawAnswerMemo.budget / 2)
        memo.keep(Self.entry("/1", body: big))
        memo.keep(Self.entry("/2", body: big))
        #expect(memo.count == 2)
        memo.keep(Self.entry("/3", body: "small"))
        #expect(memo.count == 1 && Self.find(memo, "/3") == "small" && Self.find(memo, "/1") == nil)
        let many = RawAnswerMemo()
        for index in 0..<RawAnswerMemo.maxEntries { many.keep(Self.entry("/e\(index)")) }
        #expect(many.count == RawAnswerMemo.maxEntries)
        many.keep(Self.entry("/last"))
        #expect(many.count == 1 && Self.find(many, "/last") == "body")
    }

    /// The counters of raw answers: all, and those given again from the memo.
    static func rawCounts(_ client: LoopbackClient) async throws -> (raw: Int, reused: Int) {
        let values = try await RawShortcutTests.counters(
            client, "picpipe_http_raw_answers_total", "picpipe_http_raw_reused_answers_total")
        return (values[0], values[1])
    }

    /// A plain GET of `path` on its own connection: the answer's bytes.
    static func plainGet(_ client: LoopbackClient, _ path: String, method: String = "GET") async throws -> [UInt8] {
        try await client.conversation([
            (Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8), 0)
        ])
    }

    @Test func aRepeatedRequestGetsTheKeptAnswerWithTheSameBytes() async throws {
        try await FetchServer.with { client, _ in
            let id = try await RawShortcutTests.upload(client)
            let path = "/images/\(id)/thumbnails/256"
            // A GET, a GET and a HEAD on one connection (one event loop, one memo), with an Accept no earlier request
            // sent (an answer that varies by Accept is kept per Accept): the first is looked up, the others given
            // again. The cache trusts an entry for 1 s from its last read; on a machine so loaded that the second
            // passed between the requests, they are sent again (at most 20 times).
            var answers: [[UInt8]] = []
            var counted = (raw: 0, reused: 0)
            for attempt in 0..<20 where counted != (3, 2) {
                #expect(try await client.send("GET", path + "?via=route").status == 200)
                let before = try await Self.rawCounts(client)
                var bytes: [UInt8] = []
                for (method, close) in [("GET", false), ("GET", false), ("HEAD", true)] {
                    bytes += Array(
                        ("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: image/jpeg, */*;q=0.\(attempt + 1)\r\n"
                            + (close ? "Connection: close\r\n" : "") + "\r\n").utf8)
                }
                answers = Self.split(try await client.conversation([(bytes, 0)]), heads: [false, false, true])
                let after = try await Self.rawCounts(client)
                counted = (after.raw - before.raw, after.reused - before.reused)
            }
            #expect(counted == (3, 2), "one answer looked up, then a GET and a HEAD given again")
            try #require(answers.count == 3)
            let (first, second, third) = (answers[0], answers[1], answers[2])
            let perAnswerLinesDropped = RawShortcutTests.withoutDateAndRequestID
            #expect(first.count > 1000 && perAnswerLinesDropped(first) == perAnswerLinesDropped(second))
            let head = try LoopbackClient.parse(third, isHead: true)
            let whole = try LoopbackClient.parse(first, isHead: false)
            #expect(head.status == 200 && head.body.isEmpty)
            #expect(head.header("Content-Length") == String(whole.body.count))
            #expect(head.header("ETag") == whole.header("ETag"))
        }
    }

    /// The bytes of each answer on a connection (a HEAD's answer has no body whatever its Content-Length says).
    static func split(_ bytes: [UInt8], heads: [Bool]) -> [[UInt8]] {
        var answers: [[UInt8]] = []
        var rest = bytes[...]
        for isHead in heads {
            guard let end = rest.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound else { break }
            let head = String(decoding: rest[..<end], as: UTF8.self).lowercased()
            let length =
                head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            let answerEnd = min(rest.endIndex, end + (isHead ? 0 : length))
            answers.append(Array(rest[..<answerEnd]))
            rest = rest[answerEnd...]
        }
        return answers
    }

    @Test func aPutOrDeleteIsSeenByTheNextRequestAtOnce() async throws {
        try await FetchServer.with { client, _ in
            let path = "/images/cat-1/thumbnails/256"
            let first = try FetchServer.picture(seed: 10)
            let second = try FetchServer.picture(seed: 200)
            #expect(
                try await client.send("PUT", "/images/cat-1", headers: [("Content-Type", "image/jpeg")], body: first)
                    .status == 201)
            #expect(try await client.send("GET", path).status == 200)
            var kept = (raw: 0, reused: 0)
            for _ in 0..<20 where kept.reused < 1 {
                #expect(try await client.send("GET", path + "?via=route").status == 200)
                let before = try await Self.rawCounts(client)
                _ = try await Self.plainGet(client, path)
                _ = try await Self.plainGet(client, path)
                let after = try await Self.rawCounts(client)
                kept = (after.raw - before.raw, after.reused - before.reused)
            }
            #expect(kept.reused >= 1, "the answer was kept")
            let old = try LoopbackClient.parse(try await Self.plainGet(client, path), isHead: false)
            // The id now names other content: the next plain GET, within the second the cache would trust its
            // entry, answers with the new content's thumbnail.
            #expect(
                try await client.send("PUT", "/images/cat-1", headers: [("Content-Type", "image/jpeg")], body: second)
                    .status == 200)
            let new = try LoopbackClient.parse(try await Self.plainGet(client, path), isHead: false)
            #expect(new.status == 200 && new.header("ETag") != old.header("ETag") && new.body != old.body)
            let viaRoute = try await client.send("GET", path + "?via=route")
            #expect(new.body == viaRoute.body && new.header("ETag") == viaRoute.header("ETag"))
            #expect(try await client.send("DELETE", "/images/cat-1").status == 204)
            let gone = try LoopbackClient.parse(try await Self.plainGet(client, path), isHead: false)
            #expect(gone.status == 404)
        }
    }
}
