// The function model: a handler that takes an event and a context, the way a Lambda function does.
import Crypto
import Foundation
import Logging

/// A picpipe function: thumbnail, metadata, or any other handler of store events.
///
/// The runtime gives it only the store handles its `role` grants, a logger and a deadline;
/// it may run asynchronously from the journal (Event), synchronously (RequestResponse), or be
/// validated only (DryRun). Handlers must be idempotent: a replay of the same event changes nothing.
public protocol PipelineFunction: Sendable {
    /// The function's name (`thumbnail`, `metadata`).
    var name: String { get }
    /// The store areas it may read and write.
    var role: FunctionRole { get }
    /// The event families it subscribes to (`ObjectCreated`, `ObjectRemoved`).
    var subscriptions: Set<String> { get }
    /// Handles one event record; the result is the JSON a RequestResponse invocation prints.
    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult
    /// Checks that a record can be handled (DryRun), running nothing.
    func validate(_ record: S3EventRecord, context: FunctionContext) throws
    /// Whether this function's `unprocessable` failure on `ObjectCreated` refuses the original itself (the
    /// thumbnail function's full decode is the store's test of a picture): the runtime then removes the original
    /// and dead-letters the file with its bytes, the way `batch` and the HTTP API refuse it, when the event stored
    /// the original (`S3EventRecord.storedItsOriginal`); a picture stored before the event stays.
    var judgesOriginals: Bool { get }
}

extension PipelineFunction {
    /// Most functions do not judge originals.
    public var judgesOriginals: Bool { false }

    /// By default a record is valid when its key is an original of the store and its eTag the content hash the
    /// key's file name is: a record naming one original's key with another's hash would otherwise make (or remove)
    /// the thumbnails and metadata of the hash from the key's picture. An `ObjectCreated` record a caller wrote
    /// must name a stored original (`FunctionContext.checkOriginalStored`), checked before its eTag: a key with a
    /// typo is the key's fault, whatever the eTag says.
    public func validate(_ record: S3EventRecord, context: FunctionContext) throws {
        guard EventName.s3ObjectNames.contains(record.eventName), subscriptions.contains(record.eventName.family) else {
            let names = EventName.s3ObjectNames.filter { subscriptions.contains($0.family) }.map(\.rawValue).sorted()
            throw FunctionError.invalidPayload(
                "eventName '\(record.eventName)' is not an event \(name) handles (\(names.joined(separator: ", ")))")
        }
        let key = record.s3.object.key
        guard key.hasPrefix("originals/") else {
            throw FunctionError.invalidPayload("key '\(key)' is not an original of the store")
        }
        if record.eventName.family == "ObjectCreated" { try context.checkOriginalStored(record) }
        // A key that is no original's name is the key's fault (until session 31 an ObjectRemoved record with a typo
        // in its key was refused for its S3 MD5 eTag, which was right).
        guard record.keyContentHash != nil else {
            throw FunctionError.invalidPayload(
                "key '\(key)' is not an original's name: an original's file name is its SHA-256 "
                    + "(originals/ab/<sha256>.jpg)")
        }
        guard let hash = record.contentHash else {
            throw FunctionError.invalidPayload("eTag '\(record.s3.object.eTag)' is not a SHA-256 content hash")
        }
        guard record.keyContentHash == hash else {
            throw FunctionError.invalidPayload(
                "key '\(key)' does not name the content of eTag '\(hash.hex)': an original's file name is its SHA-256")
        }
        guard let stated = record.s3.object.statedETag, let bytes = try? context.readOriginal(record) else { return }
        let md5 = Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        guard stated.contains("-") else {
            guard md5 == stated else {
                throw FunctionError.invalidPayload(
                    "key '\(key)' does not name the content of eTag '\(stated)': the original's MD5 is \(md5)")
            }
            return
        }
        // A multipart ETag (the MD5 of the parts' MD5s, `-N`) cannot be checked against the bytes: it must be the one
        // HeadObject gives, the ETag the upload kept for the content, else its MD5 (stored some other way, it has no
        // multipart ETag). Until session 36 any was taken on the key's word, another picture's and a stale one too.
        let current = context.keptS3ETag?(hash).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        let expected = current?.lowercased() ?? md5
        guard expected == stated else {
            throw FunctionError.invalidPayload(
                "key '\(key)' does not name the content of eTag '\(stated)': the original's ETag is \"\(expected)\"")
        }
    }
}

/// What an invocation gets besides its event: its settings, its granted store handles, a logger, a deadline.
public struct FunctionContext: Sendable {
    /// The function's settings.
    public var configuration: FunctionConfiguration
    /// The store handles its role grants, and no others.
    public var store: StoreHandles
    /// A logger with the invocation's metadata.
    public var logger: Logger
    /// When the invocation is cancelled.
    public var deadline: ContinuousClock.Instant
    /// An id for this invocation (journal id, or a UUID for synchronous calls).
    public var invocationID: String
    /// The original's bytes when the caller already holds them (batch, HTTP upload), so a function need
    /// not read them back; `readOriginal` still checks the role grants `originals`.
    public var preloadedOriginal: Data?
    /// Journals a new store event (an original the function created), as S3 notifies a write; given by the
    /// runtime only when the role grants `events` for writing.
    public var eventSink: (@Sendable (S3EventRecord) throws -> JournalAppend)?
    /// Where the function's outputs are written (`writeOutputs`); `nil`: on the function's own thread.
    public var outputWriter: (any OutputWriter)?
    /// Whether an original missing from the store was deleted since the record was made: true for the store's own
    /// events (an invocation run from the queue, whose original was stored, or whose key was checked, when it was
    /// queued; batch's, whose original it is storing), which then end as skipped. False for a record a caller
    /// wrote and has run now (RequestResponse, DryRun, the check before an Event is queued): its key is looked up,
    /// and one that names no original is `FunctionError.noSuchKey` (`checkOriginalStored`).
    public var missingOriginalWasDeleted: Bool
    /// The turns the HTTP API removes originals in (`ContentLocks`): outputs of an original are written, and a
    /// removed one's cleaned up, in the content's turn (`writeOutputs(of:)`, `removeOutputs(of:)`). `nil` where no
    /// remover shares this process's or the database's locks (batch; an SQLite store's `invoke` beside its serve):
    /// the function then checks after writing and removes what it wrote when the original went meanwhile.
    public var contentLocks: (any ContentLocks)?
    /// The ETag the AWS front door kept for a content (`StoreLayout.keptS3ETag(of:)`), against which a record's
    /// multipart S3 ETag is checked; `nil` where no S3-shaped record comes in (batch).
    public var keptS3ETag: (@Sendable (ContentHash) -> String?)?

    /// - Parameters: see the properties.
    public init(
        configuration: FunctionConfiguration, store: StoreHandles, logger: Logger,
        deadline: ContinuousClock.Instant, invocationID: String, preloadedOriginal: Data? = nil,
        eventSink: (@Sendable (S3EventRecord) throws -> JournalAppend)? = nil, outputWriter: (any OutputWriter)? = nil,
        missingOriginalWasDeleted: Bool = false, contentLocks: (any ContentLocks)? = nil,
        keptS3ETag: (@Sendable (ContentHash) -> String?)? = nil
    ) {
        self.keptS3ETag = keptS3ETag
        self.contentLocks = contentLocks
        self.missingOriginalWasDeleted = missingOriginalWasDeleted
        self.preloadedOriginal = preloadedOriginal
        self.outputWriter = outputWriter
        self.eventSink = eventSink
        self.configuration = configuration
        self.store = store
        self.logger = logger
        self.deadline = deadline
        self.invocationID = invocationID
    }

    /// The original the record names, read through the `originals` handle.
    public func readOriginal(_ record: S3EventRecord) throws -> Data {
        let originals = try store.handle(.originals, .read)
        let key = record.s3.object.key
        guard key.hasPrefix("originals/") else { throw FunctionError.invalidPayload("key '\(key)' is not an original") }
        if let preloadedOriginal { return preloadedOriginal }
        return try originals.read(String(key.dropFirst("originals/".count)))
    }

    /// Checks that the original a record names is stored, as S3 answers a read of a missing object (`NoSuchKey`):
    /// a key with a typo, the right hash with another extension, or a picture never stored is the caller's mistake,
    /// not a picture "deleted" (until session 30 the thumbnail function answered those with a successful
    /// `"skipped": "the original was deleted"` and the metadata function ran on a stored row of the key's hash).
    /// Nothing to check when a missing original was deleted since (`missingOriginalWasDeleted`), or for a function
    /// whose role reads no originals.
    /// - Throws: `FunctionError.noSuchKey` naming the key.
    public func checkOriginalStored(_ record: S3EventRecord) throws {
        guard !missingOriginalWasDeleted, (try? store.handle(.originals, .read)) != nil else { return }
        guard originalExists(record) else { throw FunctionError.noSuchKey(key: record.s3.object.key, area: .originals) }
    }

    /// Journals an event for an original this function put in the store (the fetch function's import): the
    /// subscribed functions fan out from it as from a dropped file's. A repeat of the latest `ObjectCreated` of the
    /// same key and source name records nothing (as a rescan of a dropped file).
    /// - Throws: `StoreError.accessDenied` unless the role grants `events` for writing.
    public func submit(_ record: S3EventRecord) throws -> JournalAppend {
        guard let eventSink else {
            throw StoreError.accessDenied(area: .events, access: .write, function: store.function)
        }
        return try eventSink(record)
    }

    /// Writes the function's outputs: `write` does the blocking part (write, fsync, rename) of what the function
    /// computed. With an `outputWriter` (batch) it runs where that one says, and not before the picture's original
    /// is durable; without one, here and now.
    /// Nothing is written once the invocation's time is up (`ensureTimeLeft`).
    public func writeOutputs<T: Sendable>(_ write: @escaping @Sendable () throws -> T) async throws -> T {
        try ensureTimeLeft()
        guard let outputWriter else { return try write() }
        return try await outputWriter.write(write)
    }

    /// Writes the outputs made of the record's original only while that original is stored, in the content's turn
    /// (`contentLocks`): a DELETE removes the original in the same turn and runs the functions' clean-up before it
    /// answers, so the outputs are written before the removal (and its clean-up removes them) or not at all. Until
    /// session 35 they were written first and removed when the original was found gone afterwards: for a moment
    /// after a DELETE or a replacing PUT had answered, the removed picture's thumbnails were on disk and served by
    /// the S3 thumbnails bucket. Checked once more after writing, for a remover whose turns this process does not
    /// share (a serve beside a batch, a refusal): when the original is gone by then, `undo` removes what was written
    /// (the delete wins).
    /// - Returns: `write`'s value; `nil` when the original is gone (nothing kept).
    public func writeOutputs<T: Sendable>(
        of record: S3EventRecord, _ write: @escaping @Sendable () throws -> T,
        undo: @escaping @Sendable () throws -> Void
    ) async throws -> T? {
        let written: T?
        if let contentLocks, let hash = record.contentHash {
            written = try await contentLocks.withLock(on: hash) {
                guard originalExists(record) else { return nil }
                return try await writeOutputs(write)
            }
        } else {
            written = try await writeOutputs(write)
        }
        guard let written else { return nil }
        guard originalExists(record) else {
            try undo()
            return nil
        }
        return written
    }

    /// Removes what a function made of a removed original, in the content's turn (`contentLocks`) and only while
    /// the original is absent: the same bytes uploaded again meanwhile keep their outputs (an upload installs its
    /// original in that turn; unfenced, a clean-up that saw the original gone just before such an upload could remove
    /// the thumbnails the upload's own invocation had found present and left alone).
    /// - Returns: `remove`'s value; `nil` when the original is in the store (nothing removed).
    public func removeOutputs<T: Sendable>(
        of record: S3EventRecord, _ remove: @escaping @Sendable () throws -> T
    ) async throws -> T? {
        let removeWhenGone = { originalExists(record) ? nil : try remove() }
        guard let contentLocks, let hash = record.contentHash else { return try removeWhenGone() }
        return try await contentLocks.withLock(on: hash) { try removeWhenGone() }
    }

    /// Throws once the invocation's time is up: its deadline passed, or the runtime cancelled it (timeout, shutdown).
    ///
    /// A handler's long synchronous step cannot be stopped, so it can finish after its invocation timed out and
    /// was retried or dead-lettered; checked before a function writes, it makes such late work write nothing, as
    /// Lambda's ended sandbox would.
    public func ensureTimeLeft() throws {
        try Task.checkCancellation()
        if ContinuousClock.now >= deadline { throw FunctionError.timedOut(seconds: configuration.timeout) }
    }

    /// Whether the original the record names is still stored.
    ///
    /// A function handling `ObjectCreated` checks this after it wrote its outputs and removes them when the
    /// original is gone: the original is removed before the `ObjectRemoved` clean-up runs, so either this check
    /// sees the removal or the clean-up sees the outputs, and a delete always wins over late work.
    ///
    /// Asked of the disk even when the bytes were handed over (`preloadedOriginal`: batch asks only once the original
    /// is durable), so a picture deleted by a serve beside a batch is gone for the batch's functions too (until
    /// session 29 it was always there for them, and its thumbnails and metadata row stayed).
    public func originalExists(_ record: S3EventRecord) -> Bool {
        guard let originals = try? store.handle(.originals, .read) else { return false }
        let key = record.s3.object.key
        return key.hasPrefix("originals/") && originals.exists(String(key.dropFirst("originals/".count)))
    }
}

/// Runs the blocking writes of a function's outputs for its caller (`FunctionContext.writeOutputs`).
public protocol OutputWriter: Sendable {
    /// Runs `write` once everything the outputs depend on is durable (the original), returning its value.
    func write<T: Sendable>(_ write: @escaping @Sendable () throws -> T) async throws -> T
}

/// A function's result: a JSON object, printed by RequestResponse invocations and kept in the journal.
public typealias FunctionResult = [String: JSONValue]

/// Why a function invocation failed.
public enum FunctionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The payload is not an event the function can handle.
    case invalidPayload(String)
    /// The input cannot be processed, and retrying will not help (a corrupt image).
    case unprocessable(file: String, reason: String)
    /// The invocation ran past its timeout.
    case timedOut(seconds: Double)
    /// The record names an object its area does not hold (S3's `NoSuchKey`).
    case noSuchKey(key: String, area: StoreArea)

    public var description: String {
        switch self {
        case .invalidPayload(let message): return "invalid payload: \(message)"
        case .noSuchKey(let key, let area): return "\(key): no such key in \(area.rawValue)"
        case .unprocessable(let file, let reason): return "\(file): \(reason)"
        case .timedOut(let seconds): return "timed out after \(seconds) s"
        }
    }
}
