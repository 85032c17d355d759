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
            #expect(with.text.contains("\"id\":\"\(hash)\""), "with its original it is listed by its hash: \(with.text)")
        }
    }
}
