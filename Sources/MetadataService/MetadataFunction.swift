// The metadata service as a pipeline function: ObjectCreated reads EXIF into metadata.sqlite, ObjectRemoved deletes the row.
import Foundation
import Locking
import PipelineCore

/// The metadata function. Role: read `originals`, write `metadata` (its own database).
public struct MetadataFunction: PipelineFunction {
    public let name = "metadata"
    public let role = FunctionRole(read: [.originals], write: [.metadata])
    public let subscriptions: Set<String> = ["ObjectCreated", "ObjectRemoved"]

    /// Databases opened by this function, one pool per file for the life of the process.
    private let databases = OpenDatabases()

    /// A shared database given at start (PostgreSQL), used instead of the file its handle names.
    private let sharedStore: (any MetadataStore)?

    /// Makes the function; its database is opened on first use, through the handle its role grants.
    public init() { sharedStore = nil }

    /// Makes the function over a shared database (PostgreSQL): every worker process writes the same one.
    public init(store: any MetadataStore) { sharedStore = store }

    public func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        try validate(record, context: context)
        guard let hash = record.contentHash else { throw FunctionError.invalidPayload("no content hash") }
        let handle = try context.store.handle(.metadata, .write)
        let database: any MetadataStore = try sharedStore ?? databases.store(at: handle.location)
        if record.eventName.family == "ObjectRemoved" {
            // Only for a gone original (see ThumbnailFunction: a removal of a picture in the store removes nothing).
            // In the content's turn, so the same bytes uploaded again meanwhile keep their row.
            let removal = try await context.removeOutputs(of: record) {
                let existed = try database.image(sha256: hash.hex) != nil
                try database.delete(sha256: hash.hex)
                return existed
            }
            guard let existed = removal else {
                return [
                    "function": .string(name), "sha256": .string(hash.hex), "removed": .bool(false),
                    "changed": .bool(false), "skipped": .string(Self.originalInStore),
                ]
            }
            context.logger.info(
                "metadata removed",
                metadata: ["file": "\(record.s3.object.sourceName ?? record.s3.object.key)", "existed": "\(existed)"])
            return [
                "function": .string(name), "sha256": .string(hash.hex), "removed": .bool(existed),
                "changed": .bool(existed),
            ]
        }
        if try database.image(sha256: hash.hex) != nil {
            context.logger.info(
                "metadata already stored", metadata: ["file": "\(record.s3.object.sourceName ?? record.s3.object.key)"])
            return ["function": .string(name), "sha256": .string(hash.hex), "changed": .bool(false)]
        }
        let original: Data
        do {
            original = try context.readOriginal(record)
        } catch StoreError.notFound {
            // Deleted before this invocation ran: nothing to read, and nothing to retry.
            return Self.skipped(hash: hash, name: name)
        }
        let source = record.s3.object.sourceName ?? record.s3.object.key
        let metadata: ImageMetadata
        do {
            metadata = try original.withUnsafeBytes {
                try MetadataReader.read(bytes: $0, file: source, sha256: hash.hex, includeRaw: true)
            }
        } catch let error as MetadataError {
            // A warning: the thumbnail function judges originals and says a refused one at error (one error line).
            context.logger.warning("cannot read the metadata", metadata: ["file": "\(source)", "error": "\(error)"])
            // The error names the file already; the function error names it once.
            switch error {
            case .unreadableFile(_, let reason), .unsupportedImage(_, let reason):
                throw FunctionError.unprocessable(file: source, reason: reason)
            default:
                throw FunctionError.unprocessable(file: source, reason: error.description)
            }
        }
        try context.ensureTimeLeft()
        // When the picture entered the store: its original's modification time, the time it was written (no way in
        // keeps the uploaded file's own date). The row keeps the first one, so a picture processed again stays put.
        let stored = try? context.store.handle(.originals, .read).url(
            String(record.s3.object.key.dropFirst("originals/".count)))
        let addedAt = stored.flatMap { AddedTime.ofFile(atPath: $0.path) } ?? AddedTime.now
        // Checked again inside the row's transaction, as its last step: a write that waited for the lock past the
        // timeout (a busy `batch`) is rolled back (until session 32 its row stayed beside the dead letter). Written
        // as the function's output, where the caller says (batch: on its write threads, which a second Ctrl-C stops
        // before it takes unfinished pictures back; until session 34 the row was written beside them).
        let row = record.s3.object
        // In the content's turn while the original is there (see ThumbnailFunction; deleted meanwhile: no row).
        let written: Void? = try await context.writeOutputs(
            of: record,
            {
                try database.upsert(
                    metadata, originalPath: row.key, sourceName: row.sourceName, addedAt: addedAt,
                    committingOnlyIf: { try context.ensureTimeLeft() })
            }, undo: { try database.delete(sha256: hash.hex) })
        if written == nil { return Self.skipped(hash: hash, name: name) }
        var result: FunctionResult = ["function": .string(name), "sha256": .string(hash.hex), "changed": .bool(true)]
        if let error = metadata.exifError {
            context.logger.warning(
                "EXIF damaged; the row has what could be read of it",
                metadata: ["file": "\(source)", "error": "\(error)"])
            result["exif_error"] = .string(error)
        }
        context.logger.info("metadata stored", metadata: ["file": "\(source)"])
        return result
    }

    /// The result when the original is gone: nothing read, nothing kept.
    /// Why a removal removed nothing.
    static let originalInStore = "the original is in the store: nothing removed"

    static func skipped(hash: ContentHash, name: String) -> FunctionResult {
        [
            "function": .string(name), "sha256": .string(hash.hex), "changed": .bool(false),
            "skipped": .string("the original was deleted"),
        ]
    }
}

/// The metadata databases a process has open, so each is opened (and migrated) once.
final class OpenDatabases: Sendable {
    private let open = Locked<[URL: SQLiteMetadataStore]>([:])

    func store(at url: URL) throws -> SQLiteMetadataStore {
        try open.withLock { stores in
            if let store = stores[url] { return store }
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let store = try SQLiteMetadataStore(url: url)
            stores[url] = store
            return store
        }
    }
}
