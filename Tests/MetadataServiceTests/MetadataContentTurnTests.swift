// The metadata function writes its row in the content's turn (`FunctionContext.contentLocks`), the turn a DELETE
// removes the original in: no row of a removed picture is written after the DELETE's answer.
import Foundation
import Locking
import Logging
import MetadataService
import PipelineCore
import Testing

struct MetadataContentTurnTests {
    /// An invocation whose row is ready while a DELETE holds the content's turn waits for it, and writes no row
    /// once the DELETE has removed the original (until session 35 it wrote the row after the removal, then deleted
    /// it on seeing the original gone: for that moment `GET /metadata` listed a deleted picture).
    @Test func noRowIsWrittenForAnOriginalRemovedInTheTurn() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("turn-metadata-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let layout = StoreLayout(root: root)
        try layout.createFolders()
        let hex = String(repeating: "6b", count: 32)
        let hash = try #require(ContentHash(hex: hex))
        let folder = layout.originals.appendingPathComponent("6b")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let original = folder.appendingPathComponent("\(hex).jpg")
        try Data(ExifFixture.jpeg(tiff: nil)).write(to: original)
        let record = S3EventRecord(
            name: .objectCreatedPut, bucket: "store", key: "originals/6b/\(hex).jpg", size: 27, eTag: hex,
            sequence: 1, sourceName: "turn.jpg")
        try await MetadataBackend.sqlite.withStoreAsync { (store: any MetadataStore) async throws in
            let function = MetadataFunction(store: store)
            let locks = LocalContentLocks()
            let context = FunctionContext(
                configuration: FunctionConfiguration(), store: layout.handles(for: function.role, function: "metadata"),
                logger: Logger(label: "test"), deadline: .now + .seconds(3600), invocationID: "turn",
                missingOriginalWasDeleted: true, contentLocks: locks)
            let finished = Locked<FunctionResult?>(nil)
            let (queued, invocation) = try await locks.withLock(on: hash) {
                let invocation = Task {
                    let result = try await function.handle(record, context: context)
                    finished.withLock { $0 = result }
                }
                var queued = true
                while locks.waiting(on: hash) == 0 {
                    if finished.withLock({ $0 != nil }) {
                        queued = false
                        break
                    }
                    try await Task.sleep(for: .milliseconds(5))
                }
                // The DELETE's step in the turn: the original leaves the store.
                try FileManager.default.removeItem(at: original)
                return (queued, invocation)
            }
            #expect(queued, "the invocation waited for the content's turn before writing its row")
            try await invocation.value
            #expect(finished.withLock { $0?["changed"] } == .bool(false))
            #expect(try store.image(sha256: hex) == nil)
            #expect(try store.count() == 0)
        }
    }
}
