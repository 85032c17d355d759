// GET /images reads its query as forms and HTTP clients write it: a space may come as `+`.
import Foundation
import MetadataService
import PipelineCore
import Testing

struct ListingQueryEncodingTests {
    @Test func aSpaceWrittenAsPlusMatchesTheCamera() async throws {
        try await FetchServer.with { client, layout in
            let hash = String(repeating: "cd", count: 32)
            let key = "originals/cd/\(hash).jpg"
            var row = ImageMetadata(file: key)
            row.sha256 = hash
            row.make = "NIKON CORPORATION"
            row.model = "D1X+"
            try SQLiteMetadataStore(url: layout.metadataDatabase).upsert(row, originalPath: key, sourceName: "n.jpg")
            let original = layout.root.appendingPathComponent(key)
            try FileManager.default.createDirectory(
                at: original.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data([0xFF, 0xD8, 0xFF, 0xD9]).write(to: original)

            func count(_ query: String) async throws -> Int? {
                (try await client.send("GET", "/images?" + query).json?["items"] as? [Any])?.count
            }
            #expect(try await count("make=NIKON+CORPORATION") == 1, "Python requests, URLSearchParams, forms")
            #expect(try await count("make=NIKON%20CORPORATION") == 1)
            #expect(try await count("make=NIKON%2BCORPORATION") == 0, "an encoded plus is a plus")
            #expect(try await count("make=nikon+corporation&model=D1X%2B") == 1)
            #expect(try await count("make=NIKON+CORPORATION&model=D1X+") == 0, "a bare plus is a space")
        }
    }

    @Test func anUploadNameWrittenWithPlusesHasSpaces() async throws {
        try await FetchServer.with { client, _ in
            for (query, seed, name) in [
                ("my+holiday+photo.jpg", 11, "my holiday photo.jpg"), ("a%2Bb.jpg", 12, "a+b.jpg"),
            ] {
                let answer = try await client.send(
                    "POST", "/images?name=\(query)", headers: [("Content-Type", "image/jpeg")],
                    body: try FetchServer.picture(seed: UInt8(seed)))
                let id = try #require(answer.json?["id"] as? String)
                let items = try #require(try await client.send("GET", "/images").json?["items"] as? [[String: Any]])
                #expect(items.first { $0["id"] as? String == id }?["name"] as? String == name, "\(query)")
            }
        }
    }
}
