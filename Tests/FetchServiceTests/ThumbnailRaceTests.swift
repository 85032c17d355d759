// A thumbnail that goes between its making and its opening (a DELETE and a PUT of the same bytes meanwhile) is made
// again: until session 31 the id still naming the same content ended the request with a 500.
import FetchService
import Foundation
import PipelineCore
import Synchronization
import Testing
import ThumbnailService

@Suite struct ThumbnailRaceTests {
    @Test func aThumbnailRemovedAfterItsMakingIsMadeAgain() async throws {
        let picture = try FetchServer.picture(seed: 41)
        let runs = ThumbnailRuns()
        let vanishing: (ThumbnailFunction, StoreLayout) -> any PipelineFunction = { function, layout in
            VanishingThumbnails(wrapped: function, layout: layout, runs: runs)
        }
        try await FetchServer.with(thumbnailFunction: vanishing) { client, layout in
            let put = try await client.send(
                "PUT", "/images/racy", headers: [("Content-Type", "image/jpeg")], body: picture)
            #expect(put.status == 201)
            // The upload's own event has made its thumbnails; they go, so the next GET makes them.
            try await ContentLockTests.until { runs.eventRuns == 1 }
            try VanishingThumbnails.removeAll(in: layout)

            runs.vanish(times: 1)
            let answer = try await client.send("GET", "/images/racy/thumbnails/64")
            #expect(answer.status == 200)
            #expect(answer.header("Content-Type") == "image/jpeg")
            #expect(answer.body.starts(with: [0xFF, 0xD8]))
            #expect(runs.vanishingLeft == 0)

            // Gone every time it is made: 503 with a time to come back, never a 500 (another size: the server keeps
            // the 64 it served in memory).
            try VanishingThumbnails.removeAll(in: layout)
            runs.vanish(times: 100)
            let refused = try await client.send("GET", "/images/racy/thumbnails/256")
            #expect(refused.status == 503)
            #expect(refused.header("Retry-After") == "1")
            #expect(refused.text.contains("was removed each time it was made"))
        }
    }
}

/// Runs of the thumbnail function for the upload's event, and how many of the API's runs are still to lose their
/// thumbnails.
final class ThumbnailRuns: Sendable {
    private let state = Mutex((eventRuns: 0, vanishing: 0))
    var eventRuns: Int { state.withLock { $0.eventRuns } }
    var vanishingLeft: Int { state.withLock { $0.vanishing } }
    func vanish(times: Int) { state.withLock { $0.vanishing = times } }

    /// Counts a run; true when its thumbnails are to go.
    func ran(forEvent: Bool) -> Bool {
        state.withLock { state in
            if forEvent {
                state.eventRuns += 1
                return false
            }
            guard state.vanishing > 0 else { return false }
            state.vanishing -= 1
            return true
        }
    }
}

/// The thumbnail function, whose thumbnails are removed right after the API's own runs (an upload's event has
/// the picture's size, the API's RequestResponse calls size 0) while `runs` says so.
struct VanishingThumbnails: PipelineFunction {
    let wrapped: ThumbnailFunction
    let layout: StoreLayout
    let runs: ThumbnailRuns

    var name: String { wrapped.name }
    var role: FunctionRole { wrapped.role }
    var subscriptions: Set<String> { wrapped.subscriptions }
    var judgesOriginals: Bool { wrapped.judgesOriginals }

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        let result = try await wrapped.handle(record, context: context)
        if runs.ran(forEvent: record.s3.object.size != 0) { try Self.removeAll(in: layout) }
        return result
    }

    func validate(_ record: S3EventRecord, context: FunctionContext) throws {
        try wrapped.validate(record, context: context)
    }

    /// Removes every thumbnail file of the store.
    static func removeAll(in layout: StoreLayout) throws {
        let files = FileManager.default.enumerator(at: layout.thumbnails, includingPropertiesForKeys: nil)
        while let file = files?.nextObject() as? URL {
            if !file.hasDirectoryPath { try FileManager.default.removeItem(at: file) }
        }
    }
}
