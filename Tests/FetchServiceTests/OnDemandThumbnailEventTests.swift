// A GET that makes a thumbnail at once (a size not made yet, another format) is a read: its call is journaled, but
// not as an upload (until session 32 each was a new `ObjectCreated:Put` of size 0 that `events` listed and
// `/events/stream` pushed to galleries as a new picture).
import Foundation
import PipelineCore
import Testing

@testable import FetchService

@Suite(.serialized)
struct OnDemandThumbnailEventTests {
    @Test func aThumbnailMadeForAGetIsNoUploadEvent() async throws {
        let jpeg = try FetchServer.picture()
        try await FetchServer.with { client, layout in
            let journal = try SQLiteInvocationJournal(layout: layout)
            let posted = try await client.send("POST", "/images", headers: [("Content-Type", "image/jpeg")], body: jpeg)
            let id = try #require(posted.json?["id"] as? String)
            for _ in 0..<3000 {
                let states = try journal.invocations(state: nil, function: nil, limit: 10).map(\.state)
                if states.count == 2, states.allSatisfy({ $0 == "succeeded" }) { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            // Its 256 thumbnail is missing (as when a GET comes before the queued invocation): made for the GET.
            for file in FetchServer.files(under: layout.thumbnails) where file.hasPrefix("256/") && file.contains(id) {
                try FileManager.default.removeItem(at: layout.thumbnails.appendingPathComponent(file))
            }
            let made = try await client.send("GET", "/images/\(id)/thumbnails/256")
            #expect(made.status == 200)
            #expect(Array(made.body.prefix(2)) == [0xFF, 0xD8])

            let invocations = try journal.invocations(state: nil, function: nil, limit: 10)
            let read = try #require(invocations.first)
            #expect(read.function == "thumbnail" && read.type == "RequestResponse" && read.state == "succeeded")
            #expect(read.eventName == EventName.thumbnailRequested.rawValue)
            #expect(invocations.filter { $0.eventName.hasPrefix("ObjectCreated") }.map(\.eventID).count == 2)
            #expect(Set(invocations.filter { $0.eventName.hasPrefix("ObjectCreated") }.map(\.eventID)).count == 1)
            // The stream reports the upload only.
            var cursor = PictureEventCursor(resumingAfter: 0)
            let sent = try cursor.look(in: journal, pageSize: 10).settled
            #expect(sent.map(\.name) == ["ObjectCreated:Put"])
            #expect(cursor.watermark == read.eventID, "passed over, not held back")
        }
    }
}
