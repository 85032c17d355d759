// The fetch function: imports a picture by URL as a function of the runtime, so an import has what every
// invocation has (Event or RequestResponse, timeout, retries, dead letter, reserved concurrency, memory bound,
// metering, a line in `picpipe events`). It downloads with URLImporter's checks into uploads/, then takes the
// path of a dropped file: the original is stored content-addressed and ObjectCreated:Put is journaled with the
// URL as its source name, which fans out to the thumbnail and metadata functions.
import Foundation
import ImageCore
import NIOPosix
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// Imports the picture an `ObjectImport:URL` record names.
public struct FetchFunction: PipelineFunction {
    public let name = "fetch"
    /// uploads/ for the download, originals/ for the picture, events to journal its ObjectCreated.
    public let role = FunctionRole(write: [.uploads, .originals, .events])
    public let subscriptions: Set<String> = [EventName.objectImportURL.family]
    let importer: URLImporter
    let limits: DecodeLimits
    let threadPool: NIOThreadPool
    /// `serve`'s: stores the picture in its content's turn and names it by its hash when HTTP API ids name the same
    /// bytes (`nil`: none to keep apart from).
    let naming: (any DroppedContentNaming)?

    /// - Parameters:
    ///   - imports: the `import` section (address checks, timeouts, size cap).
    ///   - limits: the configured decode limits; the function's `memory_mb` bounds the pixels further.
    ///   - threadPool: where name lookups, file moves and the decode check run.
    ///   - naming: see the property.
    public init(
        imports: ImportSettings, limits: DecodeLimits, threadPool: NIOThreadPool = .singleton,
        naming: (any DroppedContentNaming)? = nil
    ) {
        importer = URLImporter(settings: imports, threadPool: threadPool)
        self.limits = limits
        self.threadPool = threadPool
        self.naming = naming
    }

    /// The record that asks for an import: the URL is its key and its source name.
    /// - Parameters:
    ///   - url: what to fetch.
    ///   - bucket: the store's name (the bucket of the records the import leads to).
    public static func request(url: String, bucket: String) -> S3EventRecord {
        S3EventRecord(name: .objectImportURL, bucket: bucket, key: url, size: 0, eTag: "", sequence: 0, sourceName: url)
    }

    public func validate(_ record: S3EventRecord, context: FunctionContext) throws {
        guard record.eventName == .objectImportURL else {
            throw FunctionError.invalidPayload(
                "fetch handles \(EventName.objectImportURL) records (the key is the URL of the picture to import), "
                    + "not \(record.eventName)")
        }
        try Self.check(url: Self.url(of: record))
    }

    /// Refuses a URL that is not http(s) or carries credentials, before anything is journaled.
    /// - Throws: `FunctionError.invalidPayload` reading `URL: url_refused: reason`, as every other refusal of an
    ///   import reads (until session 37 without the code).
    public static func check(url: String) throws {
        do {
            _ = try URLImporter.parse(url)
        } catch let error as APIError {
            let (label, reason) = ImportFailure.split(error.message, url: url)
            throw FunctionError.invalidPayload("\(label): \(error.code): \(reason)")
        }
    }

    public func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        try validate(record, context: context)
        let url = Self.url(of: record)
        let uploads = try context.store.handle(.uploads, .write)
        let originals = try context.store.handle(.originals, .write)
        let spool = UploadSpool(
            folder: uploads.location, maxBytes: importer.settings.maxBytes, minRate: 0, threadPool: threadPool)
        let upload: SpooledUpload
        do {
            upload = try await ImageAPI.download(url, importer: importer, spool: spool)
            // The memory bound: no more pixels than functions.fetch.memory_mb allows, as for the thumbnail function,
            // and a refusal names it when it is the tighter bound (until session 31 it blamed limits.max_pixels).
            let bound = MemoryBound(function: name, configuration: context.configuration, limits: limits)
            do {
                try await UploadValidator(limits: limits, threadPool: threadPool, memoryBound: bound).validate(upload)
            } catch let error as APIError {
                upload.discard()
                throw error.labelled(URLImporter.shown(url))
            } catch {
                upload.discard()
                throw error
            }
        } catch let error as APIError {
            throw ImportFailure.from(error, url: url)
        }
        let relative = OriginalName.relativePath(hash: upload.hash, format: upload.format)
        do {
            // A download that ended after the invocation's timeout stores nothing (it was retried or dead-lettered).
            try context.ensureTimeLeft()
        } catch {
            upload.discard()
            throw error
        }
        let target: URL
        do {
            target = try originals.url(relative)
        } catch {
            upload.discard()
            throw error
        }
        let event = S3EventRecord(
            name: .objectCreatedPut, bucket: record.s3.bucket.name, key: "originals/" + relative, size: upload.size,
            eTag: upload.hash.hex, sequence: 0, sourceName: url)
        let store: @Sendable () throws -> JournalAppend = {
            let created = try Self.install(upload, at: target)
            var stored = event
            // Only an import that stored the original may see it refused out of the store.
            if created { stored.s3.object.newlyStored = true }
            do {
                return try context.submit(stored)
            } catch {
                // Nothing is kept of an import whose event could not be journaled (a retry fetches it again).
                if created { unlink(target.path) }
                throw error
            }
        }
        // In serve, in the content's turn: until session 30 an import of bytes a PUT id named got no id of its own
        // (its Location answered 404, and a DELETE of the PUT id removed it).
        let appended: JournalAppend
        if let naming {
            appended = try await naming.storing(
                upload.hash, format: upload.format, size: upload.size, name: url, store)
        } else {
            appended = try await threadPool.runIfActive(store)
        }
        context.logger.info(
            "imported", metadata: ["url": "\(url)", "key": "\(event.s3.object.key)", "event": "\(appended.eventID)"])
        return [
            "id": .string(upload.hash.hex), "sha256": .string(upload.hash.hex), "key": .string(event.s3.object.key),
            "size": .int(upload.size), "format": .string(upload.format.rawValue), "source": .string(url),
            "event_id": .int(Int(appended.eventID)), "duplicate": .bool(appended.duplicate),
        ]
    }

    /// The URL a request record names.
    static func url(of record: S3EventRecord) -> String { record.s3.object.sourceName ?? record.s3.object.key }

    /// Links the checked download into `originals/` (kept as is when the same bytes are there) and removes the
    /// download. - Returns: whether the original is new.
    private static func install(_ upload: SpooledUpload, at target: URL) throws -> Bool {
        defer { unlink(upload.path) }
        try Folder.create(target.deletingLastPathComponent())
        // link() keeps the first copy when the same bytes arrive twice at once; the spool file was fsynced.
        if link(upload.path, target.path) == 0 { return true }
        guard errno == EEXIST else {
            throw StoreError.io(path: target.path, operation: "link", errno: errno)
        }
        return false
    }
}

extension EventName {
    /// A picture to fetch by URL (`POST /images {"url"}`, `picpipe import`): the fetch function's event.
    public static let objectImportURL = EventName(rawValue: "ObjectImport:URL")
}

/// Why an import that may succeed later failed, with the HTTP API's code: `URL: code: reason`, as a refused one's
/// `FunctionError.unprocessable` reads.
public struct ImportFailure: Error, CustomStringConvertible, Sendable {
    /// `import_failed` or `import_timeout` (worth a retry: the source may answer later).
    public var code: String
    /// The URL, and where redirects led when they did (`URLImporter.label`).
    public var url: String
    /// The reason.
    public var reason: String

    public var description: String { "\(url): \(code): \(reason)" }

    /// The error the runtime gets: a source that may answer later is retried (`import_failed`, `import_timeout`);
    /// a refused URL, a body too large or not an image is `unprocessable` (no retry, straight to the dead letter).
    /// Either reads `URL: code: reason`, the URL once (until session 31 the code came first for a retried one, so
    /// `picpipe import` named the URL twice, and a refused one's URL prefix was stripped from the reason, with the
    /// host name a redirect had led to).
    static func from(_ error: APIError, url: String) -> any Error {
        let (label, reason) = split(error.message, url: url)
        switch error.code {
        case "import_failed", "import_timeout":
            return ImportFailure(code: error.code, url: label, reason: reason)
        default:
            return FunctionError.unprocessable(file: label, reason: "\(error.code): \(reason)")
        }
    }

    /// An importer's message `LABEL: reason` as its label (the URL, with where redirects led) and its reason; a
    /// URL holds no ": ", so the first one after the URL ends the label.
    static func split(_ message: String, url: String) -> (label: String, reason: String) {
        let shown = URLImporter.shown(url)
        guard message.hasPrefix(shown), let end = message.range(of: ": ", range: shown.endIndex..<message.endIndex)
        else { return (shown, message) }
        return (String(message[..<end.lowerBound]), String(message[end.upperBound...]))
    }

    /// The HTTP status of each code an import may fail with.
    static let statuses: [(code: String, status: Int)] = [
        ("url_refused", 400), ("import_too_large", 413), ("unsupported_media_type", 415),
        ("unprocessable_image", 422), ("import_failed", 422), ("import_timeout", 422),
    ]

    /// The code and HTTP status of a failed fetch invocation's error message (a runtime timeout is `import_timeout`).
    static func status(ofMessage message: String, errorType: String) -> (code: String, status: Int) {
        if errorType == "TimedOut" { return ("import_timeout", 422) }
        let found = statuses.compactMap { entry in
            message.range(of: entry.code + ": ").map { (entry, $0.lowerBound) }
        }.min { $0.1 < $1.1 }
        return found?.0 ?? ("import_failed", 422)
    }
}
