// GET /events/stream: the cursor that reports events settling out of order exactly once, and the live stream over
// real HTTP: an upload's event, resuming with Last-Event-ID, heartbeats, an event journaled by another writer of
// the journal (no in-process wake-up), a bad Last-Event-ID, a reload that revokes a stream's access, and shutdown
// with a stream open.
import Dispatch
import Foundation
import Locking
import Logging
import PipelineCore
import Testing

@testable import FetchService

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.serialized)
struct EventStreamTests {
    /// An event as `InvocationJournal.events(after:limit:)` returns it, journaled `age` seconds ago.
    static func event(_ id: Int64, _ states: [InvocationState], age: TimeInterval = 0) -> EventProgress {
        EventProgress(
            id: id, name: "ObjectCreated:Put", key: "originals/ab/\(String(repeating: "ab", count: 32)).jpg",
            sourceName: "e\(id).jpg", createdAt: Date().addingTimeInterval(-age), states: states)
    }

    /// What a look that reads `page` sends: the events taken, then stamped with the cursor as it is after them.
    static func sent(_ cursor: inout PictureEventCursor, page: [EventProgress]) -> [SettledEvent] {
        let taken = cursor.take(page: page, now: Date())
        return cursor.stamped(taken)
    }

    @Test func eventsSettlingOutOfOrderAreEachSentOnceAndResumeSafely() {
        // Event 1 is still running when event 2 settles.
        var cursor = PictureEventCursor(resumingAfter: 0)
        let first = Self.sent(
            &cursor, page: [Self.event(1, [.running, .succeeded]), Self.event(2, [.succeeded, .succeeded])])
        #expect(first.map(\.eventID) == [2])
        // Its resume id stays before event 1, which is not reported yet.
        #expect(first.map(\.resumeID) == [0])
        #expect(cursor.watermark == 0 && cursor.horizon == 2 && cursor.unfinished == [1])
        #expect(cursor.recheckIDs(limit: 10) == [1])
        #expect(cursor.take(rechecked: [Self.event(1, [.running, .succeeded])], asked: [1]).isEmpty, "nothing yet")
        #expect(cursor.take(page: [], now: Date()).isEmpty, "nothing twice")

        let rechecked = cursor.take(rechecked: [Self.event(1, [.dead, .succeeded])], asked: [1])
        let second = cursor.stamped(rechecked)
        #expect(second.map(\.eventID) == [1])
        #expect(second.map(\.outcome) == ["failed"])
        #expect(second.map(\.resumeID) == [2], "both reported: the mark passes event 2 without sending it again")
        #expect(cursor.watermark == 2 && cursor.unfinished.isEmpty)

        // A client resuming after 0 gets both again (at-least-once), one resuming after 2 gets neither.
        let settled = [Self.event(1, [.dead, .succeeded]), Self.event(2, [.succeeded, .succeeded])]
        var resumed = PictureEventCursor(resumingAfter: 0)
        #expect(Self.sent(&resumed, page: settled).map(\.resumeID) == [1, 2])
        var caughtUp = PictureEventCursor(resumingAfter: 2)
        #expect(caughtUp.take(page: [], now: Date()).isEmpty)

        // A new stream starts before what is unfinished and after what is done.
        #expect(PictureEventCursor(newest: 5, unfinished: [5]).watermark == 4)
        #expect(PictureEventCursor(newest: 4, unfinished: []).watermark == 4)
        #expect(PictureEventCursor(newest: 0, unfinished: []).watermark == 0)
    }

    /// PostgreSQL hands out ids before the commit: 41 may be seen before 40. The event above the gap is sent, the
    /// horizon waits below the gap until it fills, or until the event above it is older than `gapGrace`.
    @Test func aGapInTheIdsHoldsTheHorizonUntilItFillsOrIsOld() {
        var cursor = PictureEventCursor(resumingAfter: 39)
        let above = Self.sent(&cursor, page: [Self.event(41, [.succeeded])])
        #expect(above.map(\.eventID) == [41])
        #expect(above.map(\.resumeID) == [39], "40 may still come")
        #expect(cursor.horizon == 39 && cursor.sentAbove == [41])
        // 40 commits: sent, and the horizon passes 41 without sending it again.
        let filled = cursor.take(page: [Self.event(40, [.succeeded]), Self.event(41, [.succeeded])], now: Date())
        #expect(filled.map(\.eventID) == [40])
        #expect(cursor.horizon == 41 && cursor.sentAbove.isEmpty)
        // A gap below an event journaled long ago is an append that never committed: passed at once.
        var old = PictureEventCursor(resumingAfter: 39)
        #expect(old.take(page: [Self.event(42, [.queued], age: 60)], now: Date()).isEmpty)
        #expect(old.horizon == 42 && old.unfinished == [42] && old.watermark == 41)
    }

    @Test func frameCarriesTheResumeIDAndTheContentHash() {
        var cursor = PictureEventCursor(resumingAfter: 6)
        let frames = Self.sent(&cursor, page: [Self.event(7, [.succeeded])]).map(\.frame)
        let hash = String(repeating: "ab", count: 32)
        #expect(
            frames == [
                "id: 7\nevent: picture\ndata: {\"event_id\":7,\"event\":\"ObjectCreated:Put\",\"key\":\"originals/ab/\(hash).jpg\","
                    + "\"sha256\":\"\(hash)\",\"source_name\":\"e7.jpg\",\"outcome\":\"succeeded\",\"items\":null}\n\n"
            ])
    }

    @Test func uploadsAppearOnTheStreamAndResumeWithLastEventID() async throws {
        try await FetchServer.with { client, layout in
            let stream = try EventStreamConnection(port: client.port)
            defer { stream.close() }
            let head = try await stream.read { $0.contains("retry: 1000") }
            #expect(head.hasPrefix("HTTP/1.1 200"))
            #expect(head.lowercased().contains("content-type: text/event-stream; charset=utf-8"))
            #expect(head.lowercased().contains("cache-control: no-store"))
            #expect(head.contains("retry: 1000"))

            let posted = try await client.send(
                "POST", "/images", headers: [("Content-Type", "image/jpeg")], body: try FetchServer.picture(seed: 3))
            let id = try #require(posted.json?["id"] as? String)
            let text = try await stream.read { $0.contains("\"sha256\":\"\(id)\"") }
            let frame = try #require(Self.frames(text).first { $0.data.contains(id) })
            #expect(frame.event == "picture")
            #expect(frame.data.contains("\"event\":\"ObjectCreated:Put\""))
            #expect(frame.data.contains("\"outcome\":\"succeeded\""))
            // The frame carries the picture's listing item, as GET /images lists it: a page needs no listing read.
            let object = try #require(try JSONSerialization.jsonObject(with: Data(frame.data.utf8)) as? [String: Any])
            let items = try #require(object["items"] as? [[String: Any]])
            #expect(items.map { $0["id"] as? String } == [id])
            let listedItem = try #require(
                (try await client.send("GET", "/images").json?["items"] as? [[String: Any]])?.first {
                    $0["id"] as? String == id
                })
            #expect(NSDictionary(dictionary: items[0]).isEqual(to: listedItem), "the same item as the listing's")
            let resumeID = try #require(Int64(frame.id))
            // Both functions are done when the event is sent: the thumbnail is on disk, the metadata listed.
            #expect(FetchServer.files(under: layout.thumbnails).contains { $0.contains(id) })
            let listed = try await client.send("GET", "/images")
            #expect(listed.text.contains(id))

            // Resuming before it sends it again; resuming after it does not, but sends what came next.
            let before = try EventStreamConnection(port: client.port, lastEventID: String(resumeID - 1))
            defer { before.close() }
            _ = try await before.read { $0.contains("\"sha256\":\"\(id)\"") }
            let after = try EventStreamConnection(port: client.port, lastEventID: String(resumeID))
            defer { after.close() }
            let second = try await client.send(
                "POST", "/images", headers: [("Content-Type", "image/jpeg")], body: try FetchServer.picture(seed: 4))
            let secondID = try #require(second.json?["id"] as? String)
            let resumed = try await after.read { $0.contains("\"sha256\":\"\(secondID)\"") }
            #expect(!resumed.contains(id), "an event at or below Last-Event-ID is not sent again")
            // A quiet stream sends heartbeats (a third of the test server's 2 s idle timeout) and stays open.
            _ = try await after.read { $0.contains(": heartbeat") }
        }
    }

    @Test func eventsJournaledByAnotherWriterAreSentToo() async throws {
        try await FetchServer.with { client, layout in
            let stream = try EventStreamConnection(port: client.port)
            defer { stream.close() }
            _ = try await stream.read { $0.contains("retry: 1000") }
            // Another process's journal connection: an event for a function this server does not run, taken and
            // finished there, so nothing in this process wakes the stream; it finds it by polling.
            let other = try SQLiteInvocationJournal(layout: layout)
            let hash = String(repeating: "cd", count: 32)
            let record = S3EventRecord(
                name: .objectCreatedPut, bucket: "store", key: "originals/cd/\(hash).jpg", size: 1, eTag: hash,
                sequence: 0, sourceName: "elsewhere.jpg")
            _ = try other.append(record, functions: ["elsewhere"], type: .event, deduplicate: false)
            let claim = try #require(try other.claim(function: "elsewhere", now: Date()))
            try other.succeed(claim, result: nil, duration: 0.01, memoryMB: 64)
            let text = try await stream.read { $0.contains("elsewhere.jpg") }
            #expect(text.contains("\"sha256\":\"\(hash)\""))
        }
    }

    /// Journals `count` events for a function this server does not run, through another journal connection, and
    /// finishes each there (none: left queued). - Returns: their ids.
    @discardableResult
    static func journalElsewhere(_ journal: some InvocationJournal, count: Int, finish: Bool = true) throws -> [Int64] {
        try (0..<count).map { n in
            let hash = String(repeating: String(format: "%02x", n % 256), count: 32)
            let record = S3EventRecord(
                name: .objectCreatedPut, bucket: "store", key: "originals/\(hash.prefix(2))/\(hash).jpg", size: 1,
                eTag: hash, sequence: 0, sourceName: "elsewhere-\(n).jpg")
            let id = try journal.append(record, functions: ["elsewhere"], type: .event, deduplicate: false).eventID
            if finish {
                let claim = try #require(try journal.claim(function: "elsewhere", now: Date()))
                try journal.succeed(claim, result: nil, duration: 0.01, memoryMB: 64)
            }
            return id
        }
    }

    /// A client far behind (a laptop that slept through a batch import) gets every event after its Last-Event-ID,
    /// a page at a time: until session 34 each look read the newest 500 invocations only, and the events before
    /// them were skipped without a word.
    @Test func aClientFarBehindGetsEveryEventAfterItsLastEventID() async throws {
        try await FetchServer.with { client, layout in
            let ids = try Self.journalElsewhere(try SQLiteInvocationJournal(layout: layout), count: 600)
            let last = try #require(ids.last)
            let stream = try EventStreamConnection(port: client.port, lastEventID: "0")
            defer { stream.close() }
            let text = try await stream.read { $0.contains("\"event_id\":\(last),") }
            let frames = Self.frames(text).filter { $0.event == "picture" }
            let sent = frames.compactMap { frame -> Int64? in
                guard let object = try? JSONSerialization.jsonObject(with: Data(frame.data.utf8)) as? [String: Any]
                else { return nil }
                return (object["event_id"] as? NSNumber)?.int64Value
            }
            #expect(sent == ids, "\(sent.count) of \(ids.count) sent, the first \(sent.first ?? -1)")
            let resumeIDs = frames.compactMap { Int64($0.id) }
            #expect(resumeIDs == resumeIDs.sorted() && resumeIDs.last == last)
        }
    }

    /// A Last-Event-ID below what the journal pruned, or one it never gave, cannot be resumed from: the stream says
    /// so (`event: reset`), goes on from now, and still sends what was unfinished then.
    @Test func aLastEventIDTheJournalCannotResumeFromGetsAReset() async throws {
        try await FetchServer.with { client, layout in
            let other = try SQLiteInvocationJournal(layout: layout)
            try Self.journalElsewhere(other, count: 3)
            #expect(try other.prune(before: Date().addingTimeInterval(60), limit: 100) == 3)
            let waiting = try #require(try Self.journalElsewhere(other, count: 1, finish: false).first)
            #expect(waiting == 4, "an id is never given twice, pruned or not")

            // At the newest pruned id nothing is missing.
            let current = try EventStreamConnection(port: client.port, lastEventID: "3")
            defer { current.close() }
            let behind = try EventStreamConnection(port: client.port, lastEventID: "1")
            defer { behind.close() }
            let told = try await behind.read { $0.contains("event: reset") }
            let reset = try #require(Self.frames(told).first)
            #expect(reset.event == "reset")
            #expect(reset.id == "3", "from now: event 4 is unfinished")
            #expect(
                reset.data == #"{"reason":"pruned","last_event_id":1,"pruned_through":3,"newest_event_id":4}"#)
            let unknown = try EventStreamConnection(port: client.port, lastEventID: "99")
            defer { unknown.close() }
            let strange = try await unknown.read { $0.contains("event: reset") }
            #expect(Self.frames(strange).first?.data.contains(#""reason":"unknown","last_event_id":99"#) == true)

            let claim = try #require(try other.claim(function: "elsewhere", now: Date()))
            try other.succeed(claim, result: nil, duration: 0.01, memoryMB: 64)
            for stream in [behind, current, unknown] {
                let text = try await stream.read { $0.contains("\"event_id\":4,") }
                #expect(Self.frames(text).last?.id == "4")
            }
            #expect(!(try await current.read { $0.contains("\"event_id\":4,") }).contains("event: reset"))
        }
    }

    @Test func aDeletedPictureIsSentWithNoItems() async throws {
        try await FetchServer.with { client, _ in
            let posted = try await client.send(
                "POST", "/images", headers: [("Content-Type", "image/jpeg")], body: try FetchServer.picture(seed: 5))
            let id = try #require(posted.json?["id"] as? String)
            let stream = try EventStreamConnection(port: client.port)
            defer { stream.close() }
            _ = try await stream.read { $0.contains("retry: 1000") }
            #expect(try await client.send("DELETE", "/images/\(id)").status == 204)
            let text = try await stream.read { $0.contains("ObjectRemoved:Delete") }
            let frame = try #require(Self.frames(text).first { $0.data.contains("ObjectRemoved:Delete") })
            #expect(frame.data.contains("\"sha256\":\"\(id)\""))
            #expect(frame.data.hasSuffix(",\"items\":[]}"), "nothing names the content any more: \(frame.data)")
        }
    }

    /// An id deleted while another id names the same bytes: S3 notifies every deleted key, and a page learns of
    /// the delete only from the stream (until session 31 nothing was journaled: the tile stayed, the count was one
    /// too high, an open detail view never said "Deleted elsewhere."). The content stays whole.
    @Test func anIdDeletedWhileAnotherNamesItsBytesIsSentWithTheOthersItems() async throws {
        try await FetchServer.with { client, layout in
            let picture = try FetchServer.picture(seed: 6)
            let hash = picture.withUnsafeBytes { ContentHash(of: $0) }.hex
            for id in ["kept", "copy"] {
                let put = try await client.send(
                    "PUT", "/images/\(id)", headers: [("Content-Type", "image/jpeg")], body: picture)
                #expect(put.status == 201)
            }
            let stream = try EventStreamConnection(port: client.port)
            defer { stream.close() }
            _ = try await stream.read { $0.contains("retry: 1000") }
            #expect(try await client.send("GET", "/images/kept/thumbnails/256").status == 200)
            let thumbnails = FetchServer.files(under: layout.thumbnails).filter { $0.contains(hash) }
            #expect(try await client.send("DELETE", "/images/copy").status == 204)
            let text = try await stream.read { $0.contains("ObjectRemoved:Delete") }
            let frame = try #require(Self.frames(text).first { $0.data.contains("ObjectRemoved:Delete") })
            #expect(frame.data.contains("\"sha256\":\"\(hash)\""))
            #expect(frame.data.contains("\"source_name\":\"copy\""))
            #expect(frame.data.contains("\"outcome\":\"succeeded\""))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(frame.data.utf8)) as? [String: Any])
            let items = try #require(object["items"] as? [[String: Any]])
            #expect(items.map { $0["id"] as? String } == ["kept"])
            // The functions heard of it and kept what the other id still shows.
            #expect(!thumbnails.isEmpty)
            #expect(FetchServer.files(under: layout.thumbnails).filter { $0.contains(hash) } == thumbnails)
            #expect(try await client.send("GET", "/images/kept/metadata").status == 200)
            #expect(try await client.send("GET", "/images/kept/thumbnails/64").status == 200)
            #expect(try await client.send("GET", "/images/copy").status == 404)
        }
    }

    @Test func aSignedStreamURLOpensTheStreamWhenReadsNeedAKey() async throws {
        let key = "stream-reader-key-0123"
        let configure: (inout PicpipeConfiguration) -> Void = {
            $0.http.apiKeys = [key]
            $0.http.protectReads = true
            $0.http.signingKey = "stream-signing-key-0123"
        }
        try await FetchServer.with(configure: configure) { client, _ in
            #expect(try await client.send("GET", "/events/stream").status == 401)
            #expect(try await client.send("POST", "/events/stream/signed-url").status == 401)
            let minted = try await client.send(
                "POST", "/events/stream/signed-url",
                headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
                body: Array(#"{"expires_in": 600}"#.utf8))
            #expect(minted.status == 200, "\(minted.text)")
            let url = try #require(minted.json?["url"] as? String)
            let expires = try #require(minted.json?["expires"] as? Int)
            #expect((590...610).contains(expires - Int(Date().timeIntervalSince1970)))
            #expect(url.hasPrefix("/events/stream?expires=\(expires)&sig="))
            // The URL alone opens the stream (read the head, then drop the connection).
            let stream = try EventStreamConnection(port: client.port, target: url + "&last_event_id=0")
            defer { stream.close() }
            let head = try await stream.read { $0.contains("retry: 1000") }
            #expect(head.hasPrefix("HTTP/1.1 200"))
            // A signature for another path, a changed expiry or a bad body are refused.
            let forged = url.replacingOccurrences(of: "expires=\(expires)", with: "expires=\(expires + 1)")
            #expect(try await client.send("GET", forged).status == 403)
            let bad = try await client.send(
                "POST", "/events/stream/signed-url", headers: [("Authorization", "Bearer \(key)")],
                body: Array(#"{"expires_in": 0}"#.utf8))
            #expect(bad.status == 400)
            #expect(bad.errorCode == "bad_request")
        }
        // Without a signing key there is nothing to sign with: 409, as for thumbnails.
        let unsigned: (inout PicpipeConfiguration) -> Void = {
            $0.http.apiKeys = [key]
            $0.http.protectReads = true
        }
        try await FetchServer.with(configure: unsigned) { client, _ in
            let refused = try await client.send(
                "POST", "/events/stream/signed-url", headers: [("Authorization", "Bearer \(key)")])
            #expect(refused.status == 409)
            #expect(refused.errorCode == "signing_disabled")
        }
    }

    /// Streams take at most half of `http.max_connections`: past it a stream is 503 with Retry-After and other
    /// requests still get connections (until session 27 streams could take them all and `/healthz` answered 503).
    @Test func streamsLeaveConnectionsForOtherRequests() async throws {
        let configure: (inout PicpipeConfiguration) -> Void = { $0.http.maxConnections = 6 }
        try await FetchServer.with(configure: configure) { client, _ in
            var open: [EventStreamConnection] = []
            defer { for stream in open { stream.close() } }
            for _ in 0..<3 {
                let stream = try EventStreamConnection(port: client.port)
                _ = try await stream.read { $0.contains("retry: 1000") }
                open.append(stream)
            }
            let refused = try await client.send("GET", "/events/stream")
            #expect(refused.status == 503, "\(refused.text)")
            #expect(refused.errorCode == "too_many_streams")
            #expect(refused.header("Retry-After") == "5")
            #expect(try await client.send("GET", "/healthz").status == 200)
            // A stream that ends gives its place back.
            open.removeFirst().close()
            var reopened = 0
            for _ in 0..<100 where reopened != 200 {
                let stream = try EventStreamConnection(port: client.port)
                let head = try await stream.read { $0.contains("retry: 1000") || $0.contains("[closed]") }
                if head.hasPrefix("HTTP/1.1 200") {
                    reopened = 200
                    open.append(stream)
                } else {
                    stream.close()
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(reopened == 200)
        }
    }

    @Test func aMalformedLastEventIDIsRefused() async throws {
        try await FetchServer.with { client, _ in
            let answer = try await client.send("GET", "/events/stream", headers: [("Last-Event-ID", "yesterday")])
            #expect(answer.status == 400)
            #expect(answer.errorCode == "bad_request")
        }
    }

    /// RFC 9112 6.1: no Transfer-Encoding in an answer to an HTTP/1.0 request. The stream reaches a 1.0 client as it
    /// comes, ended by the connection's close (until session 29 it was chunked, and a 1.0 client read chunk sizes
    /// such as `1e` inside the events); one that asked for keep-alive is told the connection closes.
    @Test func anHTTP10ClientGetsTheStreamWithoutChunks() async throws {
        try await FetchServer.with { client, _ in
            for fields in [[], ["Connection: keep-alive"]] {
                let stream = try EventStreamConnection(port: client.port, version: "1.0", fields: fields)
                defer { stream.close() }
                let opened = try await stream.read { $0.contains("retry: 1000") }
                let parts = opened.components(separatedBy: "\r\n\r\n")
                let head = parts[0].lowercased()
                #expect(head.hasPrefix("http/1.0 200"), "\(fields)")
                #expect(!head.contains("transfer-encoding") && head.contains("connection: close"), "\(fields)")
                #expect(parts.count == 2 && parts[1].hasPrefix("retry: 1000\n: picpipe events\n\n"), "\(fields)")
                let posted = try await client.send(
                    "POST", "/images", headers: [("Content-Type", "image/jpeg")],
                    body: try FetchServer.picture(seed: fields.isEmpty ? 41 : 42))
                let id = try #require(posted.json?["id"] as? String)
                let text = try await stream.read { $0.contains("\"sha256\":\"\(id)\"") }
                // After the head, the events alone: SSE ends its lines with LF, chunk framing would add CRLFs.
                let body = String(text.dropFirst(opened.count))
                #expect(!body.contains("\r\n") && Self.frames(body).contains { $0.data.contains(id) }, "\(fields)")
            }
        }
    }

    /// A reload (SIGHUP) that removes a stream's key or the scope it reads with ends that stream at once with an
    /// `event: revoked` frame naming why, while streams whose credentials still hold go on (until session 35 a
    /// stream kept sending until its 5-minute end, to a key any other request was refused with).
    @Test func aReloadEndsTheStreamsOfRevokedKeysAndKeepsTheOthers() async throws {
        let signingKey = "stream-signing-key-0123"
        let reader = ScopedAPIKey(name: "reader", key: "reader-key-0123456789", scopes: ["images:read"])
        let revoked = ScopedAPIKey(name: "revoked", key: "revoked-key-0123456789", scopes: ["images:read"])
        let narrowed = ScopedAPIKey(name: "narrowed", key: "narrowed-key-0123456789", scopes: ["images:read"])
        let configure: @Sendable (inout PicpipeConfiguration) -> Void = {
            $0.http.protectReads = true
            $0.http.signingKey = signingKey
            $0.auth.apiKeys = [reader, revoked, narrowed]
        }
        try await FetchServer.withApplication(configure: configure) { client, layout, app in
            let minted = try await client.send(
                "POST", "/events/stream/signed-url", headers: [("Authorization", "Bearer \(reader.key)")])
            let url = try #require(minted.json?["url"] as? String)
            let streams = try [reader, revoked, narrowed].map {
                try EventStreamConnection(port: client.port, fields: ["Authorization: Bearer \($0.key)"])
            }
            let signed = try EventStreamConnection(port: client.port, target: url)
            defer { for stream in streams + [signed] { stream.close() } }
            for stream in streams + [signed] {
                #expect(try await stream.read { $0.contains("retry: 1000") }.hasPrefix("HTTP/1.1 200"))
            }

            // As SIGHUP applies a new file: `revoked` gone, `narrowed` left without images:read.
            var next = PicpipeConfiguration()
            configure(&next)
            next.auth.apiKeys = [reader, ScopedAPIKey(name: "narrowed", key: narrowed.key, scopes: ["images:write"])]
            try app.reload(http: next.http, auth: next.auth, logger: Logger(label: "reload"))

            for (stream, code) in [(streams[1], "invalid_token"), (streams[2], "insufficient_scope")] {
                let text = try await stream.read(within: 30) { $0.hasSuffix("0\r\n\r\n") || $0.contains("[closed]") }
                let ending = try #require(Self.frames(text).last)
                #expect(ending.event == "revoked", "\(code): \(text)")
                let body = try JSONSerialization.jsonObject(with: Data(ending.data.utf8)) as? [String: Any]
                let error = try #require(body?["error"] as? [String: Any])
                #expect(error["code"] as? String == code)
                #expect((error["message"] as? String)?.contains("configuration reload") == true, "\(error)")
            }
            // The kept key and the signed URL (its signing key kept) still get what settles afterwards.
            try Self.journalElsewhere(try SQLiteInvocationJournal(layout: layout), count: 1)
            for stream in [streams[0], signed] {
                let text = try await stream.read { $0.contains("elsewhere-0.jpg") }
                #expect(!text.contains("event: revoked"))
            }
        }
    }

    /// A reload that makes reads need credentials ends the streams opened without any, and one that drops the
    /// signing key ends the streams opened with a signed URL; a stream with a key goes on.
    @Test func aReloadThatProtectsReadsEndsAnonymousAndUnsignedStreams() async throws {
        let key = "stream-admin-key-0123"
        let configure: @Sendable (inout PicpipeConfiguration) -> Void = {
            $0.http.apiKeys = [key]
            $0.http.signingKey = "stream-signing-key-0123"
        }
        try await FetchServer.withApplication(configure: configure) { client, layout, app in
            let minted = try await client.send(
                "POST", "/events/stream/signed-url", headers: [("Authorization", "Bearer \(key)")])
            let url = try #require(minted.json?["url"] as? String)
            let anonymous = try EventStreamConnection(port: client.port)
            let signed = try EventStreamConnection(port: client.port, target: url)
            let keyed = try EventStreamConnection(port: client.port, fields: ["Authorization: Bearer \(key)"])
            defer { for stream in [anonymous, signed, keyed] { stream.close() } }
            for stream in [anonymous, signed, keyed] {
                #expect(try await stream.read { $0.contains("retry: 1000") }.hasPrefix("HTTP/1.1 200"))
            }

            var next = PicpipeConfiguration()
            configure(&next)
            next.http.protectReads = true
            next.http.signingKey = nil
            try app.reload(http: next.http, auth: next.auth, logger: Logger(label: "reload"))

            for (stream, code) in [(anonymous, "unauthorized"), (signed, "forbidden")] {
                let text = try await stream.read(within: 30) { $0.hasSuffix("0\r\n\r\n") || $0.contains("[closed]") }
                let ending = try #require(Self.frames(text).last)
                #expect(ending.event == "revoked", "\(code): \(text)")
                #expect(ending.data.contains("\"code\":\"\(code)\""), "\(ending.data)")
            }
            try Self.journalElsewhere(try SQLiteInvocationJournal(layout: layout), count: 1)
            #expect(!(try await keyed.read { $0.contains("elsewhere-0.jpg") }).contains("event: revoked"))
        }
    }

    @Test func shutdownEndsAnOpenStream() async throws {
        // FetchServer.with waits for the server to finish its graceful shutdown: it returns although a stream is
        // open and its client never closes it.
        let kept = Locked<EventStreamConnection?>(nil)
        try await FetchServer.with { client, _ in
            let stream = try EventStreamConnection(port: client.port)
            _ = try await stream.read { $0.contains("retry: 1000") }
            kept.withLock { $0 = stream }
        }
        let stream = try #require(kept.withLock { $0 })
        defer { stream.close() }
        let text = try await stream.read { $0.hasSuffix("0\r\n\r\n") || $0.contains("[closed]") }
        #expect(text.contains("retry: 1000"))
    }

    /// The `id`, `event` and `data` of each frame in a stream's text.
    static func frames(_ text: String) -> [(id: String, event: String, data: String)] {
        // "\r\n" (chunked framing) is one Character in Swift: make every line end a plain "\n" first.
        text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n").compactMap { block in
            var id = ""
            var event = ""
            var data = ""
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                if let range = line.range(of: "data: ") { data = String(line[range.upperBound...]) }
            }
            return data.isEmpty ? nil : (id, event, data)
        }
    }
}

/// An open `GET /events/stream` on a loopback socket, read as it arrives (blocking reads on a Dispatch queue).
final class EventStreamConnection: @unchecked Sendable {
    // @unchecked: `fd` is set once in init; `received` is only touched on `queue`.
    private let fd: Int32
    private var received: [UInt8] = []
    private let queue = DispatchQueue(label: "event-stream-connection")

    /// - Parameter fields: more header lines (`Connection: keep-alive`), each without its line end.
    init(
        port: Int, lastEventID: String? = nil, target: String = "/events/stream", version: String = "1.1",
        fields: [String] = []
    ) throws {
        fd = try LoopbackClient.connect(port: port, receiveTimeout: timeval(tv_sec: 0, tv_usec: 200_000))
        var head = "GET \(target) HTTP/\(version)\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        if let lastEventID { head += "Last-Event-ID: \(lastEventID)\r\n" }
        for field in fields { head += field + "\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until `condition` holds for everything received so far (`[closed]` is appended at the end of the
    /// stream); gives up after a generous bound (a wait, not a timing check).
    func read(within seconds: Double = 120, until condition: @escaping @Sendable (String) -> Bool) async throws
        -> String
    {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                let deadline = Date().addingTimeInterval(seconds)
                var chunk = [UInt8](repeating: 0, count: 65536)
                var closed = false
                while Date() < deadline {
                    let text = String(decoding: self.received, as: UTF8.self) + (closed ? "[closed]" : "")
                    if condition(text) {
                        continuation.resume(returning: text)
                        return
                    }
                    if closed { break }
                    let count = chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, 65536, 0) }
                    if count > 0 {
                        self.received.append(contentsOf: chunk[0..<count])
                    } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                        closed = true
                    }
                }
                continuation.resume(throwing: LoopbackClient.ClientError.malformed)
            }
        }
    }

    func close() { queue.sync { _ = Glibc.close(fd) } }
}
