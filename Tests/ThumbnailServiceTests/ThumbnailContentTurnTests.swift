// The thumbnail function writes and cleans up in the content's turn (`FunctionContext.contentLocks`): the turn a
// DELETE removes the original in, so nothing of a removed picture is written after the DELETE's answer.
import Foundation
import ImageCore
import Locking
import Logging
import PipelineCore
import Testing

@testable import ThumbnailService

struct ThumbnailContentTurnTests {
    /// An invocation whose thumbnails are ready while a DELETE holds the content's turn waits for it, and once the
    /// DELETE has removed the original writes nothing (until session 35 it wrote them after the removal and took
    /// them away only when it saw the original gone: for that moment a deleted picture was served).
    @Test func thumbnailsOfAnOriginalRemovedInTheTurnAreNeverWritten() async throws {
        try await ThumbnailServiceTests.withStore { layout in
            let (record, hash) = try Self.storeOriginal(in: layout)
            let locks = LocalContentLocks()
            let function = ThumbnailFunction(recipes: [ThumbnailRecipe(size: 100)], limits: .default)
            let context = Self.context(layout, role: function.role, locks: locks)
            let finished = Locked<FunctionResult?>(nil)
            let waited = try await locks.withLock(on: hash) {
                let invocation = Task {
                    let result = try await function.handle(record, context: context)
                    finished.withLock { $0 = result }
                }
                let queued = await Self.untilQueued(on: hash, in: locks) { finished.withLock { $0 != nil } }
                // The DELETE's step in the turn: the original leaves the store.
                try FileManager.default.removeItem(at: layout.originals.appendingPathComponent(record.relativeKey))
                return (queued, invocation)
            }
            #expect(waited.0, "the invocation waited for the content's turn before writing")
            try await waited.1.value
            #expect(finished.withLock { $0?["skipped"] } == .string("the original was deleted"))
            #expect(PicpipeFiles.regularFiles(under: layout.thumbnails).isEmpty)
        }
    }

    /// A clean-up that runs while the same bytes are stored again in the turn leaves the new upload's thumbnails
    /// (the upload's own invocation found them present and made nothing).
    @Test func aCleanUpWaitsForTheTurnAndKeepsThumbnailsOfBytesStoredAgain() async throws {
        try await ThumbnailServiceTests.withStore { layout in
            let (record, hash) = try Self.storeOriginal(in: layout)
            let locks = LocalContentLocks()
            let function = ThumbnailFunction(recipes: [ThumbnailRecipe(size: 100)], limits: .default)
            let context = Self.context(layout, role: function.role, locks: locks)
            _ = try await function.handle(record, context: context)
            let thumbnails = PicpipeFiles.regularFiles(under: layout.thumbnails)
            #expect(thumbnails.count == 1)
            let original = layout.originals.appendingPathComponent(record.relativeKey)
            let bytes = try Data(contentsOf: original)
            try FileManager.default.removeItem(at: original)
            var removal = record
            removal.eventName = .objectRemovedDelete
            let finished = Locked<FunctionResult?>(nil)
            let waited = try await locks.withLock(on: hash) {
                let invocation = Task { [removal] in
                    let result = try await function.handle(removal, context: context)
                    finished.withLock { $0 = result }
                }
                let queued = await Self.untilQueued(on: hash, in: locks) { finished.withLock { $0 != nil } }
                // The upload's step in the turn: the same bytes are the original again.
                try bytes.write(to: original)
                return (queued, invocation)
            }
            #expect(waited.0, "the clean-up waited for the content's turn")
            try await waited.1.value
            #expect(finished.withLock { $0?["removed"] } == .array([]))
            #expect(PicpipeFiles.regularFiles(under: layout.thumbnails) == thumbnails)
        }
    }

    /// Waits until someone queues for the content's lock (true) or `done` says the work finished without (false).
    static func untilQueued(
        on hash: ContentHash, in locks: LocalContentLocks, done: @Sendable () -> Bool
    ) async -> Bool {
        while locks.waiting(on: hash) == 0 {
            if done() { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// A JPEG stored as an original, and the `ObjectCreated` record of it.
    static func storeOriginal(in layout: StoreLayout) throws -> (S3EventRecord, ContentHash) {
        let originals = try layout.handles(for: FunctionRole(write: [.originals]), function: "ingest")
            .handle(.originals, .write)
        let stored = try OriginalIngest.ingest(
            Data(try ThumbnailServiceTests.picture(.jpeg)), name: "cat.jpg", maxBytes: 1 << 30, into: originals)
        let record = S3EventRecord(
            name: .objectCreatedPut, bucket: "store", key: stored.key, size: stored.size, eTag: stored.hash.hex,
            sequence: 1, sourceName: "cat.jpg")
        return (record, stored.hash)
    }

    static func context(_ layout: StoreLayout, role: FunctionRole, locks: LocalContentLocks) -> FunctionContext {
        var context = ThumbnailServiceTests.context(layout, role: role)
        context.contentLocks = locks
        context.missingOriginalWasDeleted = true
        return context
    }
}

extension S3EventRecord {
    /// The record's original under `originals/`.
    fileprivate var relativeKey: String { String(s3.object.key.dropFirst("originals/".count)) }
}
