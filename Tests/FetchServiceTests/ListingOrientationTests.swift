// A listing item carries the picture's EXIF orientation beside its stored width and height, so a client can lay out
// a turned photo from the listing alone.
import Foundation
import MetadataService
import PipelineCore
import Testing

struct ListingOrientationTests {
    /// Until session 29 items had width and height (before any turn) and no orientation: a grid built from
    /// `GET /images` drew every turned phone photo with the wrong aspect ratio, or made one metadata request each.
    @Test func itemsCarryTheOrientation() async throws {
        try await FetchServer.with { client, layout in
            let pictures: [(String, Int?)] = [("a1", 6), ("a2", nil), ("a3", 9), ("a4", 1), ("a5", 0)]
            for (index, (hex, orientation)) in pictures.enumerated() {
                var row = ImageMetadata(file: "")
                row.sha256 = String(repeating: hex, count: 32)
                row.width = 4928
                row.height = 3264
                row.orientation = orientation
                row.takenAt = "2024-05-0\(index + 1)T10:00:00"
                try FetchServer.dropped(
                    [0xFF, 0xD8, 0xFF, 0xD9, UInt8(index)], row: row, sourceName: "\(hex).jpg", in: layout)
            }
            let items = try #require(try await client.send("GET", "/images").json?["items"] as? [[String: Any]])
            let byName = Dictionary(uniqueKeysWithValues: items.map { ($0["name"] as? String ?? "?", $0) })
            #expect(byName["a1.jpg"]?["orientation"] as? Int == 6)
            #expect(byName["a4.jpg"]?["orientation"] as? Int == 1)
            // Absent: null, the key still there. A value EXIF leaves undefined (it turns nothing) is the value, as
            // `/metadata` and `query --json` give it (exiftool -n): until session 34 the listing alone said null.
            #expect(byName["a2.jpg"]?["orientation"] is NSNull)
            #expect(byName["a3.jpg"]?["orientation"] as? Int == 9)
            #expect(byName["a5.jpg"]?["orientation"] as? Int == 0)
            // Width and height stay as stored, before the turn.
            #expect(byName["a1.jpg"]?["width"] as? Int == 4928 && byName["a1.jpg"]?["height"] as? Int == 3264)
        }
    }
}
