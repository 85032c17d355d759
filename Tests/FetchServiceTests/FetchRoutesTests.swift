// Every route over real HTTP on loopback: the upload → thumbnail → GET round trip, caching headers, ranges,
// listing, metadata, PUT replacement, DELETE clean-up, 405s, and the OpenAPI document against the router.
import Foundation
import MetadataService
import PipelineCore
import Testing

@testable import FetchService

@Suite(.serialized)
struct FetchRoutesTests {
    @Test func uploadThumbnailAndOriginalRoundTrip() async throws {
        let jpeg = try FetchServer.picture()
        try await FetchServer.with { client, layout in
            let posted = try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: jpeg)
            #expect(posted.status == 202)
            let id = try #require(posted.json?["id"] as? String)
            #expect(id.count == 64)
            #expect(posted.header("Location") == "/images/\(id)")
            // The same bytes give the same id.
            let again = try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: jpeg)
            #expect(again.json?["id"] as? String == id)

            let original = try await client.send("GET", "/images/\(id)")
            #expect(original.status == 200)
            #expect(original.body == jpeg)
            #expect(original.header("Content-Type") == "image/jpeg")
            #expect(original.header("Content-Length") == String(jpeg.count))
            #expect(original.header("ETag") == "\"\(id)\"")
            #expect(original.header("Last-Modified")?.hasSuffix("GMT") == true)

            let thumbnail = try await client.send("GET", "/images/\(id)/thumbnails/256")
            #expect(thumbnail.status == 200)
            #expect(thumbnail.header("Content-Type") == "image/jpeg")
            // The original's bytes never change under its hash; a thumbnail's change with the recipe: revalidated.
            #expect(original.header("Cache-Control") == "public, max-age=31536000, immutable")
            #expect(thumbnail.header("Cache-Control") == "public, max-age=86400")
            #expect(Array(thumbnail.body.prefix(2)) == [0xFF, 0xD8])
            #expect(thumbnail.header("Content-Length") == String(thumbnail.body.count))
            let etag = try #require(thumbnail.header("ETag"))
            #expect(etag.hasPrefix("\"\(id)-256-"))
            #expect(FetchServer.files(under: layout.thumbnails).contains { $0.hasPrefix("256/") && $0.contains(id) })

            let revalidated = try await client.send(
                "GET", "/images/\(id)/thumbnails/256", headers: [("If-None-Match", etag)])
            #expect(revalidated.status == 304)
            #expect(revalidated.body.isEmpty)
            #expect(revalidated.header("ETag") == etag)

            let head = try await client.send("HEAD", "/images/\(id)/thumbnails/64")
            #expect(head.status == 200)
            #expect(head.header("Content-Length").flatMap(Int.init) ?? 0 > 0)
        }
    }

    /// If-Modified-Since gives 304 when the file is no newer than the date, as nginx answers `curl -z` and caches
    /// that keep dates only (it was ignored: 200 every time); If-None-Match, when sent, decides alone (RFC 9110
    /// 13.2.2); a date that does not parse is ignored. For an original read from disk and a cached thumbnail.
    @Test func ifModifiedSinceGives304() async throws {
        let jpeg = try FetchServer.picture(seed: 90)
        try await FetchServer.with { client, _ in
            let id = try await Self.upload(jpeg, with: client)
            for path in ["/images/\(id)", "/images/\(id)/thumbnails/64", "/images/\(id)/thumbnails/64"] {
                let plain = try await client.send("GET", path)
                let modified = try #require(plain.header("Last-Modified"))
                let current = try await client.send("GET", path, headers: [("If-Modified-Since", modified)])
                #expect(current.status == 304 && current.body.isEmpty, "\(path)")
                #expect(current.header("Last-Modified") == modified)
                let older = try await client.send(
                    "GET", path, headers: [("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")])
                #expect(older.status == 200 && older.body == plain.body)
                let tagDecides = try await client.send(
                    "GET", path, headers: [("If-Modified-Since", modified), ("If-None-Match", "\"another\"")])
                #expect(tagDecides.status == 200)
                let garbage = try await client.send("GET", path, headers: [("If-Modified-Since", "yesterday")])
                #expect(garbage.status == 200)
            }
        }
    }

    /// A PUT that moves an id to content stored earlier must not leave its Last-Modified behind the move: a client
    /// revalidating with If-Modified-Since got a 304 and kept the old picture.
    @Test func anIdMovedToOlderContentIsNotAnswered304ByDate() async throws {
        let (older, newer) = (try FetchServer.picture(seed: 70), try FetchServer.picture(seed: 140))
        try await FetchServer.with { client, _ in
            let olderID = try await Self.upload(older, with: client)
            #expect(try await client.send("GET", "/images/\(olderID)/thumbnails/64").status == 200)
            let paths = ["/images/mutable", "/images/mutable/thumbnails/64"]
            _ = try await client.send("PUT", "/images/mutable", headers: [("Content-Type", "image/jpeg")], body: newer)
            var seen: [String: String] = [:]
            for path in paths { seen[path] = try await client.send("GET", path).header("Last-Modified") }
            try await Task.sleep(for: .milliseconds(1100))  // HTTP dates count whole seconds
            _ = try await client.send("PUT", "/images/mutable", headers: [("Content-Type", "image/jpeg")], body: older)
            for path in paths {
                let modified = try #require(seen[path])
                let again = try await client.send("GET", path, headers: [("If-Modified-Since", modified)])
                #expect(again.status == 200, "\(path) changed since \(modified)")
                if path == paths[0] { #expect(again.body == older) }
            }
        }
    }

    /// The same for an id deleted and made again (a 201, not a 200) with bytes stored earlier: it kept their old
    /// Last-Modified, so a client that held the deleted picture was told "not modified" (until session 29).
    @Test func anIdMadeAgainWithOlderContentIsDatedToTheMove() async throws {
        let (older, newer) = (try FetchServer.picture(seed: 71), try FetchServer.picture(seed: 141))
        try await FetchServer.with { client, layout in
            let olderID = try await Self.upload(older, with: client)
            #expect(try await client.send("GET", "/images/\(olderID)/thumbnails/64").status == 200)
            // Stored long ago: its original and thumbnails dated 1000 s back (no waiting for whole seconds).
            let past = Date().addingTimeInterval(-1000)
            for area in [layout.originals, layout.thumbnails] {
                for file in FetchServer.files(under: area) where file.contains(olderID) {
                    try FileManager.default.setAttributes(
                        [.modificationDate: past], ofItemAtPath: area.appendingPathComponent(file).path)
                }
            }
            let put = [("Content-Type", "image/jpeg")]
            #expect(try await client.send("PUT", "/images/pet", headers: put, body: newer).status == 201)
            #expect(try await client.send("DELETE", "/images/pet").status == 204)
            let moved = Int(Date().timeIntervalSince1970)
            #expect(try await client.send("PUT", "/images/pet", headers: put, body: older).status == 201)
            // A client that fetched the deleted picture 500 s ago.
            let held = HTTPDate.format(moved - 500)
            for path in ["/images/pet", "/images/pet/thumbnails/64"] {
                let answer = try await client.send("GET", path)
                let modified = try #require(answer.header("Last-Modified").flatMap { HTTPDate.parse($0) })
                #expect(modified >= moved, "\(path) dated \(modified), before the PUT at \(moved)")
                let revalidated = try await client.send("GET", path, headers: [("If-Modified-Since", held)])
                #expect(revalidated.status == 200 && revalidated.body == answer.body, "\(path)")
            }
        }
    }

    @Test func rangesGive206And416() async throws {
        let jpeg = try FetchServer.picture()
        try await FetchServer.with { client, _ in
            let id = try await Self.upload(jpeg, with: client)
            let part = try await client.send("GET", "/images/\(id)", headers: [("Range", "bytes=10-19")])
            #expect(part.status == 206)
            #expect(part.body == Array(jpeg[10...19]))
            #expect(part.header("Content-Range") == "bytes 10-19/\(jpeg.count)")
            #expect(part.header("Content-Length") == "10")
            let tail = try await client.send("GET", "/images/\(id)", headers: [("Range", "bytes=-5")])
            #expect(tail.status == 206)
            #expect(tail.body == Array(jpeg.suffix(5)))
            let outside = try await client.send("GET", "/images/\(id)", headers: [("Range", "bytes=\(jpeg.count)-")])
            #expect(outside.status == 416)
            #expect(outside.header("Content-Range") == "bytes */\(jpeg.count)")
            #expect(outside.errorCode == "range_not_satisfiable")
            let thumbnailRange = try await client.send(
                "GET", "/images/\(id)/thumbnails/64", headers: [("Range", "bytes=0-1")])
            #expect(thumbnailRange.status == 206)
            #expect(thumbnailRange.body == [0xFF, 0xD8])
        }
    }

    /// Several ranges are answered as nginx answers them: one `multipart/byteranges` body whose parts hold the
    /// bytes asked for (they were answered with the whole file), from disk (an original) and from the cache (a
    /// thumbnail, twice: the second from memory); overlapping ranges are merged, a HEAD has the length only, and
    /// more than `ByteRange.maxParts` ranges get the whole file.
    @Test func severalRangesAreOneMultipartBody() async throws {
        let jpeg = try FetchServer.picture()
        try await FetchServer.with { client, _ in
            let id = try await Self.upload(jpeg, with: client)
            let asked = [("Range", "bytes=-5, 0-9,5-14,30-39")]
            let answer = try await client.send("GET", "/images/\(id)", headers: asked)
            #expect(answer.status == 206)
            #expect(answer.header("Content-Range") == nil)
            let parts = try Self.parts(answer)
            let size = jpeg.count
            #expect(
                parts.map(\.range) == [
                    "bytes 0-14/\(size)", "bytes 30-39/\(size)", "bytes \(size - 5)-\(size - 1)/\(size)",
                ])
            #expect(parts.map(\.body) == [Array(jpeg[0...14]), Array(jpeg[30...39]), Array(jpeg.suffix(5))])
            #expect(parts.allSatisfy { $0.type == "image/jpeg" })
            #expect(answer.header("Content-Length") == String(answer.body.count))
            let head = try await client.send("HEAD", "/images/\(id)", headers: asked)
            #expect(head.status == 206 && head.header("Content-Length") == answer.header("Content-Length"))
            for _ in 0..<2 {
                let thumbnail = try await client.send(
                    "GET", "/images/\(id)/thumbnails/64", headers: [("Range", "bytes=0-1,4-5")])
                #expect(thumbnail.status == 206)
                let thumbnailParts = try Self.parts(thumbnail)
                #expect(thumbnailParts.count == 2 && thumbnailParts[0].body == [0xFF, 0xD8])
            }
            let many = (0..<(ByteRange.maxParts + 1)).map { "\($0 * 3)-\($0 * 3)" }.joined(separator: ",")
            let whole = try await client.send("GET", "/images/\(id)", headers: [("Range", "bytes=" + many)])
            #expect(whole.status == 200 && whole.body == jpeg)
        }
    }

    /// POSTs a JPEG; its id.
    static func upload(_ jpeg: [UInt8], with client: LoopbackClient) async throws -> String {
        try #require(
            try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: jpeg).json?["id"]
                as? String)
    }

    /// The parts of a `multipart/byteranges` answer: each one's Content-Type, Content-Range and bytes.
    static func parts(_ answer: HTTPAnswer) throws -> [(type: String, range: String, body: [UInt8])] {
        let type = try #require(answer.header("Content-Type"))
        let boundary = try #require(type.components(separatedBy: "boundary=").last)
        #expect(type.hasPrefix("multipart/byteranges; "))
        let delimiter = Array("\r\n--\(boundary)".utf8)
        var pieces: [[UInt8]] = []
        var rest = answer.body[...]
        while let start = Self.find(delimiter, in: rest) {
            pieces.append(Array(rest[..<start]))
            rest = rest[(start + delimiter.count)...]
        }
        #expect(Array(rest) == Array("--\r\n".utf8), "the closing delimiter ends the body")
        return try pieces.dropFirst().map { piece in
            let end = try #require(Self.find(Array("\r\n\r\n".utf8), in: piece[...]))
            let head = String(decoding: piece[..<end], as: UTF8.self).split(separator: "\r\n").map(String.init)
            func field(_ name: String) -> String {
                head.first { $0.hasPrefix(name + ": ") }.map { String($0.dropFirst(name.count + 2)) } ?? ""
            }
            return (field("Content-Type"), field("Content-Range"), Array(piece[(end + 4)...]))
        }
    }

    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in haystack.startIndex...(haystack.endIndex - needle.count)
        where haystack[index..<(index + needle.count)].elementsEqual(needle) {
            return index
        }
        return nil
    }

    /// A valid JPEG in a variant picpipe does not decode (12-bit samples) is media picpipe does not support: 415, as
    /// for a non-image, and not 422 "corrupt", which tells the user the file is damaged (until session 34: 422
    /// `unprocessable_image` "corrupt JPEG data: Unsupported JPEG data precision 12").
    @Test func anUnsupportedJPEGVariantIs415AndNotCalledCorrupt() async throws {
        var bytes = try FetchServer.picture()
        var at = 2
        while at + 4 < bytes.count, bytes[at + 1] != 0xC0 {
            at += 2 + (Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]))
        }
        try #require(at + 4 < bytes.count && bytes[at + 1] == 0xC0)
        bytes[at + 1] = 0xC1  // extended sequential, as 12-bit files are
        bytes[at + 4] = 12
        let twelveBit = bytes
        try await FetchServer.with { client, layout in
            for (method, target) in [("POST", "/images"), ("PUT", "/images/twelve-bit")] {
                let answer = try await client.send(
                    method, target, headers: [("Content-Type", "image/jpeg")], body: twelveBit)
                #expect(answer.status == 415, "\(method): \(answer.text)")
                #expect(answer.errorCode == "unsupported_media_type", "\(method): \(answer.text)")
                #expect(
                    answer.text.contains("unsupported JPEG: 12-bit samples (picpipe decodes 8-bit JPEG)"),
                    "\(method): \(answer.text)")
                #expect(!answer.text.contains("corrupt"), "\(method): \(answer.text)")
            }
            #expect(FetchServer.files(under: layout.originals).isEmpty)
            #expect(FetchServer.files(under: layout.uploads).isEmpty)
        }
    }

    @Test func metadataAndListing() async throws {
        try await FetchServer.with { client, _ in
            var ids: [String] = []
            for seed in 0..<3 {
                let bytes = try FetchServer.picture(seed: UInt8(seed * 40))
                let answer = try await client.send(
                    "POST", "/images", headers: [("Content-Type", "image/jpeg")], body: bytes)
                ids.append(try #require(answer.json?["id"] as? String))
            }
            let named = try await client.send(
                "PUT", "/images/holiday.cat", headers: [("Content-Type", "image/png")],
                body: try FetchServer.picture(.png))
            #expect(named.status == 201)
            // Metadata is read on demand when the function has not run yet.
            for id in ids + ["holiday.cat"] {
                let metadata = try await client.send("GET", "/images/\(id)/metadata")
                #expect(metadata.status == 200)
                #expect(metadata.json?["id"] as? String == id)
                #expect(metadata.json?["width"] as? Int == 400)
            }
            var listed: [String] = []
            var cursor: String?
            repeat {
                let page = try await client.send("GET", "/images?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(page.status == 200)
                let items = try #require(page.json?["items"] as? [[String: Any]])
                #expect(items.count <= 2)
                for item in items {
                    listed.append(try #require(item["id"] as? String))
                    let urls = try #require(item["urls"] as? [String: Any])
                    let thumbnails = try #require(urls["thumbnails"] as? [String: String])
                    #expect(Set(thumbnails.keys) == ["64", "256"])
                    #expect(item["width"] as? Int == 400)
                }
                cursor = page.json?["next_cursor"] as? String
            } while cursor != nil
            #expect(Set(listed) == Set(ids + ["holiday.cat"]))
            #expect(listed.count == 4)
            let filtered = try await client.send("GET", "/images?make=NoSuchCamera")
            #expect((filtered.json?["items"] as? [Any])?.isEmpty == true)
            let badBox = try await client.send("GET", "/images?bbox=1,2,3")
            #expect(badBox.status == 400)
            #expect(badBox.errorCode == "bad_request")
            // Decimal numbers only: until session 31 Swift's Double(String) read 0x1 as 1 and 0x0.8p0 as 0.5.
            for hex in ["bbox=0x0,0x0,0x1,0x1", "near=0x0.8p0,0.5,1"] {
                let refused = try await client.send("GET", "/images?" + hex)
                #expect(refused.status == 400, "\(hex)")
                #expect(refused.text.contains("decimal numbers"), "\(hex) \(refused.text)")
            }
            let badLimit = try await client.send("GET", "/images?limit=0")
            #expect(badLimit.status == 400)
            // A time bound is compared as text: "2020-13-01" meant "after 2020" and "yesterday" "nothing", silently.
            for bad in [
                "taken_after=2020-13-01", "taken_before=2023-02-29", "taken_after=yesterday",
                "taken_after=2024-05-01T24:00",
            ] {
                let refused = try await client.send("GET", "/images?" + bad)
                #expect(refused.status == 400, "\(bad)")
                #expect(refused.text.contains("must be a time like 2024, 2024-05-01"), "\(bad) \(refused.text)")
            }
            for good in ["taken_after=2024-02-29", "taken_before=2025", "taken_after=2024:05:01%2010:30"] {
                #expect(try await client.send("GET", "/images?" + good).status == 200, "\(good)")
            }
        }
    }

    @Test func putReplacesAndDeleteCleansEverything() async throws {
        let first = try FetchServer.picture(seed: 10)
        let second = try FetchServer.picture(seed: 200)
        try await FetchServer.with { client, layout in
            let created = try await client.send(
                "PUT", "/images/cat-1", headers: [("Content-Type", "image/jpeg")], body: first)
            #expect(created.status == 201)
            #expect(created.header("Location") == "/images/cat-1")
            let firstHash = try #require(created.json?["sha256"] as? String)
            let thumbnail = try await client.send("GET", "/images/cat-1/thumbnails/64")
            #expect(thumbnail.status == 200)
            #expect(thumbnail.header("Cache-Control") == "public, no-cache")

            let replaced = try await client.send(
                "PUT", "/images/cat-1", headers: [("Content-Type", "image/jpeg")], body: second)
            #expect(replaced.status == 200)
            let secondHash = try #require(replaced.json?["sha256"] as? String)
            #expect(secondHash != firstHash)
            let original = try await client.send("GET", "/images/cat-1")
            #expect(original.body == second)
            // The old content had no other id: its original and thumbnails are gone when the PUT answers, even while
            // the first upload's own thumbnail invocation still runs (it writes in the content's turn, only while the
            // original is there; until session 35 it could write after the removal and remove them a moment later).
            let firstFiles = FetchServer.files(under: layout.root).filter { $0.contains(firstHash) }
            #expect(firstFiles.isEmpty, "\(firstFiles)")
            let newThumbnail = try await client.send("GET", "/images/cat-1/thumbnails/256")
            #expect(newThumbnail.header("ETag")?.contains(secondHash) == true)

            // A second id on the same content keeps it alive through the first id's DELETE.
            #expect(
                try await client.send("PUT", "/images/cat-2", headers: [("Content-Type", "image/jpeg")], body: second)
                    .status == 201)
            _ = try await client.send("GET", "/images/cat-1/metadata")
            // /cameras counts what the listing lists: both names (the gallery's count said 1).
            let listed = try await client.send("GET", "/images").json?["items"] as? [Any]
            #expect(listed?.count == 2)
            #expect(try await client.send("GET", "/cameras").json?["total"] as? Int == 2)
            #expect(try await client.send("DELETE", "/images/cat-1").status == 204)
            #expect(try await client.send("GET", "/images/cat-1").status == 404)
            #expect(try await client.send("GET", "/images/cat-2").status == 200)
            #expect(FetchServer.files(under: layout.originals).contains { $0.contains(secondHash) })

            #expect(try await client.send("DELETE", "/images/cat-2").status == 204)
            let gone = try await client.send("GET", "/images/cat-2/thumbnails/64")
            #expect(gone.status == 404)
            #expect(gone.errorCode == "not_found")
            #expect(try await client.send("GET", "/images/\(secondHash)").status == 404)
            let remaining = FetchServer.files(under: layout.root).filter { !$0.hasPrefix("db/") }
            #expect(!remaining.contains { $0.contains(secondHash) })
            #expect(FetchServer.files(under: layout.thumbnails).isEmpty)
            let list = try await client.send("GET", "/images")
            #expect((list.json?["items"] as? [Any])?.isEmpty == true)
            #expect(try await client.send("DELETE", "/images/cat-2").status == 404)
        }
    }

    /// A thumbnail asked for after its picture's original was removed by hand: the thumbnail function, run now,
    /// finds no such key, and the picture is gone (404), as it was while the function answered "skipped" (until
    /// session 30; a function error would be a 422).
    @Test func aThumbnailOfAnOriginalRemovedByHandIsNotFound() async throws {
        let jpeg = try FetchServer.picture(seed: 12)
        try await FetchServer.with { client, layout in
            let created = try await client.send(
                "PUT", "/images/gone", headers: [("Content-Type", "image/jpeg")], body: jpeg)
            #expect(created.status == 201)
            for area in [layout.originals, layout.thumbnails] {
                for name in FetchServer.files(under: area) {
                    try FileManager.default.removeItem(at: area.appendingPathComponent(name))
                }
            }
            let answer = try await client.send("GET", "/images/gone/thumbnails/64")
            #expect(answer.status == 404, "\(answer.text)")
            #expect(answer.errorCode == "not_found")
        }
    }

    @Test func aDroppedPictureOutlivesTheDeleteOfAnotherIdForItsBytes() async throws {
        let bytes = try FetchServer.picture(seed: 30)
        let hash = bytes.withUnsafeBytes { ContentHash(of: $0) }.hex
        try await FetchServer.with { client, layout in
            // Dropped into uploads/: stored by its hash, its metadata row names the file it came as.
            var row = ImageMetadata(file: "")
            row.sha256 = hash
            let original = try FetchServer.dropped(bytes, row: row, sourceName: "gps1.jpg", in: layout)

            let alias = try await client.send(
                "PUT", "/images/gps-alias", headers: [("Content-Type", "image/jpeg")], body: bytes)
            #expect(alias.status == 201)
            let listed = try #require(try await client.send("GET", "/images").json?["items"] as? [[String: Any]])
            let names = Dictionary(
                uniqueKeysWithValues: listed.map { ($0["id"] as? String ?? "", $0["name"] as? String) })
            #expect(
                names == [hash: "gps1.jpg", "gps-alias": "gps-alias"],
                "the dropped picture stays listed beside the new id")

            // The hash in capitals is not a name of its own (it would read as one picture and serve another).
            let capitals = try await client.send(
                "PUT", "/images/\(hash.uppercased())", headers: [("Content-Type", "image/jpeg")], body: bytes)
            #expect(capitals.status == 400)
            #expect(capitals.text.contains("written in lowercase"))

            #expect(try await client.send("DELETE", "/images/gps-alias").status == 204)
            #expect(try await client.send("GET", "/images/\(hash)").body == bytes)
            #expect(FileManager.default.fileExists(atPath: original.path))
            #expect(try await client.send("DELETE", "/images/\(hash)").status == 204)
            #expect(try await client.send("GET", "/images/\(hash)").status == 404)
            #expect(!FileManager.default.fileExists(atPath: original.path))
        }
    }

    /// A page that ends inside a picture's ids, whose picture is deleted before the next page is read: the next page
    /// lists the following picture whole (its ids that sort before the cursor's id were skipped).
    @Test func aCursorSkipsNothingOfTheNextPictureWhenItsOwnIsDeleted() async throws {
        let (one, two) = (try FetchServer.picture(seed: 60), try FetchServer.picture(seed: 90))
        try await FetchServer.with { client, _ in
            for (id, bytes) in [("p-1", one), ("p-2", one), ("q-1", two), ("q-2", two)] {
                #expect(
                    try await client.send(
                        "PUT", "/images/\(id)", headers: [("Content-Type", "image/jpeg")], body: bytes
                    )
                    .status == 201)
            }
            func ids(_ query: String) async throws -> ([String], String?) {
                let page = try await client.send("GET", "/images?" + query)
                let items = (page.json?["items"] as? [[String: Any]]) ?? []
                return (items.compactMap { $0["id"] as? String }, page.json?["next_cursor"] as? String)
            }
            // Which picture comes first; the second gets an id that sorts before every id of the first.
            let (all, _) = try await ids("limit=10")
            let (first, second) = all.first?.hasPrefix("p") == true ? ("p", "q") : ("q", "p")
            let early = try await client.send(
                "PUT", "/images/a-0", headers: [("Content-Type", "image/jpeg")], body: second == "p" ? one : two)
            #expect(early.status == 201)
            let (page, cursor) = try await ids("limit=1")
            #expect(page == ["\(first)-1"])
            for id in ["\(first)-1", "\(first)-2"] {
                #expect(try await client.send("DELETE", "/images/\(id)").status == 204)
            }
            let (rest, end) = try await ids("limit=10&cursor=\(try #require(cursor))")
            #expect(rest == ["a-0", "\(second)-1", "\(second)-2"])
            #expect(end == nil)
        }
    }

    @Test func serviceRoutesAndMethodErrors() async throws {
        try await FetchServer.with { client, _ in
            let health = try await client.send("GET", "/healthz")
            #expect(health.status == 200)
            #expect(health.json?["status"] as? String == "ok")
            _ = try await client.send("GET", "/images/nothing-here")
            let metrics = try await client.send("GET", "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
            #expect(metrics.text.contains("picpipe_http_requests_total{"))
            #expect(metrics.text.contains("route=\"/images/{id}\""))
            #expect(metrics.text.contains("status=\"404\""))
            #expect(metrics.text.contains("picpipe_http_request_duration_seconds_bucket"))

            let wrong = try await client.send("PATCH", "/images")
            #expect(wrong.status == 405)
            #expect(wrong.errorCode == "method_not_allowed")
            #expect(wrong.header("Allow") == "GET, HEAD, POST")
            #expect(try await client.send("POST", "/images/abc/metadata").status == 405)
            let unknown = try await client.send("GET", "/nope")
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "not_found")
            let size = try await client.send("GET", "/images/\(String(repeating: "a", count: 64))/thumbnails/999")
            #expect(size.status == 404)
            #expect(size.errorCode == "unknown_size")
        }
    }

    @Test func openAPIDocumentListsExactlyTheRouterRoutes() async throws {
        try await FetchServer.with { client, _ in
            let answer = try await client.send("GET", "/openapi.json")
            #expect(answer.status == 200)
            let paths = try #require(answer.json?["paths"] as? [String: [String: Any]])
            var documented: Set<String> = []
            for (path, item) in paths {
                for method in ["get", "head", "post", "put", "delete", "patch", "options"] where item[method] != nil {
                    documented.insert("\(method.uppercased()) \(path)")
                }
            }
            #expect(documented == (try OpenAPIDocument.operations()))
            let served = Set(try FetchServer.routes().map { "\($0.method.rawValue) \($0.path)" })
            #expect(documented == served)
            // Every documented operation reaches its handler (no router 404 or 405).
            for operation in documented {
                let parts = operation.split(separator: " ")
                var target = String(parts[1]).replacingOccurrences(of: "{id}", with: "x").replacingOccurrences(
                    of: "{size}", with: "64")
                // The event stream stays open; a malformed resume position reaches its handler and ends at once (400).
                if target == "/events/stream" { target += "?last_event_id=x" }
                let reply = try await client.send(
                    String(parts[0]), target, headers: [("Content-Type", "text/plain")], body: [])
                #expect(reply.status != 405, "\(operation)")
                if reply.status == 404, parts[0] != "HEAD" {
                    #expect(reply.errorCode == "not_found" && !reply.text.contains("no route"), "\(operation)")
                }
            }
        }
    }

    /// HEAD wherever GET is: the GET's status and headers without its body (a 405 before: `HEAD /healthz` from a
    /// monitor, `HEAD /` from a link checker).
    @Test func headAnswersAsGetWithoutTheBody() async throws {
        try await FetchServer.with { client, _ in
            let picture = try FetchServer.picture(seed: 9)
            let id = try #require(
                try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: picture)
                    .json?["id"] as? String)
            for target in [
                "/healthz", "/images?limit=5", "/", "/openapi.json", "/openapi.yaml", "/cameras",
                "/images/\(id)/metadata", "/images?limit=0",
            ] {
                let get = try await client.send("GET", target)
                // Read as if it had a body: every byte up to the close (nothing may follow the head).
                let head = try await client.raw(
                    Array("HEAD \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8))
                #expect(head.status == get.status, "\(target)")
                #expect(head.body.isEmpty, "\(target)")
                #expect(head.header("Content-Type") == get.header("Content-Type"), "\(target)")
                #expect(head.header("Content-Length") == String(get.body.count), "\(target)")
            }
            let asset = try #require(Self.galleryAssetPath(in: try await client.send("GET", "/").text))
            let head = try await client.raw(
                Array("HEAD \(asset) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8))
            #expect(head.status == 200 && head.body.isEmpty && head.header("ETag") != nil)
        }
    }

    /// The first `/gallery/…` asset a page names.
    static func galleryAssetPath(in page: String) -> String? {
        guard let start = page.range(of: "/gallery/") else { return nil }
        return String(page[start.lowerBound...].prefix { $0 != "\"" })
    }

    @Test func theOpenAPIDocumentHasNoKeyWithoutAValue() throws {
        // A comma inside an unquoted flow-mapping description splits it into a second key with a null value
        // ("As GET, without a body." became {"description": "As GET", "without a body.": null}).
        let object = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8))
        var nullKeys: [String] = []
        func walk(_ value: Any, _ path: String) {
            if let dictionary = value as? [String: Any] {
                for (key, child) in dictionary {
                    if child is NSNull { nullKeys.append(path + "/" + key) }
                    walk(child, path + "/" + key)
                }
            } else if let array = value as? [Any] {
                for (index, child) in array.enumerated() { walk(child, path + "/\(index)") }
            }
        }
        walk(object, "")
        #expect(nullKeys == [])
        #expect(OpenAPIDocument.json.count > 1000)
    }

    @Test func aFailedImportsMessageHasNoRepeatedCodeNorBuildPaths() throws {
        // The fetch function's error as the runtime returns it: `<URL>: <code>: <reason>` (before session 31 also
        // `<code>: <reason>`).
        let tls = ImageAPI.importError(
            .object([
                "errorType": .string("ImportFailure"),
                "errorMessage": .string(
                    "import_failed: https://127.0.0.1:1/x.jpg could not be fetched (SSL error: error:100000f7:SSL "
                        + "routines:OPENSSL_internal:WRONG_VERSION_NUMBER at /work/main/.build/checkouts/swift-nio-ssl/"
                        + "Sources/CNIOBoringSSL/ssl/tls_record.cc:127]); nothing was kept"),
            ]), url: "https://127.0.0.1:1/x.jpg")
        #expect(tls.code == "import_failed")
        #expect(
            tls.message
                == "https://127.0.0.1:1/x.jpg could not be fetched (SSL error: error:100000f7:SSL "
                + "routines:OPENSSL_internal:WRONG_VERSION_NUMBER]); nothing was kept")
        let refused = ImageAPI.importError(
            .object([
                "errorType": .string("Unprocessable"),
                "errorMessage": .string("http://10.0.0.1/x.jpg: url_refused: the address 10.0.0.1 is private"),
            ]), url: "http://10.0.0.1/x.jpg")
        // The URL stays, once (until session 31 it went with the code).
        #expect(refused.code == "url_refused")
        #expect(refused.message == "http://10.0.0.1/x.jpg: the address 10.0.0.1 is private")
    }

    @Test func everyAuthenticatedOperationListsTheAuthStatuses() throws {
        // Every operation the document says takes credentials (it keeps the document's bearer security) can answer
        // 401 (no or bad credentials), 403 (a missing scope; not where any scope will do, GET /auth/me), 429 (over
        // the usage plan) and 503 (the token issuer cannot be reached): the list comes from the document, so a new
        // route cannot forget them.
        let root = try #require(
            try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
        let anyScope = Set(
            try FetchServer.routes().filter { $0.access == .credentialed }.map { "\($0.method.rawValue) \($0.path)" })
        let global = root["security"] as? [[String: Any]] ?? []
        let paths = try #require(root["paths"] as? [String: Any])
        var authenticated: [String] = []
        var missing: [String] = []
        for (path, item) in paths {
            guard let item = item as? [String: Any] else { continue }
            for method in ["get", "head", "post", "put", "delete", "patch", "options"] {
                guard let operation = item[method] as? [String: Any] else { continue }
                let security = operation["security"] as? [[String: Any]] ?? global
                guard security.contains(where: { $0["bearer"] != nil }) else { continue }
                authenticated.append("\(method.uppercased()) \(path)")
                let responses = operation["responses"] as? [String: Any] ?? [:]
                let operationName = "\(method.uppercased()) \(path)"
                for status in ["401", "403", "429", "503"] where responses[status] == nil {
                    if status == "403" && anyScope.contains(operationName) { continue }
                    missing.append("\(operationName) \(status)")
                }
            }
        }
        #expect(authenticated.count > 10)
        #expect(authenticated.contains("GET /cameras") && authenticated.contains("GET /events/stream"))
        #expect(missing.sorted() == [])
        #expect(anyScope == ["GET /auth/me", "HEAD /auth/me"])
        // And the document's open operations are the routes anyone may call.
        let open = Set(
            try FetchServer.routes().filter { $0.access == .open }.map { "\($0.method.rawValue) \($0.path)" })
        #expect(open.isDisjoint(with: authenticated))
    }

    @Test func everyPathAnswers405ToMethodsItDoesNotServe() async throws {
        try await FetchServer.with { client, _ in
            for method in ["TRACE", "QUERY", "PATCH"] {
                let reply = try await client.send(method, "/healthz")
                #expect(reply.status == 405, "\(method)")
                #expect(reply.header("Allow") == "GET, HEAD")
            }
        }
    }

    /// Methods no route names at all (WebDAV's) are 405 with `Allow` on a path that has routes, as TRACE is, and a
    /// 404 elsewhere; until session 32 they were 404 "no route" everywhere.
    @Test func methodsNoRouteNamesAre405OnPathsThatHaveRoutes() async throws {
        try await FetchServer.with { client, _ in
            for (method, path, allowed) in [
                ("PROPFIND", "/images", "GET, HEAD, POST"), ("LOCK", "/images", "GET, HEAD, POST"),
                ("PROPFIND", "/healthz", "GET, HEAD"), ("MKCOL", "/images/abc", "GET, HEAD, PUT, DELETE"),
            ] {
                let reply = try await client.send(method, path)
                #expect(reply.status == 405, "\(method) \(path): \(reply.text)")
                #expect(reply.header("Allow") == allowed, "\(method) \(path)")
                #expect(reply.errorCode == "method_not_allowed", "\(reply.text)")
            }
            #expect(try await client.send("PROPFIND", "/nowhere").status == 404)
        }
    }

    /// A path that climbs out of `/images/` over several segments is 400, as a single `..` is (the README's error
    /// list; `invalid_path` as any dot segment since session 36, `invalid_id` before); until session 32 it was a 404
    /// "no route". Nothing outside the store is ever served.
    @Test func aClimbOverSeveralSegmentsIsRefused() async throws {
        try await FetchServer.with { client, _ in
            for path in ["/images/../../etc/passwd", "/images/%2e%2e/%2e%2e/etc/passwd", "/images/a/%2E%2E/b/c"] {
                let reply = try await client.send("GET", path)
                #expect(reply.status == 400, "\(path): \(reply.text)")
                #expect(reply.errorCode == "invalid_path", "\(path): \(reply.text)")
            }
            #expect(try await client.send("GET", "/images/a/b/c/d").status == 404)
        }
    }
}
