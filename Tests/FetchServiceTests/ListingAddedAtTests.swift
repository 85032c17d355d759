// GET /images lists a picture without an EXIF date by the time it was added, among the dated ones, and pages through
// both while pictures come and go.
import Foundation
import MetadataService
import PipelineCore
import Testing

struct ListingAddedAtTests {
    /// Until session 32 the listing was taken_at descending with undated pictures last: a screenshot uploaded to a
    /// library of thousands was on its last page. Now an undated picture is placed by `added_at`, which the item
    /// carries beside a null `taken_at`.
    @Test func anUndatedPictureIsListedByWhenItWasAdded() async throws {
        try await FetchServer.with { client, layout in
            let pictures: [(String, String?, String?)] = [
                ("a1", "2024-05-01T10:00:00", "2026-12-07T09:00:00"),
                ("b2", nil, "2026-12-07T10:00:00"),  // a screenshot just added
                ("c3", nil, "2023-01-01T00:00:00"),  // a scan added long ago
                ("d4", "2025-01-01T00:00:00", "2026-12-02T00:00:00"),
                ("e5", "2023-01-01T00:00:00", "2026-12-01T00:00:00"),
                ("f6", nil, nil),  // neither time: last
            ]
            for (index, (hex, takenAt, addedAt)) in pictures.enumerated() {
                try Self.drop(hex, takenAt: takenAt, addedAt: addedAt, seed: UInt8(index), in: layout)
            }
            func page(_ query: String) async throws -> ([[String: Any]], String?) {
                let answer = try await client.send("GET", "/images?" + query)
                #expect(answer.status == 200, "\(answer.text)")
                return (
                    try #require(answer.json?["items"] as? [[String: Any]]), answer.json?["next_cursor"] as? String
                )
            }
            func names(_ items: [[String: Any]]) -> [String] { items.map { ($0["name"] as? String) ?? "?" } }
            let (all, end) = try await page("limit=10")
            #expect(names(all) == ["b2.png", "d4.png", "a1.png", "c3.png", "e5.png", "f6.png"])
            #expect(end == nil)
            let screenshot = try #require(all.first)
            #expect(screenshot["taken_at"] is NSNull)
            #expect(screenshot["added_at"] as? String == "2026-12-07T10:00:00")
            #expect(all[1]["taken_at"] as? String == "2025-01-01T00:00:00")
            #expect(all.last?["added_at"] is NSNull)
            // The time filters keep to taken_at.
            #expect(names(try await page("taken_after=2020").0) == ["d4.png", "a1.png", "e5.png"])
            // Every page size walks the same order.
            for size in 1...4 {
                var seen: [String] = []
                var cursor: String?
                repeat {
                    let (items, next) = try await page("limit=\(size)" + (cursor.map { "&cursor=\($0)" } ?? ""))
                    seen += names(items)
                    cursor = next
                } while cursor != nil && seen.count <= all.count  // a cursor that does not move on must not loop
                #expect(seen == names(all), "pages of \(size)")
            }
            // Pictures come and go between pages: the cursor's picture is deleted, one is added before its place and
            // one after it; the next page goes on from the deleted picture's place.
            let (first, cursor) = try await page("limit=2")
            #expect(names(first) == ["b2.png", "d4.png"])
            #expect(try await client.send("DELETE", "/images/\(String(repeating: "d4", count: 32))").status == 204)
            try Self.drop("7a", takenAt: nil, addedAt: "2024-06-01T00:00:00", seed: 7, in: layout)
            try Self.drop("8b", takenAt: nil, addedAt: "2026-12-08T00:00:00", seed: 8, in: layout)
            let (rest, _) = try await page("limit=10&cursor=\(try #require(cursor))")
            #expect(names(rest) == ["7a.png", "a1.png", "c3.png", "e5.png", "f6.png"])
        }
    }

    /// A picture uploaded over HTTP is added when its original is written: `added_at` is that file's modification
    /// time in the server's local time, and a second id for the same bytes (whose PUT dates the original anew)
    /// lists at the same place with the same `added_at`.
    @Test func anUploadIsAddedWhenItsOriginalIsWritten() async throws {
        try await FetchServer.with { client, layout in
            try Self.drop("a1", takenAt: "2012-09-29T16:11:25", addedAt: "2026-01-01T00:00:00", seed: 1, in: layout)
            let bytes = try FetchServer.picture(.png, seed: 33)
            let posted = try await client.send(
                "POST", "/images?name=screenshot.png", headers: [("Content-Type", "image/png")], body: bytes)
            #expect(posted.status == 202, "\(posted.text)")
            let id = try #require(posted.json?["id"] as? String)
            // The metadata is read now if the function has not run yet; the row then exists.
            let metadata = try await client.send("GET", "/images/\(id)/metadata")
            #expect(metadata.status == 200)
            let original = try #require(
                FetchServer.files(under: layout.originals).first { $0.contains(id) }.map {
                    layout.originals.appendingPathComponent($0)
                })
            let written = try #require(
                try FileManager.default.attributesOfItem(atPath: original.path)[.modificationDate] as? Date)
            let local = DateFormatter()
            local.locale = Locale(identifier: "en_US_POSIX")
            local.timeZone = TimeZone.current
            local.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
            let added = local.string(from: written)
            #expect(metadata.json?["added_at"] as? String == added)
            #expect(metadata.json?["taken_at"] is NSNull)
            // Date the original back, as if written long ago: a later read of it would give 2001.
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: 978_307_200)], ofItemAtPath: original.path)
            let second = try await client.send(
                "PUT", "/images/screenshot-copy", headers: [("Content-Type", "image/png")], body: bytes)
            #expect(second.status == 201, "\(second.text)")
            let items = try #require(
                try await client.send("GET", "/images").json?["items"] as? [[String: Any]])
            #expect(items.map { $0["id"] as? String ?? "?" }.prefix(2).sorted() == [id, "screenshot-copy"].sorted())
            #expect(items.prefix(2).allSatisfy { $0["added_at"] as? String == added })
            #expect(items.last?["taken_at"] as? String == "2012-09-29T16:11:25")
        }
    }

    /// A picture dropped with its metadata row (`FetchServer.dropped`), named `HEX.png`.
    static func drop(_ hex: String, takenAt: String?, addedAt: String?, seed: UInt8, in layout: StoreLayout) throws {
        var row = ImageMetadata(file: "")
        row.sha256 = String(repeating: hex, count: 32)
        row.width = 400
        row.height = 300
        row.format = "png"
        row.takenAt = takenAt
        try FetchServer.dropped(
            try FetchServer.picture(.png, seed: seed), row: row, sourceName: "\(hex).png", addedAt: addedAt,
            in: layout)
    }
}
