// GET /images?near=LAT,LON,KM (the gallery's "near" search): a circle around a point, and malformed circles refused.
import Foundation
import Testing

@Suite(.serialized)
struct ListingNearTests {
    /// A small corpus camera file with GPS 43.85947, 15.50328 (Zadar), when the corpus is beside the checkout.
    static let zadar = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "shared/corpus/jpeg-exif/apple-iphone-xr-1x1.jpg")

    @Test func malformedCirclesAreRefused() async throws {
        try await FetchServer.with { client, _ in
            for near in ["1,2", "91,0,5", "0,181,5", "0,0,0", "0,0,-1", "a,b,c", "0,0,5,9"] {
                let answer = try await client.send("GET", "/images?near=\(near)")
                #expect(answer.status == 400, "near=\(near)")
                #expect(answer.errorCode == "bad_request")
            }
        }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: zadar.path)))
    func aCircleListsThePicturesInsideIt() async throws {
        let bytes = Array(try Data(contentsOf: Self.zadar))
        try await FetchServer.with { client, _ in
            let posted = try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: bytes)
            let id = try #require(posted.json?["id"] as? String)
            var listed = false
            for _ in 0..<600 where !listed {
                listed = try await client.send("GET", "/images").text.contains(id)
                if !listed { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(listed)
            // 2.3 km from the picture's position: inside a 5 km circle, outside a 1 km one.
            let inside = try await client.send("GET", "/images?near=43.88,15.50,5")
            #expect(inside.status == 200)
            #expect(inside.text.contains(id))
            let outside = try await client.send("GET", "/images?near=43.88,15.50,1")
            #expect(!outside.text.contains(id))
            let paris = try await client.send("GET", "/images?near=48.85,2.35,50")
            #expect(!paris.text.contains(id))
        }
    }
}
