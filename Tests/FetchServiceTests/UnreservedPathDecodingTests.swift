// Percent-encoded unreserved characters in a path name the same resource as the characters themselves (RFC 3986
// §6.2.2.2); until session 29 `/images/c%61t` was 400 `invalid_id` and `/thumbnails/%32%35%36` 404. Encoded
// reserved characters, `%25` and NUL stay encoded, and so stay refused.
import Foundation
import Testing

@testable import FetchService

@Suite(.serialized)
struct UnreservedPathDecodingTests {
    @Test func onlyUnreservedCharactersAreDecodedAndOnlyInThePath() {
        #expect(UnreservedPathDecoding.decoded("/images/c%61t") == "/images/cat")
        #expect(
            UnreservedPathDecoding.decoded("/images/%63%41%54/thumbnails/%32%35%36") == "/images/cAT/thumbnails/256")
        #expect(UnreservedPathDecoding.decoded("/images/a%2d%2E%5f%7e") == "/images/a-._~")
        #expect(UnreservedPathDecoding.decoded("/images/%2e%2e") == "/images/..")
        #expect(UnreservedPathDecoding.decoded("/images/c%61t?name=%61") == "/images/cat?name=%61")
        // Nothing to decode: no `%`, or only reserved, `%25`, controls, non-ASCII, broken escapes.
        for path in [
            "/images/cat", "/images/a%2Fb", "/images/a%2fb", "/images/a%00b", "/images/c%2561t", "/images/%C3%A9",
            "/images/a%20b", "/images/a%", "/images/a%6", "/images/a%zz", "/images/a?x=%61",
        ] {
            #expect(UnreservedPathDecoding.decoded(path) == nil, "\(path)")
        }
    }

    @Test func anEncodedIdSizeOrRouteNamesTheSameResource() async throws {
        let jpeg = try FetchServer.picture(seed: 33)
        try await FetchServer.with { client, _ in
            let put = try await client.send("PUT", "/images/cat", headers: [("Content-Type", "image/jpeg")], body: jpeg)
            #expect(put.status == 201)
            let thumbnail = try await client.send("GET", "/images/cat/thumbnails/64")
            #expect(thumbnail.status == 200)
            let original = try await client.send("GET", "/images/c%61t")
            #expect(original.status == 200 && original.body == jpeg)
            #expect(try await client.send("GET", "/images/%63%61%74/metadata").status == 200)
            for path in ["/images/cat/thumbnails/%36%34", "/images/cat/thumbnail%73/64", "/images/c%61t/thumbnails/64"]
            {
                let answer = try await client.send("GET", path)
                #expect(answer.status == 200 && answer.body == thumbnail.body, "\(path)")
            }
            // Still refused: an encoded slash, NUL, a double encoding; `..` as any dot segment (since session 36).
            for path in ["/images/c%2Fat", "/images/c%00at", "/images/c%2561t"] {
                let answer = try await client.send("GET", path)
                #expect(answer.status == 400 && answer.errorCode == "invalid_id", "\(path)")
            }
            let climb = try await client.send("GET", "/images/%2e%2e")
            #expect(climb.status == 400 && climb.errorCode == "invalid_path")
            #expect(try await client.send("DELETE", "/images/c%61t").status == 204)
            #expect(try await client.send("GET", "/images/cat").status == 404)
        }
    }
}
