// Serving a store file: conditional requests, ranges, and a body read from disk in chunks.
import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// Answers GET and HEAD for a stored file.
///
/// Small files (thumbnails) cost one hop to the I/O thread pool: open, fstat, one `pread` of the bytes asked for,
/// close. Larger files are streamed in 64 KiB chunks as the client reads them (`FileStream`), so no file is ever
/// held whole, nor read far ahead of a client that stopped reading.
/// Content-addressed small files (thumbnails) are kept in a `FileCache`: a hit does no I/O and no hop at all.
struct FileResponder: Sendable {
    /// Files up to this size are read in the same thread-pool hop as the `open`.
    static let singleReadLimit = 256 * 1024
    /// Several ranges are read into one `multipart/byteranges` body when they hold at most this many bytes;
    /// more, and the whole file is streamed instead (RFC 9110 lets a server ignore Range).
    static let multipartReadLimit = 8 * 1024 * 1024
    let threadPool: NIOThreadPool
    /// Where immutable small files are kept between requests.
    let cache: FileCache

    init(threadPool: NIOThreadPool = .singleton, cache: FileCache = FileCache()) {
        self.threadPool = threadPool
        self.cache = cache
    }

    /// What the thread-pool hop found.
    private enum Opened: Sendable {
        case missing
        case notModified(modified: Int)
        case unsatisfiable(size: Int)
        /// If-Match or If-Unmodified-Since does not hold: 412.
        case preconditionFailed(Preconditions.Failure)
        case read(ByteBuffer?, range: ClosedRange<Int>?, size: Int, modified: Int)
        /// Several ranges as one multipart body (nil for HEAD).
        case multipart(ByteBuffer?, MultipartByteRanges, modified: Int)
        /// The whole file, read to be cached, with its own modification second.
        case whole(ByteBuffer, modified: Int)
        case stream(range: ClosedRange<Int>?, size: Int, modified: Int)
    }

    /// The response for `file`, or `nil` when the file does not exist.
    /// - Parameters:
    ///   - cacheAs: the content `file` derives from, when its path names immutable bytes (a thumbnail): the file
    ///     is then served from and kept in the cache when small enough.
    ///   - sources: paths of which one must still exist once the file is open (a thumbnail's original): a derivative
    ///     whose original was deleted is not served, even if a late writer left it on disk for a moment.
    func respond(
        to request: Request, file: StoredFile, cacheAs hash: ContentHash? = nil,
        sources: @autoclosure () -> [String] = [], context: some RequestContext
    ) async throws -> Response? {
        let conditions = Self.conditions(request.headers, file: file)
        let isHead = request.method == .head
        let path = file.path
        if hash != nil, let cached = cache.lookup(path, now: .now) {
            let modified = cached.lastModified(for: file)
            try conditions.checkPreconditions(modified: modified)
            return try cached.response(
                to: request, file: file, notModified: conditions.notModified(modified: modified),
                rangeHeader: conditions.range(modified: modified))
        }
        // Only a read from disk checks the original (a cached entry was checked when it was read).
        let sources = sources()
        let generation = hash == nil ? 0 : cache.generation
        let wholeLimit = hash == nil ? -1 : cache.entryLimit
        let floor = file.modifiedFloor
        let opened: Opened = try await threadPool.runIfActive {
            guard let (descriptor, size, fileModified) = Self.openRegular(path, sources: sources) else {
                return .missing
            }
            defer { close(descriptor) }
            if let buffer = Self.readWhole(descriptor, size: size, limit: wholeLimit) {
                return .whole(buffer, modified: fileModified)
            }
            // Dated no earlier than the file's `modifiedFloor` (a thumbnail: when its size's recipes took effect).
            let modified = max(fileModified, floor)
            if let failure = conditions.preconditions.failure(conditions.state(modified), changesState: false) {
                return .preconditionFailed(failure)
            }
            if conditions.notModified(modified: modified) { return .notModified(modified: modified) }
            let range: ClosedRange<Int>?
            switch ByteRange.parse(conditions.range(modified: modified), size: size, multiple: true) {
            case .whole: range = nil
            case .part(let part): range = part
            case .parts(let parts):
                let multipart = MultipartByteRanges(ranges: parts, size: size, contentType: file.contentType)
                if multipart.partBytes <= Self.multipartReadLimit {
                    let body = isHead ? nil : multipart.body { Self.read(descriptor, $0) }
                    return .multipart(body, multipart, modified: modified)
                }
                range = nil
            case .unsatisfiable: return .unsatisfiable(size: size)
            }
            let span = range ?? 0...max(0, size - 1)
            if isHead || size == 0 { return .read(nil, range: range, size: size, modified: modified) }
            guard span.count <= Self.singleReadLimit else {
                return .stream(range: range, size: size, modified: modified)
            }
            let buffer = Self.read(descriptor, span) ?? ByteBuffer()
            return .read(buffer, range: range, size: size, modified: modified)
        }
        var fields = HTTPFields()
        fields.reserveCapacity(8)
        fields[.eTag] = file.eTag
        fields[.cacheControl] = file.cacheControl
        switch opened {
        case .missing:
            if hash != nil { cache.remove(path) }
            return nil
        case .whole(let buffer, let fileModified):
            guard let hash else { return nil }
            let cached = CachedFile(body: buffer, hash: hash, file: file, modified: fileModified, readAt: .now)
            cache.insert(path, cached, generation: generation)
            let modified = cached.lastModified(for: file)
            try conditions.checkPreconditions(modified: modified)
            return try cached.response(
                to: request, file: file, notModified: conditions.notModified(modified: modified),
                rangeHeader: conditions.range(modified: modified))
        case .notModified(let modified):
            fields[.lastModified] = HTTPDate.format(modified)
            return Response(status: .notModified, headers: fields)
        case .unsatisfiable(let size):
            throw APIError.rangeNotSatisfiable(size: size)
        case .preconditionFailed(let failure):
            throw APIError.preconditionFailed(failure, target: "the file")
        case .read(let buffer, let range, let size, let modified):
            Self.describe(&fields, file: file, range: range, size: size, modified: modified)
            let body = buffer.map { ResponseBody(byteBuffer: $0) } ?? ResponseBody()
            return Response(status: range == nil ? .ok : .partialContent, headers: fields, body: body)
        case .multipart(let body, let multipart, let modified):
            Self.describe(&fields, file: file, multipart: multipart, modified: modified)
            return Response(
                status: .partialContent, headers: fields,
                body: body.map { ResponseBody(byteBuffer: $0) } ?? ResponseBody())
        case .stream(let range, let size, let modified):
            Self.describe(&fields, file: file, range: range, size: size, modified: modified)
            let body = FileStream.body(path: path, range: range ?? 0...(size - 1), threadPool: threadPool)
            return Response(status: range == nil ? .ok : .partialContent, headers: fields, body: body)
        }
    }

    /// The answer for `file` from the cache alone, or `nil` when it is not cached. The request that finds an entry
    /// due for a new read checks it on disk first (`stillHeld`: the file unchanged and one of `sources` there, two
    /// system calls), then the entry is trusted again or dropped; the requests meanwhile are given the entry as it
    /// was, for the length of that check (`PathCache.lookupWhileRereading`). Until session 33 the finder was answered
    /// from memory and the file read again behind it, so after a DELETE by another process (which shares no cache)
    /// each thumbnail held here was served once more, however long after.
    /// - Parameter sources: paths of which one must still exist (the thumbnail's original), as for `respond`.
    /// - Throws: `APIError.rangeNotSatisfiable` for a Range past the end, `APIError.preconditionFailed` for an
    ///   If-Match or If-Unmodified-Since that does not hold.
    func cachedAnswer(
        isHead: Bool, headers: HTTPFields, file: StoredFile, sources: @autoclosure () -> [String]
    ) throws -> CachedAnswer? {
        let now = ContinuousClock.now
        guard let (found, due) = cache.lookupWhileRereading(file.path, now: now) else { return nil }
        var cached = found
        if due {
            let generation = cache.generation
            guard Self.stillHeld(cached, at: file.path, sources: sources()) else {
                cache.remove(file.path)
                return nil
            }
            cached = cached.renewed(at: now)
            cache.insert(file.path, cached, generation: generation)
        }
        let conditions = Self.conditions(headers, file: file)
        let modified = cached.lastModified(for: file)
        try conditions.checkPreconditions(modified: modified)
        var answer = try cached.answer(
            isHead: isHead, file: file, notModified: conditions.notModified(modified: modified),
            rangeHeader: conditions.range(modified: modified))
        let until = cached.readAt + cache.revalidateAfter
        // (An entry given while its file is read again is past `until`: nothing to keep.)
        if answer.status == .ok, until > now, headers[.ifNoneMatch] == nil, headers[.range] == nil,
            headers[.ifRange] == nil, headers[.ifModifiedSince] == nil, conditions.preconditions.isEmpty
        {
            answer.reusableUntil = until
        }
        return answer
    }

    /// Whether a cached file is still the one on disk (a regular file of the same size and modification second)
    /// and one of `sources` (if any) still exists.
    private static func stillHeld(_ cached: CachedFile, at path: String, sources: [String]) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) == cached.size,
            Int(info.st_mtim.tv_sec) == cached.modified
        else { return false }
        return sources.isEmpty || sources.contains(where: { access($0, F_OK) == 0 })
    }

    /// Opens a regular file when one of `sources` (if any) still exists: its descriptor (to close), size and
    /// modification second.
    private static func openRegular(
        _ path: String, sources: [String]
    ) -> (descriptor: Int32, size: Int, modified: Int)? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG,
            sources.isEmpty || sources.contains(where: { access($0, F_OK) == 0 })
        else {
            close(descriptor)
            return nil
        }
        return (descriptor, Int(info.st_size), Int(info.st_mtim.tv_sec))
    }

    /// What a request's conditional fields ask.
    struct Conditions {
        /// If-None-Match names the file's ETag.
        var tagMatches: Bool
        /// If-Modified-Since, when there is no If-None-Match (which takes precedence, RFC 9110 13.2.2).
        var modifiedSince: Int?
        /// The Range header.
        var rangeHeader: String?
        /// If-Range: the ETag or the date (seconds) the client's partial copy has.
        var ifRange: IfRange?
        /// The file's ETag, for If-Range.
        var eTag: String
        /// If-Match and If-Unmodified-Since (412), evaluated before the fields above (RFC 9110 13.2.2).
        var preconditions: Preconditions

        /// The file as the preconditions compare it.
        func state(_ modified: Int) -> Preconditions.State { Preconditions.State(eTag: eTag, modified: modified) }

        /// Throws the 412 of an If-Match or If-Unmodified-Since that does not hold for the file.
        func checkPreconditions(modified: Int) throws {
            if let failure = preconditions.failure(state(modified), changesState: false) {
                throw APIError.preconditionFailed(failure, target: "the file")
            }
        }

        enum IfRange {
            case tag(String)
            case date(Int)
        }

        /// Whether the client's copy is current: its tag matches, or the file is no newer than its date.
        func notModified(modified: Int) -> Bool {
            tagMatches || modifiedSince.map { modified <= $0 } ?? false
        }

        /// The Range header to honour for a file last modified at `modified`: none when If-Range names another
        /// validator (the representation changed: it is sent whole). A date must equal the file's Last-Modified,
        /// as nginx compares it (until session 28 a date never matched, so a download resumed by date was sent
        /// whole again).
        func range(modified: Int) -> String? {
            switch ifRange {
            case nil: return rangeHeader
            case .tag(let tag)?: return tag == eTag ? rangeHeader : nil
            case .date(let date)?: return date == modified ? rangeHeader : nil
            }
        }

    }

    /// The conditions of a request for `file`.
    static func conditions(_ headers: HTTPFields, file: StoredFile) -> Conditions {
        let ifNoneMatch = headers[.ifNoneMatch]
        // An entity tag is quoted (`"…"` or `W/"…"`, which never matches: If-Range needs a strong one); anything
        // else is read as a date, and an unreadable one matches nothing.
        let ifRange = headers[.ifRange].map { value -> Conditions.IfRange in
            if value.hasPrefix("\"") || value.hasPrefix("W/") { return .tag(value) }
            return HTTPDate.parse(value).map { .date($0) } ?? .tag(value)
        }
        return Conditions(
            tagMatches: matches(ifNoneMatch, eTag: file.eTag),
            modifiedSince: ifNoneMatch == nil ? headers[.ifModifiedSince].flatMap(HTTPDate.parse) : nil,
            rangeHeader: headers[.range], ifRange: ifRange, eTag: file.eTag, preconditions: Preconditions(headers))
    }

    /// The whole file, when it is not empty, at most `limit` bytes, and read in full.
    private static func readWhole(_ descriptor: Int32, size: Int, limit: Int) -> ByteBuffer? {
        guard size > 0, size <= limit, let buffer = read(descriptor, 0...(size - 1)), buffer.readableBytes == size
        else { return nil }
        return buffer
    }

    /// Reads `span` of an open file with `pread` (short reads continued; stops early at end of file).
    /// - Returns: `nil` when `span` is empty.
    private static func read(_ descriptor: Int32, _ span: ClosedRange<Int>) -> ByteBuffer? {
        guard !span.isEmpty else { return nil }
        var buffer = ByteBufferAllocator().buffer(capacity: span.count)
        var offset = span.lowerBound
        while offset <= span.upperBound {
            let want = span.upperBound - offset + 1
            let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw in
                pread(descriptor, raw.baseAddress, want, off_t(offset))
            }
            guard got > 0 else { break }
            offset += got
        }
        return buffer
    }

    private static func describe(
        _ fields: inout HTTPFields, file: StoredFile, range: ClosedRange<Int>?, size: Int, modified: Int
    ) {
        fields[.contentType] = file.contentType
        fields[.lastModified] = HTTPDate.format(modified)
        fields[.acceptRanges] = "bytes"
        if let range {
            fields[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
            fields[.contentLength] = String(range.count)
        } else {
            fields[.contentLength] = String(size)
        }
    }

    /// The fields of a `multipart/byteranges` answer (each part names its own range; the answer its type).
    static func describe(_ fields: inout HTTPFields, file: StoredFile, multipart: MultipartByteRanges, modified: Int) {
        multipart.describe(&fields)
        fields[.lastModified] = HTTPDate.format(modified)
        fields[.acceptRanges] = "bytes"
    }

    /// Whether an If-None-Match value matches the entity tag (weak comparison, as RFC 9110 requires there).
    static func matches(_ ifNoneMatch: String?, eTag: String) -> Bool {
        guard let ifNoneMatch else { return false }
        let bare = eTag.hasPrefix("W/") ? String(eTag.dropFirst(2)) : eTag
        for candidate in ifNoneMatch.split(separator: ",") {
            var tag = candidate.trimmingCharacters(in: .whitespaces)
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = String(tag.dropFirst(2)) }
            if tag == bare { return true }
        }
        return false
    }
}
