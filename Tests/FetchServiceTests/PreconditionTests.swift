// RFC 9110 §13's preconditions on /images/{id}: If-Match, If-Unmodified-Since and (PUT, DELETE) If-None-Match answer
// 412 and do nothing when they do not hold; a conditional PUT or DELETE changes the id only while it names what they
// held for. Until session 29 all three were ignored: a guarded overwrite or delete went through.
import Foundation
import HTTPTypes
import Testing

@testable import FetchService

@Suite(.serialized)
struct PreconditionTests {
    static let jpeg = [("Content-Type", "image/jpeg")]

    @Test func putAndDeleteDoNothingWhenAPreconditionFails() async throws {
        let (first, second, third) = (
            try FetchServer.picture(seed: 11), try FetchServer.picture(seed: 22), try FetchServer.picture(seed: 33)
        )
        try await FetchServer.with { client, layout in
            // Create only: the id is new, then it exists.
            let created = try await client.send(
                "PUT", "/images/doc", headers: Self.jpeg + [("If-None-Match", "*")], body: first)
            #expect(created.status == 201)
            let firstTag = try #require(created.header("ETag"))
            #expect(firstTag == "\"\(try #require(created.json?["sha256"] as? String))\"")
            let again = try await client.send(
                "PUT", "/images/doc", headers: Self.jpeg + [("If-None-Match", "*")], body: second)
            #expect(again.status == 412 && again.errorCode == "precondition_failed")
            #expect(
                again.json.flatMap { ($0["error"] as? [String: Any])?["message"] as? String }?.contains("If-None-Match")
                    == true)
            #expect(try await client.send("GET", "/images/doc").body == first)

            // If-Match with the current ETag replaces; with the ETag it had before, it does not.
            let replaced = try await client.send(
                "PUT", "/images/doc", headers: Self.jpeg + [("If-Match", firstTag)], body: second)
            #expect(replaced.status == 200)
            let secondTag = try #require(replaced.header("ETag"))
            #expect(secondTag != firstTag)
            let lost = try await client.send(
                "PUT", "/images/doc", headers: Self.jpeg + [("If-Match", firstTag)], body: third)
            #expect(lost.status == 412 && lost.errorCode == "precondition_failed")
            // A weak tag never matches If-Match (strong comparison); a list with the current one does.
            let weak = try await client.send(
                "PUT", "/images/doc", headers: Self.jpeg + [("If-Match", "W/\(secondTag)")], body: third)
            #expect(weak.status == 412)
            let old = try await client.send(
                "PUT", "/images/doc", headers: Self.jpeg + [("If-Unmodified-Since", "Thu, 01 Jan 2015 00:00:00 GMT")],
                body: third)
            #expect(old.status == 412)
            #expect(try await client.send("GET", "/images/doc").body == second)
            // Of the refused pictures nothing was kept: the store holds the current one alone.
            #expect(FetchServer.files(under: layout.originals).count == 1)

            // If-Match: * needs the id to exist.
            let missing = try await client.send(
                "PUT", "/images/nobody", headers: Self.jpeg + [("If-Match", "*")], body: third)
            #expect(missing.status == 412)
            #expect(try await client.send("GET", "/images/nobody").status == 404)

            // DELETE: each failing precondition leaves the id; the current ETag removes it.
            for headers in [
                [("If-Match", "\"not-the-etag\"")], [("If-Match", firstTag)],
                [("If-Unmodified-Since", "Thu, 01 Jan 2015 00:00:00 GMT")], [("If-None-Match", secondTag)],
                [("If-None-Match", "*")],
                [("If-Match", "\"x\""), ("If-Unmodified-Since", "Sun, 01 Jan 2090 00:00:00 GMT")],
            ] {
                let refused = try await client.send("DELETE", "/images/doc", headers: headers)
                #expect(refused.status == 412 && refused.errorCode == "precondition_failed", "\(headers)")
            }
            #expect(try await client.send("GET", "/images/doc").body == second)
            // If-Match holds, so If-Unmodified-Since is not looked at (RFC 9110 13.2.2).
            let removed = try await client.send(
                "DELETE", "/images/doc",
                headers: [
                    ("If-Match", "\"x\", \(secondTag)"), ("If-Unmodified-Since", "Thu, 01 Jan 2015 00:00:00 GMT"),
                ])
            #expect(removed.status == 204)
            #expect(try await client.send("GET", "/images/doc").status == 404)
        }
    }

    /// A POST's answer names the ETag of what it stored, as a PUT's does.
    @Test func anUploadsAnswerCarriesItsETag() async throws {
        let bytes = try FetchServer.picture(seed: 44)
        try await FetchServer.with { client, _ in
            let posted = try await client.send("POST", "/images", headers: Self.jpeg, body: bytes)
            let id = try #require(posted.json?["id"] as? String)
            #expect(posted.header("ETag") == "\"\(id)\"")
            #expect(try await client.send("GET", "/images/\(id)").header("ETag") == posted.header("ETag"))
        }
    }

    /// GET and HEAD of an original (from disk) and of a thumbnail (from the cache, which leaves a 412 to the route)
    /// answer 412 for an If-Match or If-Unmodified-Since that does not hold, and the file when it holds.
    @Test func readsAnswer412WhenIfMatchOrIfUnmodifiedSinceFails() async throws {
        let bytes = try FetchServer.picture(seed: 55)
        try await FetchServer.with { client, _ in
            let id = try #require(
                try await client.send("POST", "/images", headers: Self.jpeg, body: bytes).json?["id"] as? String)
            for path in ["/images/\(id)", "/images/\(id)/thumbnails/64", "/images/\(id)/thumbnails/64"] {
                let plain = try await client.send("GET", path)
                let tag = try #require(plain.header("ETag"))
                let modified = try #require(plain.header("Last-Modified"))
                for headers in [
                    [("If-Match", "\"x\"")], [("If-Match", "W/\(tag)")],
                    [("If-Unmodified-Since", "Wed, 01 Jan 2020 00:00:00 GMT")],
                ] {
                    let refused = try await client.send("GET", path, headers: headers)
                    #expect(refused.status == 412 && refused.errorCode == "precondition_failed", "\(path) \(headers)")
                    #expect(try await client.send("HEAD", path, headers: headers).status == 412, "\(path) \(headers)")
                }
                for headers in [
                    [("If-Match", tag)], [("If-Match", "*")], [("If-Unmodified-Since", modified)],
                    [("If-Match", tag), ("If-Unmodified-Since", "Wed, 01 Jan 2020 00:00:00 GMT")],
                ] {
                    let served = try await client.send("GET", path, headers: headers)
                    #expect(served.status == 200 && served.body == plain.body, "\(path) \(headers)")
                }
                // If-Match is looked at before If-None-Match: a failing one is 412, not 304.
                let both = try await client.send("GET", path, headers: [("If-Match", "\"x\""), ("If-None-Match", tag)])
                #expect(both.status == 412)
            }
        }
    }

    /// Many create-only PUTs of one new id at once: one creates it, every other is 412, and of the losers' bytes
    /// nothing stays in the store (they are checked again in the step that moves the id, after their install).
    @Test func ofConcurrentCreateOnlyPutsExactlyOneWins() async throws {
        let pictures = try (0..<6).map { try FetchServer.picture(width: 64, height: 48, seed: UInt8(100 + $0)) }
        try await FetchServer.with { client, layout in
            let statuses = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for (index, picture) in pictures.enumerated() {
                    group.addTask {
                        let answer = try await client.send(
                            "PUT", "/images/race", headers: Self.jpeg + [("If-None-Match", "*")], body: picture)
                        return (index, answer.status)
                    }
                }
                var statuses: [Int: Int] = [:]
                for try await (index, status) in group { statuses[index] = status }
                return statuses
            }
            #expect(statuses.values.sorted() == [201] + Array(repeating: 412, count: pictures.count - 1))
            let winner = try #require(statuses.first { $0.value == 201 }?.key)
            #expect(try await client.send("GET", "/images/race").body == pictures[winner])
            #expect(FetchServer.files(under: layout.originals).count == 1)
        }
    }

    /// The order of RFC 9110 13.2.2, on values.
    @Test func theFirstFailingPreconditionIsNamed() {
        func failure(_ fields: [(HTTPField.Name, String)], _ state: Preconditions.State?, write: Bool = true)
            -> Preconditions.Failure?
        {
            var headers = HTTPFields()
            for (name, value) in fields { headers[name] = value }
            return Preconditions(headers).failure(state, changesState: write)
        }
        let state = Preconditions.State(eTag: "\"a\"", modified: 1_000)
        #expect(failure([(.ifMatch, "\"b\", \"a\"")], state) == nil)
        #expect(failure([(.ifMatch, "\"b\"")], state) == .ifMatch(current: "\"a\""))
        #expect(failure([(.ifMatch, "*")], nil) == .ifMatch(current: nil))
        #expect(failure([(.ifMatch, "W/\"a\"")], state) == .ifMatch(current: "\"a\""))
        // If-Unmodified-Since: later than the date fails; ignored beside If-Match, for a missing target, or unreadable.
        #expect(failure([(.ifUnmodifiedSince, HTTPDate.format(999))], state) == .ifUnmodifiedSince(modified: 1_000))
        #expect(failure([(.ifUnmodifiedSince, HTTPDate.format(1_000))], state) == nil)
        #expect(failure([(.ifMatch, "\"a\""), (.ifUnmodifiedSince, HTTPDate.format(999))], state) == nil)
        #expect(failure([(.ifUnmodifiedSince, HTTPDate.format(999))], nil) == nil)
        #expect(failure([(.ifUnmodifiedSince, "yesterday")], state) == nil)
        // If-None-Match: 412 for a write (weak comparison), left to the 304 for a read; `*` is "exists".
        #expect(failure([(.ifNoneMatch, "*")], state) == .ifNoneMatch(current: "\"a\""))
        #expect(failure([(.ifNoneMatch, "*")], nil) == nil)
        #expect(failure([(.ifNoneMatch, "W/\"a\"")], state) == .ifNoneMatch(current: "\"a\""))
        #expect(failure([(.ifNoneMatch, "\"a\"")], state, write: false) == nil)
        // If-Match comes first.
        #expect(failure([(.ifMatch, "\"b\""), (.ifNoneMatch, "*")], state) == .ifMatch(current: "\"a\""))
    }
}
