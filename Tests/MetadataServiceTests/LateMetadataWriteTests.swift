// A metadata invocation whose time runs out while its row is being written leaves no row: the runtime has already
// retried or dead-lettered it (until session 32 the row of a timed-out invocation could stay).
import Foundation
import Logging
import MetadataService
import PipelineCore
import PostgresBackend
import Testing

struct LateMetadataWriteTests {
    /// A store whose write waits before it starts, as behind another writer's lock (a `batch`, a busy timeout),
    /// until the invocation's deadline has passed.
    struct SlowStore: MetadataStore {
        let store: any MetadataStore
        let until: ContinuousClock.Instant

        func upsert(
            _ metadata: ImageMetadata, originalPath: String, sourceName: String?, addedAt: String?,
            committingOnlyIf check: () throws -> Void
        ) throws {
            while ContinuousClock.now < until { Thread.sleep(forTimeInterval: 0.01) }
            try store.upsert(
                metadata, originalPath: originalPath, sourceName: sourceName, addedAt: addedAt,
                committingOnlyIf: check)
        }
        func image(sha256: String) throws -> StoredImage? { try store.image(sha256: sha256) }
        func query(_ query: MetadataQuery) throws -> [StoredImage] { try store.query(query) }
        func delete(sha256: String) throws { try store.delete(sha256: sha256) }
        func count() throws -> Int { try store.count() }
    }

    @Test(arguments: MetadataBackend.available)
    func aTimeoutDuringTheWriteLeavesNoRow(backend: MetadataBackend) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("late-metadata-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let layout = StoreLayout(root: root)
        try layout.createFolders()
        let hex = String(repeating: "5a", count: 32)
        let key = "originals/5a/\(hex).jpg"
        let folder = layout.originals.appendingPathComponent("5a")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(ExifFixture.jpeg(tiff: nil)).write(to: folder.appendingPathComponent("\(hex).jpg"))
        let record = S3EventRecord(
            name: .objectCreatedPut, bucket: "store", key: key, size: 27, eTag: hex, sequence: 1, sourceName: "late.jpg"
        )
        try await backend.withStoreAsync { (store: any MetadataStore) async throws in
            let function = MetadataFunction(store: SlowStore(store: store, until: .now + .milliseconds(300)))
            let context = FunctionContext(
                configuration: FunctionConfiguration(timeout: 0.1),
                store: layout.handles(for: function.role, function: "metadata"), logger: Logger(label: "test"),
                deadline: .now + .milliseconds(100), invocationID: "late")
            await #expect(throws: FunctionError.timedOut(seconds: 0.1)) {
                _ = try await function.handle(record, context: context)
            }
            #expect(try store.image(sha256: hex) == nil)
            #expect(try store.count() == 0)
        }
    }
}

extension MetadataBackend {
    /// `withStore` for an async body.
    func withStoreAsync(_ body: (any MetadataStore) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("metastore-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            try await body(try SQLiteMetadataStore(url: folder.appendingPathComponent("db/metadata.sqlite")))
        case .postgres:
            let (url, drop) = try ScratchDatabase.create()
            defer { drop() }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("metastore-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            try await body(
                try PostgresMetadataStore(pool: PostgresConnectionPool(url: DatabaseURL(parsing: url)), root: folder))
        }
    }
}
