// GetObject, HeadObject, PutObject, CopyObject, DeleteObject(s). A put into `uploads` takes the HTTP API's upload
// path: the same checks (size, JPEG/PNG, decodable within the limits), installed as an original, an ObjectCreated
// event journaled, the id recorded. A delete of an original is the HTTP DELETE's clean-up.
import FetchService
import Foundation
import HTTPTypes
import Hummingbird
import ImageCore
import NIOCore
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

extension S3API {
    // MARK: Reading

    /// What a stored file is, read in one hop to the thread pool.
    struct ObjectInfo: Sendable {
        var file: URL
        var size: Int
        var modified: Date
        var eTag: String
        var contentType: String
        var metadata: [String: String]
        /// The representation headers kept with it (Cache-Control, Content-Disposition, …), by lower-cased name.
        var headers: [String: String] = [:]
        /// The checksum it was uploaded with, returned when a GET or HEAD asks for it.
        var checksum: S3ObjectChecksum? = nil
        /// The whole file when small (one read; thumbnails).
        var bytes: ByteBuffer?
    }

    /// Files up to this size are read whole in the same hop as the stat.
    static let singleReadLimit = 256 * 1024

    func objectInfo(bucket: S3Bucket, key: String, readSmall: Bool) async throws -> ObjectInfo {
        guard S3Bucket.isSafe(key), isServed(bucket: bucket, key: key) else {
            throw AWSError.noSuchKey(bucket: bucket.rawValue, key: key)
        }
        let cacheable = bucket != .uploads
        // A hit is found by the path as text: making the file's URL cost more than the rest of a cached GET.
        if cacheable, let folder = folderPaths[bucket], let cached = cache.lookup(folder + key) { return cached }
        guard let file = bucket.file(for: key, in: layout) else {
            throw AWSError.noSuchKey(bucket: bucket.rawValue, key: key)
        }
        let generation = cache.generation
        let catalog = self.catalog
        let readAll = readSmall || cacheable
        let info: ObjectInfo? = try await threadPool.runIfActive {
            var status = stat()
            guard stat(file.path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
            let size = Int(status.st_size)
            let modified = Date(timeIntervalSince1970: TimeInterval(status.st_mtim.tv_sec))
            let hash =
                bucket == .originals ? ContentHash(hex: String(file.deletingPathExtension().lastPathComponent)) : nil
            let record = hash.flatMap { catalog.record(for: $0) }
            var bytes: ByteBuffer?
            if readAll, size <= Self.singleReadLimit, let data = FileManager.default.contents(atPath: file.path) {
                bytes = ByteBuffer(bytes: data)
            }
            let eTag =
                record?.eTag ?? catalog.eTag(of: file, size: size, modified: modified, hash: nil)
            return ObjectInfo(
                file: file, size: bytes?.readableBytes ?? size, modified: modified, eTag: eTag,
                contentType: record?.contentType ?? Self.contentType(of: file), metadata: record?.metadata ?? [:],
                headers: record?.headers ?? [:], checksum: record?.checksum, bytes: bytes)
        }
        guard let info else {
            if cacheable, let folder = folderPaths[bucket] { cache.remove(folder + key) }
            throw AWSError.noSuchKey(bucket: bucket.rawValue, key: key)
        }
        if cacheable { cache.insert(info, readAt: .now, generation: generation) }
        return info
    }

    /// Whether a key of `thumbnails` is a file of a recipe in force, as the HTTP API serves it: a size taken out of
    /// the configuration, or an earlier quality or format, is no object (until session 34 S3 listed and served them
    /// while `GET /images/ID/thumbnails/SIZE` answered 404 `unknown_size`). Every key of the other buckets is.
    func isServed(bucket: S3Bucket, key: String) -> Bool {
        bucket != .thumbnails || images.servesThumbnail(atPath: key)
    }

    static func contentType(of file: URL) -> String {
        format(of: file)?.mediaType ?? "binary/octet-stream"
    }

    /// GetObject and HeadObject: conditionals (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since),
    /// one byte range, user metadata, and the `response-*` overrides of the query.
    func getObject(
        _ request: Request, bucket: S3Bucket, key: String, query: [String: String], context: AWSRequestContext
    ) async throws -> Response {
        let isHead = request.method == .head
        let overrides = try Self.responseOverrides(query)
        let wantsPart = try Self.firstPartAsked(query, headers: request.headers)
        let info = try await objectInfo(bucket: bucket, key: key, readSmall: !isHead)
        var requestHeaders = request.headers
        // Part 1 of an object stored whole is the object, answered as S3 answers it: 206 with its Content-Range.
        if wantsPart, info.size > 0 { requestHeaders[.range] = "bytes=0-\(info.size - 1)" }
        var (status, headers, range) = try Self.objectHead(isHead: isHead, headers: requestHeaders, info: info)
        if status != .notModified {
            for (name, value) in overrides { headers[name] = value }
        }
        let length = range?.count ?? info.size
        if isHead || status == .notModified { return Response(status: status, headers: headers) }
        if length == 0 { return Response(status: status, headers: headers, body: ResponseBody()) }
        if let bytes = Self.bytes(of: info, range: range) {
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: bytes))
        }
        let body = FileStream.body(
            path: info.file.path, range: range ?? 0...(info.size - 1), threadPool: threadPool)
        return Response(status: status, headers: headers, body: body)
    }

    /// Whether GetObject/HeadObject asks for `partNumber=1` (the SDKs' transfer managers begin a download so, to
    /// learn the object's size and parts). picpipe keeps every object whole, so it has one part, as an object S3
    /// stored from a single PutObject; it was ignored (a 200 without Content-Range).
    /// - Throws: `InvalidArgument` for a part number that is not a number from 1 to 10000, `InvalidPartNumber` (416)
    ///   past 1, `InvalidRequest` beside a Range.
    static func firstPartAsked(_ query: [String: String], headers: HTTPFields) throws -> Bool {
        guard let text = query["partNumber"] else { return false }
        guard let number = Int(text), (1...10_000).contains(number) else {
            throw AWSError.invalidArgument("Part number must be an integer between 1 and 10000, inclusive: \(text)")
        }
        guard headers[.range] == nil else {
            throw AWSError.invalidRequest("Cannot specify both Range header and partNumber query parameter")
        }
        guard number == 1 else {
            throw AWSError("InvalidPartNumber", status: 416, "The requested partnumber is not satisfiable")
        }
        return true
    }

    /// The headers GetObject/HeadObject's query may set (`response-content-disposition=attachment; filename=…` for a
    /// download link, `response-content-type`, …), as S3 sets them on a signed request (every request here is).
    static let responseOverrideHeaders: [(parameter: String, header: HTTPField.Name)] = [
        ("response-cache-control", .cacheControl), ("response-content-disposition", .contentDisposition),
        ("response-content-encoding", .contentEncoding), ("response-content-language", .contentLanguage),
        ("response-content-type", .contentType), ("response-expires", .expires),
    ]

    /// The `response-*` overrides of a query, in `responseOverrideHeaders`' order.
    /// - Throws: `InvalidArgument` for a value no header may carry (a line break would start a header of its own).
    static func responseOverrides(_ query: [String: String]) throws -> [(HTTPField.Name, String)] {
        try responseOverrideHeaders.compactMap { parameter, header in
            guard let value = query[parameter] else { return nil }
            guard HTTPField.isValidValue(value) else {
                throw AWSError.invalidArgument("The value of \(parameter) is not a valid header value.")
            }
            return (header, value)
        }
    }

    /// GetObject of an object in the cache, answered without waiting (the event-loop shortcut): `nil` when the
    /// object is not cached or held whole, or when the answer is an error (the route answers those). The request
    /// that finds an object due for a new read takes the route, which reads it (a missing one is dropped) before
    /// answering; the requests meanwhile are answered from the cache (`PathCache.lookupWhileRereading`). Until
    /// session 33 the finder was answered from the cache too, so an object deleted by another process was served
    /// once more, however long after.
    func cachedObject(isHead: Bool, headers requestHeaders: HTTPFields, bucket: S3Bucket, key: String) -> CachedAnswer?
    {
        guard bucket != .uploads, S3Bucket.isSafe(key), isServed(bucket: bucket, key: key),
            let folder = folderPaths[bucket],
            let (info, reread) = cache.lookupWhileRereading(folder + key), !reread,
            let (status, headers, range) = try? Self.objectHead(isHead: isHead, headers: requestHeaders, info: info)
        else { return nil }
        if isHead || status == .notModified || (range?.count ?? info.size) == 0 {
            return CachedAnswer(status: status, fields: headers, body: nil)
        }
        guard let bytes = Self.bytes(of: info, range: range) else { return nil }
        return CachedAnswer(status: status, fields: headers, body: bytes)
    }

    /// The held bytes of an object (or of its range), if it is held.
    private static func bytes(of info: ObjectInfo, range: ClosedRange<Int>?) -> ByteBuffer? {
        guard let bytes = info.bytes else { return nil }
        guard let range else { return bytes }
        return bytes.getSlice(at: range.lowerBound, length: range.count) ?? bytes
    }

    /// The status and headers of GetObject/HeadObject (conditionals, one byte range, user metadata) and the range.
    /// - Throws: `AWSError` 412 (a precondition failed) or 416 (the range is past the end).
    static func objectHead(isHead: Bool, headers request: HTTPFields, info: ObjectInfo) throws
        -> (HTTPResponse.Status, HTTPFields, ClosedRange<Int>?)
    {
        var headers = AWSResponses.fields([
            ("ETag", info.eTag), ("Last-Modified", HTTPDateText.format(info.modified)), ("Accept-Ranges", "bytes"),
        ])
        headers[.contentType] = info.contentType
        for (name, value) in info.headers.sorted(by: { $0.key < $1.key }) { headers[AWSResponses.name(name)] = value }
        for (name, value) in info.metadata.sorted(by: { $0.key < $1.key }) {
            headers.append(HTTPField(name: AWSResponses.name("x-amz-meta-" + name), value: value))
        }
        if let failed = preconditionFails(request, eTag: info.eTag, modified: info.modified) {
            if failed == .notModified {
                var notModified = AWSResponses.fields([
                    ("ETag", info.eTag), ("Last-Modified", HTTPDateText.format(info.modified)),
                ])
                notModified[.contentLength] = nil
                return (.notModified, notModified, nil)
            }
            // The header that failed: If-Match when it was sent (it is checked first), else If-Unmodified-Since.
            throw AWSError.preconditionFailed(request[.ifMatch] != nil ? "If-Match" : "If-Unmodified-Since")
        }
        var range: ClosedRange<Int>?
        // Several ranges: the whole object, as S3 sends it.
        switch ByteRange.parse(request[.range], size: info.size) {
        case .whole, .parts: break
        case .part(let part): range = part
        case .unsatisfiable: throw AWSError.invalidRange(info.size, requested: request[.range] ?? "")
        }
        if let range { headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(info.size)" }
        headers[.contentLength] = String(range.map { $0.count } ?? info.size)
        if let checksum = info.checksum, asksForChecksum(request), (range?.count ?? info.size) == info.size {
            headers[AWSResponses.name(checksum.header)] = checksum.value
            headers[AWSResponses.name("x-amz-checksum-type")] = checksum.checksumType
        }
        return (range == nil ? .ok : .partialContent, headers, range)
    }

    /// Whether a GET or HEAD asks for the object's checksum (`x-amz-checksum-mode: ENABLED`, which the SDKs send to
    /// verify a download). It is the whole object's, so an answer with part of the bytes has none, as in S3.
    static func asksForChecksum(_ request: HTTPFields) -> Bool {
        request[AWSResponses.name("x-amz-checksum-mode")]?.uppercased() == "ENABLED"
    }

    enum PreconditionOutcome { case notModified, failed }

    /// S3's order: If-Match, If-Unmodified-Since (unless If-Match held), If-None-Match, If-Modified-Since (unless
    /// If-None-Match was sent).
    static func preconditionFails(_ headers: HTTPFields, eTag: String, modified: Date) -> PreconditionOutcome? {
        let seconds = modified.timeIntervalSince1970.rounded(.down)
        let ifMatch = headers[.ifMatch]
        if let ifMatch, !eTagListMatches(ifMatch, eTag: eTag, weakly: false) { return .failed }
        if ifMatch == nil, let text = headers[.ifUnmodifiedSince], let date = HTTPDateText.parse(text),
            seconds > date.timeIntervalSince1970
        {
            return .failed
        }
        let ifNoneMatch = headers[.ifNoneMatch]
        if let ifNoneMatch, eTagListMatches(ifNoneMatch, eTag: eTag, weakly: true) { return .notModified }
        if ifNoneMatch == nil, let text = headers[.ifModifiedSince], let date = HTTPDateText.parse(text),
            seconds <= date.timeIntervalSince1970
        {
            return .notModified
        }
        return nil
    }

    /// Whether an If-Match or If-None-Match list (`"a", "b"`, `*`, weak `W/"a"`) names `eTag`. If-Match compares
    /// strongly (`weakly` false: a weak tag never matches), If-None-Match weakly (RFC 9110 §13.1.1-2; until session
    /// 37 If-Match took a weak tag too, and a DELETE with `If-Match: W/"…"` removed the picture).
    static func eTagListMatches(_ header: String, eTag: String, weakly: Bool) -> Bool {
        header.split(separator: ",").contains { candidate in
            var trimmed = candidate.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("W/") {
                guard weakly else { return false }
                trimmed.removeFirst(2)
            }
            return trimmed == "*" || trimmed == eTag || "\"\(trimmed)\"" == eTag
        }
    }

    // MARK: Writing

    /// S3's conditional writes on PutObject and CompleteMultipartUpload, held against what GetObject of the key in
    /// `uploads` answers: `If-None-Match: *` writes only where no object is (412 `PreconditionFailed` otherwise),
    /// `If-Match: ETAG` only over the object with that ETag (404 `NoSuchKey` where there is none, 412 for another),
    /// `If-None-Match` with an ETag is S3's 501 `NotImplemented`. An upload leaves `uploads` at once (it becomes an
    /// original), so a key there holds an object only while a file dropped into the folder waits for the watcher:
    /// `If-None-Match: *` holds, and `If-Match` finds nothing to match. Until session 33 both were ignored and the
    /// write answered as a success.
    func checkWritePreconditions(_ request: Request, key: String) async throws {
        let ifMatch = request.headers[.ifMatch]
        let ifNoneMatch = request.headers[.ifNoneMatch]
        guard ifMatch != nil || ifNoneMatch != nil else { return }
        if let ifNoneMatch, ifNoneMatch.trimmingCharacters(in: .whitespaces) != "*" {
            throw AWSError.notImplemented("If-None-Match other than * on a write (S3 takes If-None-Match: * only)")
                .with([("Header", "If-None-Match")])
        }
        var existing: ObjectInfo?
        do {
            existing = try await objectInfo(bucket: .uploads, key: key, readSmall: false)
        } catch let error as AWSError where error.code == "NoSuchKey" {
            existing = nil
        }
        if let ifMatch {
            guard let existing else { throw AWSError.noSuchKey(bucket: S3Bucket.uploads.rawValue, key: key) }
            guard Self.eTagListMatches(ifMatch, eTag: existing.eTag, weakly: false) else {
                throw AWSError.preconditionFailed("If-Match")
            }
        }
        if ifNoneMatch != nil, existing != nil { throw AWSError.preconditionFailed("If-None-Match") }
    }

    /// PutObject into `uploads`: the body streamed to disk, checked, and taken in as an upload.
    func putObject(
        _ request: Request, key: String, signed: SignedRequest, auth: Authenticated, context: AWSRequestContext
    ) async throws -> Response {
        guard S3Bucket.isUploadKey(key) else {
            throw AWSError.invalidArgument(
                "The key '\(key)' is not a plain relative path (no empty, '.' or '..' part, no line break).")
        }
        try await checkWritePreconditions(request, key: key)
        // Metadata over the limit is refused before the body is read.
        let metadata = try Self.userMetadata(request)
        let object = try await receive(request, signed: signed, auth: auth, into: layout.uploads, context: context)
        let eTag = object.eTag
        try await ingest(
            object, key: key, eTag: eTag, contentType: request.headers[.contentType],
            metadata: metadata, headers: S3ObjectOptions.keptHeaders(Self.header(of: request)),
            event: .objectCreatedPut)
        // The checksum, whether it came as a header or in an aws-chunked trailer (until session 27 only a header's
        // was echoed), and its type: a PutObject's is always the whole object's (until session 36 it was left out).
        let checksum = object.checksum.map { [$0, ("x-amz-checksum-type", MultipartChecksumType.fullObject.rawValue)] }
        return AWSResponses.empty(.ok, headers: AWSResponses.fields([("ETag", eTag)] + (checksum ?? [])))
    }

    /// One of the `http.max_concurrent_uploads` slots, to release when the body is in.
    /// - Throws: S3's `SlowDown` (503) when every slot is taken.
    func takeUploadSlot() throws -> UploadSlots.Slot {
        guard let slot = images.uploadSlots.take() else {
            throw AWSError(
                "SlowDown", status: 503,
                "Please reduce your request rate: \(images.uploadSlots.limit) uploads are in progress (http.max_concurrent_uploads)."
            )
        }
        return slot
    }

    /// Streams a body to a temporary file in `folder` under an upload slot; a refused size stops the connection.
    /// - Parameter room: where more than `maxBytes` is asked for (`S3BodySpool.spool`).
    func receive(
        _ request: Request, signed: SignedRequest, auth: Authenticated, into folder: URL, context: AWSRequestContext,
        region: SpoolRegion? = nil, maxBytes: Int? = nil, room: (@Sendable (Int) async throws -> Int)? = nil,
        checksum: PayloadChecksum.Algorithm? = nil
    ) async throws -> SpooledObject {
        let slot = try takeUploadSlot()
        defer { slot.release() }
        context.willReadBody(minimumRate: spool.minRate)
        do {
            return try await spool.spool(
                request.body, request: signed, payload: auth.payload, into: folder,
                maxBytes: maxBytes ?? maxObjectBytes, room: room,
                region: region, checksum: checksum)
        } catch let error as AWSError {
            // The rest of the body is not read: too large, or too slow to wait for.
            if error.code == "EntityTooLarge" || error.code == "RequestTimeout" { context.stopReading() }
            throw error
        }
    }

    /// Takes a spooled object in as an upload named `key`: checked as the HTTP API checks uploads, installed as an
    /// original with its event journaled, its id recorded, its ETag, metadata and checksum kept. The file is consumed.
    /// - Parameter checksum: the object's checksum, when it is not the one the spool computed (a copy's, a
    ///   multipart object's).
    func ingest(
        _ object: SpooledObject, key: String, eTag: String, contentType: String?, metadata: [String: String],
        headers: [String: String] = [:], checksum: S3ObjectChecksum? = nil, event: EventName
    ) async throws {
        guard let format = object.format else {
            object.discard()
            throw AWSError.invalidArgument(
                "uploads/\(key) is not a JPEG, PNG, WebP, GIF, HEIC or AVIF image (sniffed from its bytes); the uploads bucket "
                    + "takes pictures only."
            )
        }
        defer { cache.removeAll() }
        let checksum = checksum ?? object.checksum.flatMap { S3ObjectChecksum(header: $0.header, value: $0.value) }
        let upload = SpooledUpload(
            path: object.path, hash: object.sha256, format: format, size: object.size, fileName: key)
        try await Self.consuming(upload, key: key) { try await images.validator.validate(upload) }
        // Installed and named under the content's lock: a DeleteObject of the same bytes is done or not begun. A
        // lock that cannot be taken (the database out of reach) discards the upload too: until session 33 its spool
        // files stayed in uploads/ until the process ended.
        try await Self.consuming(upload, key: key) {
            try await install(
                upload, key: key, eTag: eTag, contentType: contentType, metadata: metadata, headers: headers,
                checksum: checksum, event: event)
        }
    }

    /// `ingest`'s steps under the content's lock: the original installed, its id and S3 record written.
    private func install(
        _ upload: SpooledUpload, key: String, eTag: String, contentType: String?, metadata: [String: String],
        headers: [String: String], checksum: S3ObjectChecksum?, event: EventName
    ) async throws {
        let format = upload.format
        let object = (sha256: upload.hash, size: upload.size)
        try await images.lifecycle.exclusively(object.sha256) {
            // The record of the content already stored, which this upload of the same bytes updates (a record
            // without its original is a leftover: nothing of it is taken over).
            let stored = S3Bucket.originals.file(
                for: OriginalName.relativePath(hash: object.sha256, format: format), in: layout)
            let storedEarlier = stored.map { FileManager.default.fileExists(atPath: $0.path) } == true
            let previous = storedEarlier ? catalog.record(for: object.sha256) : nil
            try await Self.consuming(upload, key: key) {
                try await images.lifecycle.install(upload, event: event, sourceName: key)
            }
            do {
                // The same bytes again under another key keep their first name (the entry's, else the dropped
                // file's the listing falls back to), as an HTTP POST of them does (until session 30 each S3 upload
                // renamed the picture in GET /images).
                let name = storedEarlier ? try images.index.entry(for: object.sha256.hex)?.name : key
                try images.index.upsert(
                    IndexedImage(
                        id: object.sha256.hex, hash: object.sha256, format: format, size: object.size, name: name,
                        updatedAt: Date()))
                let record = S3ObjectRecord(
                    eTag: eTag, contentType: contentType, metadata: metadata, key: key,
                    headers: headers.isEmpty ? nil : headers, checksum: checksum)
                try catalog.store(
                    previous.map { $0.updated(by: record, bytesType: format.mediaType) } ?? record, for: object.sha256)
            } catch {
                // The original and its event are in; only the id or the S3 record is missing: the object is served
                // (with a computed ETag), so the upload stands, and the log says what was not kept.
                logger.error(
                    "an S3 upload's index entry or record was not written",
                    metadata: ["key": "\(key)", "error": "\(error)"])
            }
        }
    }

    /// Runs a step of taking `upload` in: on failure the upload is discarded, and an HTTP API refusal is put in
    /// S3's words.
    static func consuming(_ upload: SpooledUpload, key: String, _ step: () async throws -> Void) async throws {
        do {
            try await step()
        } catch let error as APIError {
            upload.discard()
            throw translate(error, key: key)
        } catch {
            upload.discard()
            throw error
        }
    }

    /// The HTTP API's refusals in S3's words.
    static func translate(_ error: APIError, key: String) -> AWSError {
        switch error.status.code {
        case 413: return AWSError("EntityTooLarge", status: 400, "uploads/\(key): \(error.message)")
        case 415, 422, 400: return AWSError.invalidArgument("uploads/\(key): \(error.message)")
        case 507: return AWSError("InsufficientStorage", status: 507, error.message)
        case 503: return AWSError("ServiceUnavailable", status: 503, error.message)
        default: return AWSError("InternalError", status: 500, error.message)
        }
    }

    /// The object `x-amz-copy-source` names (`/BUCKET/KEY`, percent-encoded, an optional `?versionId`), checked
    /// against the key's buckets and the `x-amz-copy-source-if-*` preconditions: CopyObject and UploadPartCopy.
    func copySource(_ request: Request, source: String, auth: Authenticated) async throws -> CopySource {
        let parts = source.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let decoded = SignatureV4.percentDecode(parts.first.map(String.init) ?? source)
        if parts.count > 1 {
            let versionID = parts[1].split(separator: "&").first { $0.hasPrefix("versionId=") }
                .map { SignatureV4.percentDecode($0.dropFirst("versionId=".count)) }
            try Self.refuseVersion(versionID, argument: "x-amz-copy-source")
        }
        let (sourceBucketName, sourceKey) = Self.split("/" + decoded)
        guard let sourceBucketName, let sourceKey else {
            throw AWSError.invalidArgument("x-amz-copy-source must name a bucket and a key: \(source)")
        }
        guard let sourceBucket = S3Bucket(rawValue: sourceBucketName) else {
            throw AWSError.noSuchBucket(sourceBucketName)
        }
        guard sourceKey.utf8.count <= 1024 else { throw AWSError.keyTooLong }
        guard auth.credential.allows(bucket: sourceBucket.rawValue) else {
            throw AWSError.accessDenied("Access Denied: the key may not read the bucket \(sourceBucket.rawValue).")
        }
        let info = try await objectInfo(bucket: sourceBucket, key: sourceKey, readSmall: false)
        if let failed = Self.copyPreconditionFails(request, eTag: info.eTag, modified: info.modified) { throw failed }
        return CopySource(bucket: sourceBucket, key: sourceKey, info: info)
    }

    /// The object a copy reads from, where it was found.
    struct CopySource: Sendable {
        var bucket: S3Bucket
        var key: String
        var info: ObjectInfo
    }

    /// S3's refusal of a copy onto the object itself. An upload is content-addressed: the bytes of an original
    /// copied into `uploads` become that very original, so `aws s3 mv s3://originals/… s3://uploads/…` (a copy,
    /// then DeleteObject of the source) deleted the picture while reporting success. A copy with new metadata
    /// (`REPLACE`, which S3 allows onto itself) is refused too: `aws s3 mv … --metadata k=v` sends one, then deletes
    /// the source; the message says how to change the metadata instead.
    static func copyOfAnOriginal(_ key: String) -> AWSError {
        AWSError.invalidRequest(
            "This copy request is illegal because it is trying to copy an object to itself: an upload of these "
                + "bytes is the original \(key) itself (the store keeps one copy of each content). To change its "
                + "metadata, upload the same bytes again with it: aws s3 cp photo.jpg s3://uploads/photo.jpg "
                + "--metadata k=v. To run the functions on it again, invoke them: aws lambda invoke --function-name "
                + "thumbnail, or picpipe invoke thumbnail --key originals/\(key).")
    }

    /// CopyObject into `uploads` from any bucket: the source's bytes are uploaded again (ObjectCreated:Copy).
    func copyObject(_ request: Request, key: String, source: String, signed: SignedRequest, auth: Authenticated)
        async throws -> Response
    {
        guard S3Bucket.isUploadKey(key) else {
            throw AWSError.invalidArgument(
                "The key '\(key)' is not a plain relative path (no empty, '.' or '..' part, no line break).")
        }
        // S3's two directives; another was taken as COPY (until session 33).
        let directive = request.headers[AWSResponses.name("x-amz-metadata-directive")]
        if let directive, !["COPY", "REPLACE"].contains(directive.uppercased()) {
            throw AWSError.invalidArgument("Unknown metadata directive.")
                .with([("ArgumentName", "x-amz-metadata-directive"), ("ArgumentValue", directive)])
        }
        let replace = directive?.uppercased() == "REPLACE"
        let replacingMetadata = try replace ? Self.userMetadata(request) : nil
        let algorithm = try Self.namedChecksumAlgorithm(request)
        let copied = try await copySource(request, source: source, auth: auth)
        if copied.bucket == .originals { throw Self.copyOfAnOriginal(copied.key) }
        let info = copied.info
        guard info.size <= maxObjectBytes else { throw AWSError.entityTooLarge(limit: maxObjectBytes) }
        let object = try await join([info.file], into: layout.uploads, md5: true, checksum: algorithm)
        let metadata = replacingMetadata ?? info.metadata
        let contentType = replace ? request.headers[.contentType] : info.contentType
        let headers = replace ? S3ObjectOptions.keptHeaders(Self.header(of: request)) : info.headers
        // As S3: the algorithm the request names is computed over the copy, else the source's checksum is the
        // copy's (until session 36 a copy had none). No source here has one today: originals are refused above,
        // thumbnails and files dropped into uploads/ have no record.
        let checksum = object.checksum.flatMap { S3ObjectChecksum(header: $0.header, value: $0.value) } ?? info.checksum
        try await ingest(
            object, key: key, eTag: object.eTag, contentType: contentType, metadata: metadata, headers: headers,
            checksum: checksum, event: .objectCreatedCopy)
        return try AWSResponses.xml(
            CopyObjectResult(lastModified: S3XML.timestamp(Date()), eTag: object.eTag, checksum: checksum),
            root: "CopyObjectResult")
    }

    /// The algorithm a request's `x-amz-checksum-algorithm` names (CreateMultipartUpload, CopyObject), if any.
    /// - Throws: `InvalidRequest` for a name that is none of S3's algorithms.
    static func namedChecksumAlgorithm(_ request: Request) throws -> PayloadChecksum.Algorithm? {
        guard let name = request.headers[AWSResponses.name("x-amz-checksum-algorithm")] else { return nil }
        guard let algorithm = PayloadChecksum.Algorithm(name: name) else {
            throw AWSError.invalidRequest(
                "Checksum algorithm provided is unsupported. Please try again with any of the valid types: "
                    + "[\(PayloadChecksum.Algorithm.allCases.map(\.name).joined(separator: ", "))]")
        }
        return algorithm
    }

    static func copyPreconditionFails(_ request: Request, eTag: String, modified: Date) -> AWSError? {
        let seconds = modified.timeIntervalSince1970.rounded(.down)
        if let match = request.headers[AWSResponses.name("x-amz-copy-source-if-match")], match != eTag,
            "\"\(match)\"" != eTag
        {
            return AWSError.preconditionFailed
        }
        if let noneMatch = request.headers[AWSResponses.name("x-amz-copy-source-if-none-match")],
            noneMatch == eTag || "\"\(noneMatch)\"" == eTag
        {
            return AWSError.preconditionFailed
        }
        if let text = request.headers[AWSResponses.name("x-amz-copy-source-if-unmodified-since")],
            let date = HTTPDateText.parse(text), seconds > date.timeIntervalSince1970
        {
            return AWSError.preconditionFailed
        }
        if let text = request.headers[AWSResponses.name("x-amz-copy-source-if-modified-since")],
            let date = HTTPDateText.parse(text), seconds <= date.timeIntervalSince1970
        {
            return AWSError.preconditionFailed
        }
        return nil
    }

    /// Concatenates `files` into one temporary file in `folder` with its SHA-256 (the content id), sniffed format
    /// and, when `md5` (a single-part ETag: CopyObject), its MD5; one read of each file, hashed as it is copied.
    /// A multipart object's ETag is the MD5 of its parts' MD5s, so completing one skips the whole-object MD5.
    /// - Parameters:
    ///   - ranges: for each file, where its bytes start and how many (a part placed in a multipart upload's object
    ///     file); nil offsets, or no ranges: the whole file.
    ///   - checksum: a flexible checksum to compute over the bytes too (the object's `checksum`).
    func join(
        _ files: [URL], into folder: URL, md5 wantsMD5: Bool, ranges: [(Int?, Int)]? = nil,
        checksum algorithm: PayloadChecksum.Algorithm? = nil
    ) async throws -> SpooledObject {
        let path = folder.appendingPathComponent(AtomicFile.temporaryName(kind: S3BodySpool.temporaryKind)).path
        let maxBytes = maxObjectBytes
        return try await threadPool.runIfActive {
            let output = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard output >= 0 else {
                throw AWSError.serviceUnavailable(
                    .s3, "cannot create a temporary file in \(folder.path): \(String(cString: strerror(errno)))")
            }
            var kept = false
            defer {
                close(output)
                if !kept { unlink(path) }
            }
            var sha256 = SHA256Stream()
            var md5 = MD5Stream()
            var checksum = algorithm.map { PayloadChecksum($0) }
            var size = 0
            var head: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4 << 20)
            for (index, file) in files.enumerated() {
                let input = open(file.path, O_RDONLY | O_CLOEXEC)
                guard input >= 0 else {
                    throw AWSError.invalidPart(
                        "cannot read \(file.lastPathComponent): \(String(cString: strerror(errno)))")
                }
                defer { close(input) }
                var left = Int.max
                let ranged = ranges?[index].0 != nil
                if let range = ranges?[index], let offset = range.0 {
                    lseek(input, off_t(offset), SEEK_SET)
                    left = range.1
                }
                while left > 0 {
                    let count = buffer.withUnsafeMutableBytes {
                        read(input, $0.baseAddress, min($0.count, left))
                    }
                    if count > 0 { left -= count }
                    if count < 0 {
                        if errno == EINTR { continue }
                        throw AWSError.serviceUnavailable(
                            .s3, "cannot read \(file.path): \(String(cString: strerror(errno)))")
                    }
                    if count == 0 { break }
                    size += count
                    guard size <= maxBytes else { throw AWSError.entityTooLarge(limit: maxBytes) }
                    try buffer.withUnsafeBytes { raw in
                        let slice = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                        if head.count < 64 { head.append(contentsOf: slice.prefix(64 - head.count)) }
                        sha256.update(slice)
                        if wantsMD5 { md5.update(slice) }
                        checksum?.update(slice)
                        var offset = 0
                        while offset < count {
                            let written = write(output, slice.baseAddress! + offset, count - offset)
                            if written < 0 {
                                if errno == EINTR { continue }
                                throw errno == ENOSPC
                                    ? AWSError("InsufficientStorage", status: 507, "The store's disk is full.")
                                    : AWSError.serviceUnavailable(
                                        .s3, "cannot write the object: \(String(cString: strerror(errno)))")
                            }
                            offset += written
                        }
                    }
                }
                if ranged, left > 0 {
                    throw AWSError.invalidPart("part \(index + 1) is shorter on disk than recorded: upload it again.")
                }
            }
            guard fsync(output) == 0 else {
                throw AWSError.serviceUnavailable(
                    .s3, "cannot sync the object to disk: \(String(cString: strerror(errno)))")
            }
            kept = true
            let hex = sha256.hex
            return SpooledObject(
                path: path,
                sha256: ContentHash(hex: hex) ?? ContentHash(of: UnsafeRawBufferPointer(start: nil, count: 0)),
                md5: wantsMD5 ? md5.bytes : [], size: size, format: head.withUnsafeBytes { ImageFormat.sniff($0) },
                checksum: checksum.map { ($0.algorithm.header, $0.finalValue()) })
        }
    }

    // MARK: Deleting

    /// DeleteObject: an original goes the way of the HTTP DELETE (every id naming it, then its thumbnails,
    /// metadata and file, ObjectRemoved:Delete); an object still in `uploads` is removed; thumbnails are read-only.
    /// A missing key answers 204, as S3 does, unless the request is conditional (`S3DeleteCondition`).
    func deleteObject(_ request: Request, bucket: S3Bucket, key: String) async throws -> Response {
        try await delete(bucket: bucket, key: key, condition: try S3DeleteCondition.of(request))
        return AWSResponses.empty(.noContent)
    }

    /// Deletes the object of a key, when `condition` holds (checked under the content's lock for an original, so a
    /// PUT of the same bytes cannot change its ETag between the check and the delete).
    func delete(bucket: S3Bucket, key: String, condition: S3DeleteCondition? = nil) async throws {
        defer { cache.removeAll() }
        switch bucket {
        case .thumbnails:
            throw AWSError.accessDenied(
                "Access Denied: thumbnails are made by the thumbnail function; delete the original to remove them.")
        case .uploads:
            guard let file = bucket.file(for: key, in: layout) else {
                try condition?.check(eTag: nil, bucket: bucket, key: key)
                return
            }
            if let condition {
                try condition.check(eTag: await currentETag(of: file, hash: nil), bucket: bucket, key: key)
            }
            unlink(file.path)
        case .originals:
            guard let file = bucket.file(for: key, in: layout),
                let hash = ContentHash(hex: file.deletingPathExtension().lastPathComponent),
                let format = Self.format(of: file), FileManager.default.fileExists(atPath: file.path)
            else {
                try condition?.check(eTag: nil, bucket: bucket, key: key)
                return
            }
            let source = catalog.record(for: hash)?.key ?? key
            // Every id and the original go under the content's lock: a PUT of the same bytes waits for both.
            let removed = try await images.lifecycle.exclusively(hash) {
                if let condition {
                    try condition.check(eTag: await currentETag(of: file, hash: hash), bucket: bucket, key: key)
                }
                var entries: [IndexedImage] = []
                do {
                    for id in try images.index.ids(using: hash) {
                        if let entry = try images.index.remove(id: id) { entries.append(entry) }
                    }
                    return try images.lifecycle.removeOriginalIfUnused(hash: hash, format: format)
                } catch {
                    // Nothing changes when the original stays (a read-only store): its ids are put back (until
                    // session 37 the delete answered 204, the ids gone and the original still served).
                    for entry in entries { _ = try? images.index.upsert(entry) }
                    if let refusal = error as? APIError { throw Self.translate(refusal, key: key) }
                    throw AWSError.serviceUnavailable(.s3, "the image index could not be updated: \(error)")
                }
            }
            if let removed {
                await images.lifecycle.announceRemoval(removed, sourceName: source)
                catalog.remove(hash)
            }
        }
    }

    /// The ETag GetObject would answer for a stored file now (its content's record, else its MD5), read on the
    /// thread pool; nil when there is no such file.
    func currentETag(of file: URL, hash: ContentHash?) async throws -> String? {
        let catalog = self.catalog
        return try await threadPool.runIfActive {
            var status = stat()
            guard stat(file.path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
            if let hash, let record = catalog.record(for: hash) { return record.eTag }
            let modified = Date(timeIntervalSince1970: TimeInterval(status.st_mtim.tv_sec))
            return catalog.eTag(of: file, size: Int(status.st_size), modified: modified, hash: nil)
        }
    }

    static func format(of file: URL) -> ImageFormat? {
        ImageFormat(fileExtension: file.pathExtension.lowercased())
    }

    /// DeleteObjects: each key as DeleteObject (an `<ETag>` is its If-Match), errors per key.
    func deleteObjects(
        _ request: Request, bucket: S3Bucket, signed: SignedRequest, auth: Authenticated, context: AWSRequestContext
    ) async throws -> Response {
        let document = try S3XML.decode(
            DeleteRequest.self, from: try await smallBody(request, signed: signed, auth: auth, context: context))
        // As S3: a Delete without an Object does not validate (it was answered 200 until session 33).
        guard !document.objects.isEmpty else { throw AWSError.malformedXML("DeleteObjects lists no <Object>") }
        guard document.objects.count <= 1000 else {
            throw AWSError.malformedXML("DeleteObjects takes at most 1000 keys")
        }
        // LastModifiedTime and Size are conditions S3 takes for directory buckets only: the whole request is
        // refused before anything is deleted.
        for object in document.objects {
            if object.lastModifiedTime != nil { throw S3DeleteCondition.directoryBucketsOnly("<LastModifiedTime>") }
            if object.size != nil { throw S3DeleteCondition.directoryBucketsOnly("<Size>") }
        }
        var deleted: [DeleteResult.Deleted] = []
        var errors: [DeleteResult.Failure] = []
        for object in document.objects {
            // No version but `null` is stored (`refuseVersion`): another is that key's error, and nothing goes.
            if let version = object.versionID, version != "null" {
                errors.append(
                    .init(
                        key: object.key, versionID: version, code: "NoSuchVersion",
                        message: "The specified version does not exist."))
                continue
            }
            do {
                try await delete(
                    bucket: bucket, key: object.key, condition: object.eTag.map { S3DeleteCondition(ifMatch: $0) })
                if !document.quiet { deleted.append(.init(key: object.key, versionID: object.versionID)) }
            } catch let error as AWSError {
                errors.append(
                    .init(key: object.key, versionID: object.versionID, code: error.code, message: error.message))
            }
        }
        return try AWSResponses.xml(DeleteResult(deleted: deleted, errors: errors), root: "DeleteResult")
    }
}
