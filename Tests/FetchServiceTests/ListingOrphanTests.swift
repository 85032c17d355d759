// GET /images while a delete or replace is half done: the index's id is gone, then the original, then the metadata
// row. Content named only by its hash is listed while its original is in the store, never after (its thumbnails are
// already gone, so a listed tile would be a broken picture).
import Foundation
import MetadataService
import PipelineCore
import Testing

struct ListingOrphanTests {
    @Test func contentWithoutAnIdIsListedByItsHashOnlyWhileItsOriginalExists() async throws {
        try await FetchServer.with { client, layout in
            let hash = String(repeating: "ab", count: 32)
            let key = "originals/ab/\(hash).jpg"
            var row = ImageMetadata(file: key)
            row.sha256 = hash
            row.takenAt = "2024-05-01T10:00:00"
            // Another writer of the metadata database (the metadata function, in another connection).
            try SQLiteMetadataStore(url: layout.metadataDatabase).upsert(row, originalPath: key, sourceName: "a.jpg")

            let without = try await client.send("GET", "/images")
            #expect(without.status == 200)
            #expect(!without.text.contains(hash), "a row whose original is gone is not listed: \(without.text)")

            let original = layout.root.appendingPathComponent(key)
            try FileManager.default.createDirectory(
                at: original.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data([0xFF, 0xD8, 0xFF, 0xD9]).write(to: original)
            let with = try await client.send("GET", "/images")
            #expect(
                with.text.contains("\"id\":\"\(hash)\""), "with its original it is listed by its hash: \(with.text)")
        }
    }

    /// `/cameras` counts as the listing lists: an original removed by hand takes its picture out of the listing, and
    /// out of the count (until session 29 `total` and the camera's count still held it, 340 against 339 listed).
    @Test func aPictureWhoseOriginalIsGoneIsNotCountedByCameras() async throws {
        try await FetchServer.with { client, layout in
            var originals: [URL] = []
            for (index, hex) in ["c1", "c2"].enumerated() {
                var row = ImageMetadata(file: "")
                row.sha256 = String(repeating: hex, count: 32)
                row.make = "Canon"
                row.model = "EOS 7D"
                row.takenAt = "2024-05-0\(index + 1)T10:00:00"
                originals.append(
                    try FetchServer.dropped(
                        [0xFF, 0xD8, 0xFF, 0xD9, UInt8(index)], row: row, sourceName: "\(hex).jpg", in: layout))
            }
            let before = try await client.send("GET", "/cameras")
            #expect(before.json?["total"] as? Int == 2, "\(before.text)")

            try FileManager.default.removeItem(at: originals[0])
            let listed = try #require(try await client.send("GET", "/images").json?["items"] as? [[String: Any]])
            #expect(listed.map { $0["name"] as? String } == ["c2.jpg"])
            let after = try await client.send("GET", "/cameras")
            #expect(after.json?["total"] as? Int == listed.count, "\(after.text)")
            let cameras = try #require(after.json?["cameras"] as? [[String: Any]])
            #expect(cameras.map { $0["count"] as? Int } == [1], "\(after.text)")
        }
    }
}
