// When each thumbnail size's recipes took effect: dated at a change (a revert too), kept across restarts, and the
// floor of every thumbnail answer's Last-Modified, cached or read from disk.
import Foundation
import NIOCore
import PipelineCore
import Testing

@testable import FetchService

@Suite struct ThumbnailRecipeDatesTests {
    static let q82 = "jpeg:inside-q82-srgb"
    static let q60 = "jpeg:inside-q60-srgb"

    /// A size is dated when its recipes change, going back to earlier ones included, and keeps its date otherwise,
    /// across a restart (the dates are kept in the store) and while it is not configured.
    @Test func aSizeIsDatedWhenItsRecipesChangeAndKeepsItsDateOtherwise() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("recipe-dates-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let layout = StoreLayout(root: root)
        try layout.createFolders()
        let start = Date(timeIntervalSince1970: 1_000_000)
        var dates = ThumbnailRecipeDates(layout: layout)
        #expect(dates.update(["128": Self.q82, "256": Self.q82], now: start) == ["128": 1_000_000, "256": 1_000_000])

        var restarted = ThumbnailRecipeDates(layout: layout)
        #expect(
            restarted.update(["128": Self.q82, "256": Self.q82], now: start + 500)
                == ["128": 1_000_000, "256": 1_000_000])
        #expect(
            restarted.update(["128": Self.q60, "256": Self.q82], now: start + 600)
                == ["128": 1_000_600, "256": 1_000_000])
        // Back to q82: other bytes at the URL again, so a new date, not the first one.
        #expect(restarted.update(["128": Self.q82, "256": Self.q82], now: start + 700)["128"] == 1_000_700)
        // 256 left out, then given back as it was: the same bytes, the same date.
        #expect(restarted.update(["128": Self.q82], now: start + 800) == ["128": 1_000_700])
        #expect(restarted.update(["128": Self.q82, "256": Self.q82], now: start + 900)["256"] == 1_000_000)
        #expect(ThumbnailRecipeDates(layout: layout).entries == restarted.entries)
    }

    /// A cached thumbnail is dated by the later of its file's time and its size's recipes' date, as the date
    /// stands when it is answered (a reload moves it for entries cached before).
    @Test func aCachedThumbnailIsDatedNoEarlierThanItsSizesRecipes() throws {
        let hash = try #require(ContentHash(hex: String(repeating: "ab", count: 32)))
        let file = StoredFile(
            path: "/store/thumbnails/128/ab/x.jpg", contentType: "image/jpeg", eTag: "\"x\"",
            cacheControl: "public, max-age=86400")
        let cached = CachedFile(
            body: ByteBuffer(bytes: [1, 2, 3]), hash: hash, file: file, modified: 1_000_000, readAt: .now)
        let answer = try cached.answer(isHead: false, file: file, notModified: false, rangeHeader: nil)
        #expect(answer.fields[.lastModified] == HTTPDate.format(1_000_000))

        var reloaded = file
        reloaded.modifiedFloor = 1_000_600
        #expect(cached.lastModified(for: reloaded) == 1_000_600)
        let dated = try cached.answer(isHead: false, file: reloaded, notModified: false, rangeHeader: nil)
        #expect(dated.fields[.lastModified] == HTTPDate.format(1_000_600))
        let notModified = try cached.answer(isHead: false, file: reloaded, notModified: true, rangeHeader: nil)
        #expect(notModified.status == .notModified)
        #expect(notModified.fields[.lastModified] == HTTPDate.format(1_000_600))
    }
}
