// The in-memory thumbnail cache: a hit answers exactly as a read from disk, removed or replaced content is never
// served from it, ranges still work, and the cache keeps to its budget.
import Foundation
import NIOCore
import PipelineCore
import Testing

@testable import FetchService

@Suite(.serialized)
struct FileCacheTests {
    /// The headers that must be identical between a miss and a hit (Date differs by design).
    static let described = [
        "ETag", "Last-Modified", "Content-Type", "Content-Length", "Cache-Control", "Accept-Ranges",
    ]

    @Test func aHitAnswersAsTheMissDid() async throws {
        let jpeg = try FetchServer.picture(seed: 33)
        try await FetchServer.with { client, _ in
            let posted = try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: jpeg)
            let id = try #require(posted.json?["id"] as? String)
            let path = "/images/\(id)/thumbnails/256"
            let miss = try await client.send("GET", path)
            #expect(miss.status == 200)
            let hit = try await client.send("GET", path)
            #expect(hit.status == 200)
            #expect(hit.body == miss.body)
            for name in Self.described { #expect(hit.header(name) == miss.header(name), "\(name)") }
            #expect(hit.header("Content-Length") == String(hit.body.count))
            #expect(hit.header("Cache-Control") == "public, max-age=86400")

            let head = try await client.send("HEAD", path)
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            for name in Self.described { #expect(head.header(name) == miss.header(name), "\(name)") }

            let etag = try #require(miss.header("ETag"))
            let notModified = try await client.send("GET", path, headers: [("If-None-Match", "W/\(etag)")])
            #expect(notModified.status == 304)
            #expect(notModified.body.isEmpty)
            #expect(notModified.header("ETag") == etag)
            #expect(notModified.header("Last-Modified") == miss.header("Last-Modified"))

            let part = try await client.send("GET", path, headers: [("Range", "bytes=10-19")])
            #expect(part.status == 206)
            #expect(part.body == Array(miss.body[10...19]))
            #expect(part.header("Content-Range") == "bytes 10-19/\(miss.body.count)")
            #expect(part.header("Content-Length") == "10")
            let tail = try await client.send("GET", path, headers: [("Range", "bytes=-5")])
            #expect(tail.status == 206)
            #expect(tail.body == Array(miss.body.suffix(5)))
            let stale = try await client.send(
                "GET", path, headers: [("Range", "bytes=0-3"), ("If-Range", "\"other\"")])
            #expect(stale.status == 200)
            #expect(stale.body == miss.body)
            // If-Range with the Last-Modified date resumes as nginx does; another date sends the whole file (until
            // session 28 a date never matched).
            let lastModified = try #require(miss.header("Last-Modified"))
            let byDate = try await client.send(
                "GET", path, headers: [("Range", "bytes=0-3"), ("If-Range", lastModified)])
            #expect(byDate.status == 206)
            #expect(byDate.body == Array(miss.body[0...3]))
            let otherDate = try await client.send(
                "GET", path, headers: [("Range", "bytes=0-3"), ("If-Range", "Sun, 06 Nov 1994 08:49:37 GMT")])
            #expect(otherDate.status == 200)
            #expect(otherDate.body == miss.body)
            let past = try await client.send("GET", path, headers: [("Range", "bytes=\(miss.body.count)-")])
            #expect(past.status == 416)
            #expect(past.header("Content-Range") == "bytes */\(miss.body.count)")
        }
    }

    @Test func deletedAndReplacedContentIsNotServedFromTheCache() async throws {
        let first = try FetchServer.picture(seed: 60)
        let second = try FetchServer.picture(seed: 160)
        try await FetchServer.with { client, _ in
            let created = try await client.send(
                "PUT", "/images/dog", headers: [("Content-Type", "image/jpeg")], body: first)
            let firstHash = try #require(created.json?["sha256"] as? String)
            let before = try await client.send("GET", "/images/dog/thumbnails/64")
            #expect(try await client.send("GET", "/images/dog/thumbnails/64").body == before.body)
            #expect(before.header("Cache-Control") == "public, no-cache")

            // The content id of the same bytes shares the cached file, with its own Cache-Control.
            let byHash = try await client.send(
                "PUT", "/images/\(firstHash)", headers: [("Content-Type", "image/jpeg")], body: first)
            #expect(byHash.status == 201)
            let shared = try await client.send("GET", "/images/\(firstHash)/thumbnails/64")
            #expect(shared.body == before.body)
            #expect(shared.header("ETag") == before.header("ETag"))
            #expect(shared.header("Cache-Control") == "public, max-age=86400")
            #expect(
                try await client.send("GET", "/images/dog/thumbnails/64").header("Cache-Control") == "public, no-cache")
            #expect(try await client.send("DELETE", "/images/\(firstHash)").status == 204)

            _ = try await client.send("PUT", "/images/dog", headers: [("Content-Type", "image/jpeg")], body: second)
            let after = try await client.send("GET", "/images/dog/thumbnails/64")
            #expect(after.status == 200)
            #expect(after.body != before.body)
            #expect(after.header("ETag") != before.header("ETag"))
            #expect(try await client.send("GET", "/images/\(firstHash)/thumbnails/64").status == 404)

            #expect(try await client.send("DELETE", "/images/dog").status == 204)
            #expect(try await client.send("GET", "/images/dog/thumbnails/64").status == 404)
            // Uploaded again, the content is served from the new files, not from anything kept.
            let again = try await client.send(
                "POST", "/images", headers: [("Content-Type", "image/jpeg")], body: second)
            let secondHash = try #require(again.json?["id"] as? String)
            let fresh = try await client.send("GET", "/images/\(secondHash)/thumbnails/64")
            #expect(fresh.status == 200)
            #expect(fresh.body == after.body)
        }
    }

    @Test func anOriginalRemovedBehindTheServersBackStopsItsThumbnailsWithinTheRevalidation() async throws {
        let jpeg = try FetchServer.picture(seed: 41)
        try await FetchServer.with { client, layout in
            let posted = try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: jpeg)
            let id = try #require(posted.json?["id"] as? String)
            let path = "/images/\(id)/thumbnails/64"
            let kept = try await client.send("GET", path)
            #expect(kept.status == 200)
            #expect(try await client.send("GET", path).body == kept.body)
            // Not through the API: nothing invalidates the cache, only its next read from disk finds out.
            for name in FetchServer.files(under: layout.originals) {
                try FileManager.default.removeItem(at: layout.originals.appendingPathComponent(name))
            }
            try await Task.sleep(for: .milliseconds(1_100))
            // The first request past the revalidation checks the entry on disk before it is answered: the original
            // is gone, so it is a 404, and so is every one after it (until session 33 that first request was still
            // given the thumbnail, and the read behind it dropped the entry: after a DELETE by another process,
            // each size held was served once more, however long after).
            #expect(try await client.send("GET", path).status == 404)
            #expect(try await client.send("HEAD", path).status == 404)
            #expect(try await client.send("GET", path).status == 404)
        }
    }

    /// A thumbnail whose file and original are still there is trusted again after the check, and one whose file
    /// changed on disk is read again: the answer is the new bytes at once.
    @Test func aDueThumbnailIsCheckedOnDiskBeforeItIsAnswered() async throws {
        let jpeg = try FetchServer.picture(seed: 42)
        try await FetchServer.with { client, layout in
            let posted = try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: jpeg)
            let id = try #require(posted.json?["id"] as? String)
            let path = "/images/\(id)/thumbnails/64"
            let kept = try await client.send("GET", path)
            #expect(kept.status == 200)
            try await Task.sleep(for: .milliseconds(1_100))
            #expect(try await client.send("GET", path).body == kept.body)
            // Its file rewritten behind the server's back (other bytes, another size): the next due request reads it.
            let thumbnail = try #require(
                FetchServer.files(under: layout.thumbnails).first { $0.hasPrefix("64/") })
            let url = layout.thumbnails.appendingPathComponent(thumbnail)
            let replaced = Data(kept.body + [0xFF, 0xD9])
            try replaced.write(to: url)
            try await Task.sleep(for: .milliseconds(1_100))
            let again = try await client.send("GET", path)
            #expect(again.status == 200)
            #expect(Data(again.body) == replaced)
        }
    }

    @Test func oneAskerReadsADueFileAgainWhileTheOthersAreAnsweredFromTheEntry() throws {
        let cache = FileCache(budget: 1_000, entryLimit: 100, revalidateAfter: .seconds(1))
        let hash = try #require(ContentHash(hex: String(repeating: "c", count: 64)))
        let t0 = ContinuousClock.now
        func entry(_ size: Int, readAt: ContinuousClock.Instant) -> CachedFile {
            CachedFile(
                body: ByteBuffer(repeating: 7, count: size), hash: hash,
                file: StoredFile(
                    path: "", contentType: "image/jpeg", eTag: "\"e\"", cacheControl: CachePolicy.immutable),
                modified: 0, readAt: readAt)
        }
        func shortcut(_ now: ContinuousClock.Instant) -> (size: Int, reread: Bool)? {
            cache.lookupWhileRereading("/c", now: now).map { ($0.value.size, $0.reread) }
        }
        cache.insert("/c", entry(10, readAt: t0), generation: cache.generation)
        #expect(shortcut(t0 + .milliseconds(900))! == (10, false))
        // Due: the first shortcut asker is to read it again; the others get the entry meanwhile; the route does not.
        let due = t0 + .milliseconds(1_100)
        #expect(shortcut(due)! == (10, true))
        #expect(shortcut(due + .milliseconds(1))! == (10, false))
        #expect(cache.lookup("/c", now: due + .milliseconds(1)) == nil)
        // The read ends: its value is given, fresh.
        cache.insert("/c", entry(20, readAt: due + .milliseconds(2)), generation: cache.generation)
        #expect(shortcut(due + .milliseconds(3))! == (20, false))
        #expect(cache.lookup("/c", now: due + .milliseconds(3))?.size == 20)

        // A read not let in (an invalidation since it began): the next asker is to read it.
        let later = due + .milliseconds(1_100)
        #expect(shortcut(later)! == (20, true))
        let generation = cache.generation
        cache.invalidate { _ in false }
        cache.insert("/c", entry(30, readAt: later), generation: generation)
        #expect(shortcut(later + .milliseconds(1))! == (20, true))
        #expect(shortcut(later + .milliseconds(2))! == (20, false))
        // A read that never ends: after `revalidateAfter` the entry is dropped.
        #expect(shortcut(later + .milliseconds(1_002)) == nil)
        #expect(cache.usage.count == 0 && cache.usage.bytes == 0)

        // The file found missing, or grown past the entry limit: dropped at once.
        cache.insert("/c", entry(10, readAt: t0), generation: cache.generation)
        #expect(shortcut(due)! == (10, true))
        cache.remove("/c")
        #expect(shortcut(due + .milliseconds(1)) == nil)
        cache.insert("/c", entry(10, readAt: t0), generation: cache.generation)
        cache.insert("/c", entry(101, readAt: due), generation: cache.generation)
        #expect(shortcut(due + .milliseconds(2)) == nil)
        #expect(cache.usage.count == 0 && cache.usage.bytes == 0)
    }

    @Test func invalidationBudgetAndRevalidation() throws {
        let cache = FileCache(budget: 250, entryLimit: 100, revalidateAfter: .seconds(60))
        let a = try #require(ContentHash(hex: String(repeating: "a", count: 64)))
        let b = try #require(ContentHash(hex: String(repeating: "b", count: 64)))
        let now = ContinuousClock.now
        func entry(_ hash: ContentHash, _ size: Int, readAt: ContinuousClock.Instant = now) -> CachedFile {
            CachedFile(
                body: ByteBuffer(repeating: 7, count: size), hash: hash,
                file: StoredFile(
                    path: "", contentType: "image/jpeg", eTag: "\"e\"", cacheControl: CachePolicy.immutable),
                modified: 0, readAt: readAt)
        }
        cache.insert("/a/1", entry(a, 100), generation: cache.generation)
        cache.insert("/b/1", entry(b, 100), generation: cache.generation)
        #expect(cache.lookup("/a/1", now: now)?.size == 100)
        // Over the budget: the least recently used (/b/1) goes.
        cache.insert("/a/2", entry(a, 100), generation: cache.generation)
        #expect(cache.lookup("/b/1", now: now) == nil)
        #expect(cache.usage.count == 2 && cache.usage.bytes == 200)
        // Too large for one entry: not kept.
        cache.insert("/b/2", entry(b, 101), generation: cache.generation)
        #expect(cache.lookup("/b/2", now: now) == nil)

        // A read that began before an invalidation is not inserted.
        let generation = cache.generation
        cache.invalidate(hash: a)
        #expect(cache.usage.count == 0 && cache.usage.bytes == 0)
        cache.insert("/a/1", entry(a, 10), generation: generation)
        #expect(cache.lookup("/a/1", now: now) == nil)

        // An entry past its revalidation time is a miss (the file is read again).
        cache.insert("/b/1", entry(b, 10), generation: cache.generation)
        #expect(cache.lookup("/b/1", now: now + .seconds(59)) != nil)
        #expect(cache.lookup("/b/1", now: now + .seconds(61)) == nil)
    }
}

/// `Range` with several ranges: what `ByteRange.parse` makes of them.
@Suite struct ByteRangeTests {
    @Test func severalRangesAreSortedMergedAndBounded() {
        // One spec behaves as ever; several only where the caller takes them (S3 does not).
        #expect(ByteRange.parse("bytes=0-9", size: 100) == .part(0...9))
        #expect(ByteRange.parse("bytes=0-9,20-29", size: 100) == .whole)
        #expect(ByteRange.parse("bytes=0-9,20-29", size: 100, multiple: true) == .parts([0...9, 20...29]))
        // Sorted; overlapping and adjacent ranges merged; a suffix is a range like the others.
        #expect(
            ByteRange.parse("bytes=50-59, -10,0-9,5-19,20-24", size: 100, multiple: true)
                == .parts([0...24, 50...59, 90...99]))
        #expect(ByteRange.parse("bytes=0-9,10-19", size: 100, multiple: true) == .part(0...19))
        // A range past the end is dropped; all past it is 416; one malformed spec voids the header.
        #expect(ByteRange.parse("bytes=0-9,200-300", size: 100, multiple: true) == .part(0...9))
        #expect(ByteRange.parse("bytes=200-,300-400", size: 100, multiple: true) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=0-9,x-3", size: 100, multiple: true) == .whole)
        #expect(ByteRange.parse("bytes=0-9,x", size: 100, multiple: true) == .whole)
        // More than maxParts apart: the whole file.
        let many = (0...ByteRange.maxParts).map { "\($0 * 3)-\($0 * 3)" }.joined(separator: ",")
        #expect(ByteRange.parse("bytes=" + many, size: 1000, multiple: true) == .whole)
        let enough = (0..<ByteRange.maxParts).map { "\($0 * 3)-\($0 * 3)" }.joined(separator: ",")
        #expect(
            ByteRange.parse("bytes=" + enough, size: 1000, multiple: true)
                == .parts((0..<ByteRange.maxParts).map { ($0 * 3)...($0 * 3) }))
    }

    /// What RFC 9110 allows and nginx takes (until session 29 each was the whole file): the unit in any case, empty
    /// list elements, positions past `Int.max` (a last byte clamped to the end, a first one past it).
    @Test func theUnitsCaseEmptyElementsAndHugePositionsAreTaken() {
        #expect(ByteRange.parse("BYTES=0-5", size: 100) == .part(0...5))
        #expect(ByteRange.parse("Bytes=-5", size: 100) == .part(95...99))
        #expect(ByteRange.parse("bytes=0-5,", size: 100) == .part(0...5))
        #expect(ByteRange.parse("bytes=,0-5", size: 100) == .part(0...5))
        #expect(ByteRange.parse("bytes=\t, 0-5 ,, 10-19 ,", size: 100, multiple: true) == .parts([0...5, 10...19]))
        #expect(ByteRange.parse("bytes=0-99999999999999999999999", size: 100) == .part(0...99))
        #expect(ByteRange.parse("bytes=-99999999999999999999999", size: 100) == .part(0...99))
        #expect(ByteRange.parse("bytes=99999999999999999999999-", size: 100) == .unsatisfiable)
        // Still nothing to take: no range at all, another unit, a sign or space inside a position.
        let nothing = ["bytes=", "bytes=,", "bytes= , ", "items=0-5", "bytes =0-5", "bytes=+0-5", "bytes=0 -5"]
        for header in nothing {
            #expect(ByteRange.parse(header, size: 100) == .whole, "\(header)")
        }
    }

    @Test func theMultipartBodyIsAsLongAsItSays() {
        let file = (0..<200).map { UInt8($0) }
        let multipart = MultipartByteRanges(ranges: [0...9, 100...199], size: 200, contentType: "image/png")
        let body = multipart.body { range in
            var buffer = ByteBuffer()
            buffer.writeBytes(file[range])
            return buffer
        }
        #expect(body.readableBytes == multipart.contentLength)
        #expect(multipart.partBytes == 110)
        let text = String(decoding: body.readableBytesView, as: UTF8.self)
        #expect(text.contains("Content-Type: image/png\r\nContent-Range: bytes 100-199/200\r\n\r\n"))
        #expect(text.hasSuffix("--\r\n") && multipart.headerValue.hasPrefix("multipart/byteranges; boundary=picpipe-"))
    }
}
