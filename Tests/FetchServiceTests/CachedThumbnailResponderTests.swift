// The shortcut for cached thumbnails in front of the router: it answers only what the router would answer the
// same way, keeps the access rules, and counts its answers in the same metrics.
import FetchService
import Foundation
import PipelineCore
import Testing

@testable import FetchService

@Suite(.serialized)
struct CachedThumbnailResponderTests {
    @Test func onlyTheExactThumbnailShapeIsTakenApart() {
        let split = ThumbnailURLPath.split("/images/abc/thumbnails/256")
        #expect(split.map { [String($0.id), String($0.size)] } == ["abc", "256"])
        #expect(ThumbnailURLPath.split("/images/a.b-c_d/thumbnails/320x200").map { String($0.size) } == "320x200")
        #expect(ThumbnailURLPath.split("/images//thumbnails/256") == nil)
        #expect(ThumbnailURLPath.split("/images/abc/thumbnails/") == nil)
        #expect(ThumbnailURLPath.split("/images/abc/thumbnails/256/") == nil)
        #expect(ThumbnailURLPath.split("/images/abc/thumbnails/256/x") == nil)
        #expect(ThumbnailURLPath.split("/images/abc/thumbnail/256") == nil)
        #expect(ThumbnailURLPath.split("/images/abc") == nil)
        #expect(ThumbnailURLPath.split("/Images/abc/thumbnails/256") == nil)
    }

    @Test func cachedAnswersAreCountedAndErrorsStillComeFromTheRouter() async throws {
        let jpeg = try FetchServer.picture(seed: 90)
        try await FetchServer.with { client, _ in
            let id = try await Self.upload(jpeg, with: client)
            let path = "/images/\(id)/thumbnails/256"
            for _ in 0..<3 { #expect(try await client.send("GET", path).status == 200) }
            #expect(try await client.send("HEAD", path).status == 200)
            let metrics = try await client.send("GET", "/metrics").text.split(separator: "\n")
            func count(_ method: String) -> String? {
                metrics.first {
                    $0.hasPrefix("picpipe_http_requests_total{")
                        && $0.contains("route=\"/images/{id}/thumbnails/{size}\"")
                        && $0.contains("method=\"\(method)\"") && $0.contains("status=\"200\"")
                }?.split(separator: " ").last.map(String.init)
            }
            #expect(count("GET") == "3")
            #expect(count("HEAD") == "1")

            let unknown = try await client.send("GET", "/images/\(id)/thumbnails/999")
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "unknown_size")
            #expect(try await client.send("GET", "/images/bad%20id/thumbnails/256").errorCode == "invalid_id")
            // The router ignores a trailing slash; the shortcut leaves such paths to it.
            #expect(try await client.send("GET", "\(path)/").status == 200)
            #expect(try await client.send("POST", path).status == 405)
            let past = try await client.send("GET", path, headers: [("Range", "bytes=999999-")])
            #expect(past.status == 416)
            #expect(past.errorCode == "range_not_satisfiable")
            #expect(past.header("Content-Range")?.hasPrefix("bytes */") == true)
            // A signed URL goes through the access check even when the file is cached: no signing key here.
            #expect(try await client.send("GET", "\(path)?expires=1&sig=00").status == 403)
        }
    }

    @Test func protectedReadsAndSignedURLsAreCheckedOnCachedFiles() async throws {
        let jpeg = try FetchServer.picture(seed: 120)
        let configure: (inout PicpipeConfiguration) -> Void = {
            $0.http.apiKeys = ["k1"]
            $0.http.protectReads = true
            $0.http.signingKey = "sign-me"
        }
        try await FetchServer.with(configure: configure) { client, _ in
            let auth = [("Authorization", "Bearer k1")]
            let posted = try await client.send(
                "POST", "/images", headers: auth + [("Content-Type", "image/jpeg")], body: jpeg)
            let id = try #require(posted.json?["id"] as? String)
            let path = "/images/\(id)/thumbnails/256"
            let first = try await client.send("GET", path, headers: auth)
            #expect(first.status == 200)
            let second = try await client.send("GET", path, headers: auth)
            #expect(second.body == first.body)
            #expect(second.header("Cache-Control") == "private, max-age=86400")
            #expect(try await client.send("GET", path).status == 401)
            #expect(try await client.send("HEAD", path).status == 401)
            let future = Int(Date().timeIntervalSince1970) + 600
            let signed = try await client.send("GET", URLSigner(key: "sign-me").sign(path: path, expires: future))
            #expect(signed.status == 200)
            #expect(signed.body == first.body)
            let zeros = String(repeating: "0", count: 64)
            #expect(try await client.send("GET", "\(path)?expires=\(future)&sig=\(zeros)").status == 403)
        }
    }

    /// The event-loop handler (`CachedThumbnailHandler`) against the route: the same status, headers (but Date)
    /// and bytes for every conditional and range form; a query sends the request to the route.
    @Test func theEventLoopAnswersCachedThumbnailsExactlyAsTheRouteDoes() async throws {
        let jpeg = try FetchServer.picture(seed: 77)
        try await FetchServer.with { client, _ in
            let id = try await Self.upload(jpeg, with: client)
            let path = "/images/\(id)/thumbnails/256"
            let first = try await client.send("GET", path)
            #expect(first.status == 200)
            let eTag = try #require(first.header("ETag"))
            let cases: [(String, [(String, String)])] = [
                ("GET", []), ("HEAD", []), ("GET", [("Range", "bytes=10-99")]), ("GET", [("Range", "bytes=-50")]),
                ("HEAD", [("Range", "bytes=0-0")]), ("GET", [("If-None-Match", eTag)]),
                ("GET", [("If-None-Match", "\"other\", W/\(eTag)")]),
                ("GET", [("If-Range", "\"other\""), ("Range", "bytes=0-9")]),
                ("GET", [("If-Range", eTag), ("Range", "bytes=0-9")]), ("GET", [("Accept", "image/webp,*/*")]),
            ]
            for (method, headers) in cases {
                let (fast, routed, onTheLoop) = try await Self.fastAndRouted(method, path, headers, client: client)
                let what = "\(method) \(headers)"
                #expect(onTheLoop, "\(what) answered by the event-loop handler")
                #expect(fast.status == routed.status, "\(what)")
                #expect(fast.body == routed.body, "\(what)")
                #expect(
                    fast.headers.filter { !["date", "x-request-id"].contains($0.key) }
                        == routed.headers.filter { !["date", "x-request-id"].contains($0.key) }, "\(what)")
                #expect(fast.header("Date") != nil && fast.header("Server") == "picpipe", "\(what)")
            }

            // Pipelined on one connection: a cached thumbnail, the original (the request loop's), the thumbnail
            // again: answered in order, the third by the loop too (it came while the loop still had one).
            let thumbnail = first.body
            var bytes: [UInt8] = []
            for (target, close) in [(path, false), ("/images/\(id)", false), (path, true)] {
                let closing = close ? "Connection: close\r\n" : ""
                bytes += Array("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(closing)\r\n".utf8)
            }
            let pipelined = try await client.raw(bytes)
            #expect(pipelined.status == 200)
            let answers = Self.split([UInt8](Array("HTTP/1.1 200 \r\n".utf8)) + Self.serialized(pipelined))
            #expect(answers.map(\.status) == [200, 200, 200])
            #expect(answers.map(\.body) == [thumbnail, [UInt8](jpeg), thumbnail])
        }
    }

    /// If-Modified-Since, If-Range and If-Unmodified-Since in each of the three HTTP-date forms, on the event loop
    /// (a cached thumbnail), through the route and from disk (an original): the same date, the same answer (until
    /// session 29 only IMF-fixdate was read; an RFC 850 or asctime date was ignored, the file sent whole).
    @Test func everyHTTPDateFormIsReadOnEveryPath() async throws {
        let jpeg = try FetchServer.picture(seed: 78)
        try await FetchServer.with { client, _ in
            let id = try await Self.upload(jpeg, with: client)
            let path = "/images/\(id)/thumbnails/256"
            let original = try await client.send("GET", "/images/\(id)")
            let thumbnail = try await client.send("GET", path)
            for (answer, label) in [(thumbnail, "thumbnail"), (original, "original")] {
                let modified = try #require(answer.header("Last-Modified").flatMap { HTTPDate.parse($0) })
                for (now, before) in zip(Self.dateForms(modified), Self.dateForms(modified - 1)) {
                    let cases: [([(String, String)], Int)] = [
                        ([("If-Modified-Since", now)], 304), ([("If-Modified-Since", before)], 200),
                        ([("If-Range", now), ("Range", "bytes=0-9")], 206),
                        ([("If-Range", before), ("Range", "bytes=0-9")], 200),
                        ([("If-Unmodified-Since", now)], 200), ([("If-Unmodified-Since", before)], 412),
                    ]
                    for (headers, status) in cases {
                        let what = "\(label) \(headers)"
                        if label == "original" {
                            let answer = try await client.send("GET", "/images/\(id)", headers: headers)
                            #expect(answer.status == status, "\(what)")
                            continue
                        }
                        let (fast, routed, onTheLoop) = try await Self.fastAndRouted(
                            "GET", path, headers, client: client)
                        #expect(fast.status == status && routed.status == status, "\(what)")
                        // (An error body names its request, one per request.)
                        #expect(
                            fast.text.replacing(/,"request_id":"[^"]*"/, with: "")
                                == routed.text.replacing(/,"request_id":"[^"]*"/, with: ""), "\(what)")
                        // A 412 is the route's to answer (an error); the rest the event loop's.
                        #expect(onTheLoop == (status != 412), "\(what)")
                    }
                }
            }
        }
    }

    /// Range forms RFC 9110 allows and nginx takes: a unit in capitals, empty list elements, a last byte past any
    /// file (clamped to the end). 206 on the raw path, the event loop's, the route's and from disk (until session 29
    /// each was 200 with the whole file).
    @Test func rangeFormsTheRFCAllowsAreTakenOnEveryPath() async throws {
        let jpeg = try FetchServer.picture(seed: 79)
        try await FetchServer.with { client, _ in
            let id = try await Self.upload(jpeg, with: client)
            let path = "/images/\(id)/thumbnails/256"
            let thumbnail = try await client.send("GET", path).body
            // The range, its first byte and its last (nil: the file's last).
            let cases: [(String, Int, Int?)] = [
                ("BYTES=0-5", 0, 5), ("Bytes=2-", 2, nil), ("bytes=0-5,", 0, 5), ("bytes=,0-5", 0, 5),
                ("bytes= , 3-7 ,", 3, 7), ("bytes=0-99999999999999999999999", 0, nil),
                ("bytes=-99999999999999999999999", 0, nil),
            ]
            for (range, first, last) in cases {
                func wanted(_ file: [UInt8]) -> [UInt8] { Array(file[first...(last ?? file.count - 1)]) }
                // The same head plain (the raw path reads it) and with a field the raw path leaves to the decoder
                // (the event loop's handler answers it), then through the route (a query).
                let (fast, routed, onTheLoop) = try await Self.fastAndRouted(
                    "GET", path, [("Range", range)], client: client)
                let (decoded, _, decodedOnTheLoop) = try await Self.fastAndRouted(
                    "GET", path, [("Range", range), ("X-Trace", "1")], client: client)
                for (answer, label) in [(fast, "raw"), (decoded, "event loop"), (routed, "route")] {
                    #expect(answer.status == 206 && answer.body == wanted(thumbnail), "\(range) \(label)")
                }
                #expect(onTheLoop && decodedOnTheLoop, "\(range)")
                let original = try await client.send("GET", "/images/\(id)", headers: [("Range", range)])
                #expect(original.status == 206 && original.body == wanted(jpeg), "\(range) original")
            }
        }
    }

    /// A content id's thumbnail is cached `http.thumbnail_max_age` seconds, not for a year as `immutable`: its URL
    /// does not name the recipe, so a preset change serves other bytes there, which caches fetch when they
    /// revalidate (the ETag names the recipe: another recipe's is a 200). The event loop and the route say the same;
    /// the original under its hash stays immutable.
    @Test func thumbnailsAreRevalidatedAfterTheConfiguredMaxAge() async throws {
        let jpeg = try FetchServer.picture(seed: 80)
        let configure: (inout PicpipeConfiguration) -> Void = { $0.http.thumbnailMaxAge = 600 }
        try await FetchServer.with(configure: configure) { client, _ in
            let id = try await Self.upload(jpeg, with: client)
            let path = "/images/\(id)/thumbnails/256"
            let (fast, routed, onTheLoop) = try await Self.fastAndRouted("GET", path, [], client: client)
            #expect(onTheLoop)
            #expect(fast.header("Cache-Control") == "public, max-age=600")
            #expect(routed.header("Cache-Control") == "public, max-age=600")
            let eTag = try #require(fast.header("ETag"))
            #expect(eTag.hasPrefix("\"\(id)-256-inside-q82-"))
            let current = try await Self.fastAndRouted("GET", path, [("If-None-Match", eTag)], client: client)
            #expect(current.fast.status == 304 && current.routed.status == 304)
            #expect(current.fast.header("Cache-Control") == "public, max-age=600")
            // What a cache holds from before a preset change (quality 40): another recipe, so the new bytes.
            let older = eTag.replacingOccurrences(of: "-q82-", with: "-q40-")
            let changed = try await Self.fastAndRouted("GET", path, [("If-None-Match", older)], client: client)
            #expect(changed.fast.status == 200 && changed.routed.status == 200 && changed.fast.body == fast.body)
            let original = try await client.send("GET", "/images/\(id)")
            #expect(original.header("Cache-Control") == "public, max-age=31536000, immutable")
        }
    }

    /// Uploads a picture. - Returns: its id.
    static func upload(_ jpeg: [UInt8], with client: LoopbackClient) async throws -> String {
        let posted = try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: jpeg)
        return try #require(posted.json?["id"] as? String)
    }

    /// A second as IMF-fixdate, RFC 850 and asctime.
    static func dateForms(_ seconds: Int) -> [String] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "GMT")!
        let parts = calendar.dateComponents(
            [.year, .month, .day, .weekday, .hour, .minute, .second],
            from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let (day, month, weekday) = (parts.day!, months[parts.month! - 1], days[parts.weekday! - 1])
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let clock = "\(two(parts.hour!)):\(two(parts.minute!)):\(two(parts.second!))"
        return [
            "\(weekday.prefix(3)), \(two(day)) \(month) \(parts.year!) \(clock) GMT",
            "\(weekday), \(two(day))-\(month)-\(two(parts.year! % 100)) \(clock) GMT",
            "\(weekday.prefix(3)) \(month) \(day < 10 ? " \(day)" : "\(day)") \(clock) \(parts.year!)",
        ]
    }

    /// A request as the event loop answers it and as the route does (the same with a query): both answers, and
    /// whether the first was the event loop's. The cache trusts an entry for 1 s: a plain GET first makes it fresh,
    /// and on a machine so loaded that the second passed before the request, the request is made again (at most 5
    /// times).
    static func fastAndRouted(
        _ method: String, _ path: String, _ headers: [(String, String)], client: LoopbackClient
    ) async throws -> (fast: HTTPAnswer, routed: HTTPAnswer, onTheLoop: Bool) {
        func answered() async throws -> Int {
            let metrics = try await client.send("GET", "/metrics").text
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("picpipe_http_event_loop_answers_total ") }
            return line.flatMap { $0.split(separator: " ").last }.flatMap { Int(Double($0) ?? -1) } ?? -1
        }
        var fast = HTTPAnswer(status: 0, headers: [:], body: [])
        var answeredOnTheLoop = 0
        for _ in 0..<5 where answeredOnTheLoop != 1 {
            #expect(try await client.send("GET", path).status == 200)
            let before = try await answered()
            fast = try await client.send(method, path, headers: headers)
            answeredOnTheLoop = try await answered() - before
        }
        let routed = try await client.send(method, "\(path)?via=route", headers: headers)
        return (fast, routed, answeredOnTheLoop == 1)
    }

    /// An answer as bytes again (the raw client parsed the first one and kept the rest as its body).
    static func serialized(_ answer: HTTPAnswer) -> [UInt8] {
        var text = ""
        for (name, value) in answer.headers { text += "\(name): \(value)\r\n" }
        return Array((text + "\r\n").utf8) + answer.body
    }

    /// Consecutive HTTP/1.1 answers with Content-Length bodies, taken apart.
    static func split(_ bytes: [UInt8]) -> [(status: Int, body: [UInt8])] {
        var answers: [(status: Int, body: [UInt8])] = []
        var rest = bytes[...]
        while !rest.isEmpty, let answer = try? LoopbackClient.parse(Array(rest), isHead: false) {
            let length = Int(answer.header("Content-Length") ?? "") ?? 0
            answers.append((answer.status, Array(answer.body.prefix(length))))
            rest = rest.suffix(answer.body.count - min(length, answer.body.count))
        }
        return answers
    }
}
