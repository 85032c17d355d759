// The gallery page embeds the first page of cameras (the most used) and the cameras of its URL's make/model filter,
// not every camera: its weight does not grow with the library (until session 35 it embedded them all, 156 KB of a
// 191 KB page at 2,787 cameras). The camera filter finds the others by typing (`GET /cameras?match=`).
import Foundation
import MetadataService
import PipelineCore
import Testing

@testable import FetchService

struct GalleryCameraPageTests {
    /// Metadata rows of pictures taken with cameras `range` ("Make 0042" "Model 0042"), `count(i)` pictures each.
    static func dropCameras(_ range: Range<Int>, count: (Int) -> Int = { _ in 1 }, in layout: StoreLayout) throws {
        for camera in range {
            for copy in 0..<count(camera) {
                let number = camera * 10 + copy
                var row = ImageMetadata(file: "")
                row.sha256 = String(repeating: "0", count: 56) + String(format: "%08x", number)
                row.make = String(format: "Make %04d", camera)
                row.model = String(format: "Model %04d", camera)
                try FetchServer.dropped(
                    [0xFF, 0xD8, 0xFF, 0xD9] + withUnsafeBytes(of: number) { Array($0) }, row: row,
                    sourceName: String(format: "p%08d.jpg", number), in: layout)
            }
        }
    }

    /// The cameras a page embeds (`{total, cameras}`), and the page's size.
    static func embedded(_ path: String, client: LoopbackClient) async throws -> (
        total: Int?, names: [String], bytes: Int
    ) {
        let page = try await client.send("GET", path)
        let data = try #require(try GalleryAssetsTests.initialData(page.text), "\(path) embeds its data")
        let cameras = try #require(data["cameras"] as? [String: Any], "\(path) embeds cameras")
        let items = cameras["cameras"] as? [[String: Any]] ?? []
        return (cameras["total"] as? Int, items.compactMap { $0["make"] as? String }, page.body.count)
    }

    @Test func pageEmbedsTheMostUsedCamerasNotEveryOne() async throws {
        try await FetchServer.with { client, layout in
            // The first ten cameras are the most used (two pictures each).
            try Self.dropCameras(0..<150, count: { $0 < 10 ? 2 : 1 }, in: layout)
            let before = try await Self.embedded("/", client: client)
            try Self.dropCameras(150..<300, in: layout)
            let after = try await Self.embedded("/", client: client)
            #expect(after.total == 310, "the total still counts every picture")
            #expect(after.names.count == GalleryPage.cameraPageSize, "\(after.names.count) cameras embedded")
            #expect(after.names.prefix(10) == ArraySlice((0..<10).map { String(format: "Make %04d", $0) }))
            #expect(!after.names.contains("Make 0299"))
            // 150 cameras more weighed 7.8 KB more before session 35; now the page is as heavy as it was.
            #expect(abs(after.bytes - before.bytes) < 100, "\(before.bytes) bytes, then \(after.bytes)")

            // A camera the URL's filter names, outside the first page, is embedded too (whatever its case): the
            // page shows it chosen and counts its pictures.
            let chosen = try await Self.embedded("/?make=make%200299", client: client)
            #expect(chosen.names.count == GalleryPage.cameraPageSize + 1)
            #expect(chosen.names.contains("Make 0299"))
            let model = try await Self.embedded("/?model=MODEL%200250&taken_after=2001", client: client)
            #expect(model.names.contains("Make 0250"))
        }
    }
}
