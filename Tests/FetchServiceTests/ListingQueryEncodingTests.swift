// GET /images reads its query as forms and HTTP clients write it: a space may come as `+`.
import Foundation
import MetadataService
import PipelineCore
import Testing

struct ListingQueryEncodingTests {
    @Test func aSpaceWrittenAsPlusMatchesTheCamera() async throws {
        try await FetchServer.with { client, layout in
            var row = ImageMetadata(file: "")
            row.sha256 = String(repeating: "cd", count: 32)
            row.make = "NIKON CORPORATION"
            row.model = "D1X+"
            try FetchServer.dropped([0xFF, 0xD8, 0xFF, 0xD9], row: row, sourceName: "n.jpg", in: layout)

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

    /// An empty filter is not given, the same for every filter: an HTML GET form sends `make=` for "Any" (until
    /// session 29 `make=` and `model=` matched nothing while an empty `taken_after`, `bbox` or `near` was a 400).
    @Test func anEmptyFilterIsNotGiven() async throws {
        try await FetchServer.with { client, layout in
            for (index, hex) in ["e1", "e2"].enumerated() {
                var row = ImageMetadata(file: "")
                row.sha256 = String(repeating: hex, count: 32)
                row.make = "Canon"
                row.model = "EOS 7D"
                row.takenAt = "2024-05-0\(index + 1)T10:00:00"
                row.gpsLatitude = 48.85
                row.gpsLongitude = 2.35
                try FetchServer.dropped(
                    [0xFF, 0xD8, 0xFF, 0xD9, UInt8(index)], row: row, sourceName: "\(hex).jpg", in: layout)
            }
            let filters = ["make", "model", "taken_after", "taken_before", "bbox", "near"]
            for query in filters.map({ "\($0)=" }) + [filters.map { "\($0)=" }.joined(separator: "&")] {
                let answer = try await client.send("GET", "/images?" + query)
                #expect(answer.status == 200, "\(query): \(answer.text)")
                #expect((answer.json?["items"] as? [Any])?.count == 2, "\(query): \(answer.text)")
            }
            // Beside a filter that is given, an empty one changes nothing.
            let canon = try await client.send("GET", "/images?make=&model=EOS+7D&near=&taken_after=2024-05-02")
            #expect((canon.json?["items"] as? [[String: Any]])?.map { $0["name"] as? String } == ["e2.jpg"])
        }
    }

    /// The same bytes posted again under another name keep the first name, as a dropped file's do (README "Names");
    /// until session 28 every new POST renamed the picture.
    @Test func theSameBytesPostedAgainKeepTheFirstName() async throws {
        try await FetchServer.with { client, _ in
            let picture = try FetchServer.picture(seed: 31)
            var id = ""
            for name in ["first.jpg", "second.jpg"] {
                let answer = try await client.send(
                    "POST", "/images?name=\(name)", headers: [("Content-Type", "image/jpeg")], body: picture)
                id = try #require(answer.json?["id"] as? String)
            }
            var listed: [String: Any]?
            for _ in 0..<100 where listed == nil {
                let items = try await client.send("GET", "/images").json?["items"] as? [[String: Any]]
                listed = items?.first { $0["id"] as? String == id }
                if listed == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(listed?["name"] as? String == "first.jpg", "\(String(describing: listed))")
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
                // Listed once the metadata function has read it.
                var listed: [String: Any]?
                for _ in 0..<100 where listed == nil {
                    let items = try await client.send("GET", "/images").json?["items"] as? [[String: Any]]
                    listed = items?.first { $0["id"] as? String == id }
                    if listed == nil { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(listed?["name"] as? String == name, "\(query)")
            }
        }
    }
}
