// The shortcut for cached thumbnails in front of the router: it answers only what the router would answer the
// same way, keeps the access rules, and counts its answers in the same metrics.
import FetchService
import Foundation
import Testing

@testable import FetchService

@Suite(.serialized)
struct CachedThumbnailResponderTests {
    @Test func onlyTheExactThumbnailShapeIsTakenApart() {
        #expect(ThumbnailURLPath.split("/images/abc/thumbnails/256").map { [String($0.id), String($0.size)] } == ["abc", "256"])
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
            let id = try #require(
                try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: jpeg).json?["id"]
                    as? String)
            let path = "/images/\(id)/thumbnails/256"
            for _ in 0..<3 { #expect(try await client.send("GET", path).status == 200) }
            #expect(try await client.send("HEAD", path).status == 200)
            let metrics = try await client.send("GET", "/metrics").text.split(separator: "\n")
            func count(_ method: String) -> String? {
                metrics.first {
                    $0.hasPrefix("picpipe_http_requests_total{") && $0.contains("route=\"/images/{id}/thumbnails/{size}\"")
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
        try await FetchServer.with(configure: {
            $0.http.apiKeys = ["k1"]
            $0.http.protectReads = true
            $0.http.signingKey = "sign-me"
        }) { client, _ in
            let auth = [("Authorization", "Bearer k1")]
            let posted = try await client.send("POST", "/images", headers: auth + [("Content-Type", "image/jpeg")], body: jpeg)
            let id = try #require(posted.json?["id"] as? String)
            let path = "/images/\(id)/thumbnails/256"
            let first = try await client.send("GET", path, headers: auth)
            #expect(first.status == 200)
            let second = try await client.send("GET", path, headers: auth)
            #expect(second.body == first.body)
            #expect(second.header("Cache-Control") == "private, max-age=31536000, immutable")
            #expect(try await client.send("GET", path).status == 401)
            #expect(try await client.send("HEAD", path).status == 401)
            let future = Int(Date().timeIntervalSince1970) + 600
            let signed = try await client.send("GET", URLSigner(key: "sign-me").sign(path: path, expires: future))
            #expect(signed.status == 200)
            #expect(signed.body == first.body)
            #expect(try await client.send("GET", "\(path)?expires=\(future)&sig=\(String(repeating: "0", count: 64))").status == 403)
        }
    }
}
