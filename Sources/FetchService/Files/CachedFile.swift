// A small store file held in memory with the headers that describe it, so a hit answers without file I/O.
import HTTPTypes
import Hummingbird
import NIOCore
import PipelineCore

/// One file of the `FileCache`: its bytes and the headers of its 200 answer, built once.
struct CachedFile: Sendable {
    /// The whole file.
    let body: ByteBuffer
    /// The content whose derivative this is (what DELETE and PUT invalidate by).
    let hash: ContentHash
    /// The entity tag the file was cached under.
    let eTag: String
    /// The file's modification second (what `FileResponder` compares with the file on disk).
    let modified: Int
    /// The second Last-Modified names (If-Modified-Since compares with it): the file's, or the `StoredFile`'s
    /// `modifiedFloor` when later, as of when the entry was made.
    private let shown: Int
    /// Last-Modified, formatted once.
    let lastModified: String
    /// The headers of a 200 (ETag, Cache-Control, Content-Type, Last-Modified, Accept-Ranges, Content-Length).
    let fields: HTTPFields
    /// The Cache-Control value in `fields`.
    let cacheControl: String
    /// When the file was last read from disk; after `FileCache.revalidateAfter` the next request reads it again.
    private(set) var readAt: ContinuousClock.Instant

    init(body: ByteBuffer, hash: ContentHash, file: StoredFile, modified: Int, readAt: ContinuousClock.Instant) {
        self.body = body
        self.hash = hash
        self.eTag = file.eTag
        self.cacheControl = file.cacheControl
        self.readAt = readAt
        self.modified = modified
        shown = max(modified, file.modifiedFloor)
        lastModified = HTTPDate.format(shown)
        var fields = HTTPFields()
        fields.reserveCapacity(8)
        fields[.eTag] = file.eTag
        fields[.cacheControl] = file.cacheControl
        fields[.contentType] = file.contentType
        fields[.lastModified] = lastModified
        fields[.acceptRanges] = "bytes"
        fields[.contentLength] = String(body.readableBytes)
        self.fields = fields
    }

    /// The Last-Modified second of the entry served as `file`: the file's time, or the size's recipes' date when
    /// later (a reload may have moved that date since the entry was made).
    func lastModified(for file: StoredFile) -> Int { max(modified, file.modifiedFloor) }

    /// The same file, found unchanged on disk at `now`: trusted for another `revalidateAfter`.
    func renewed(at now: ContinuousClock.Instant) -> CachedFile {
        var copy = self
        copy.readAt = now
        return copy
    }

    /// The bytes held (what counts against the cache's budget).
    var size: Int { body.readableBytes }

    /// The answer to a GET or HEAD of `file` (whose path this entry was cached under), as `FileResponder` would
    /// give it from disk: 304 for a matching If-None-Match, 206/416 for a Range, otherwise 200.
    func response(to request: Request, file: StoredFile, notModified: Bool, rangeHeader: String?) throws -> Response {
        try answer(isHead: request.method == .head, file: file, notModified: notModified, rangeHeader: rangeHeader)
            .response
    }

    /// The same answer as status, headers and body bytes: what both the router's path and the event-loop shortcut
    /// (`CachedThumbnailHandler`) send.
    func answer(isHead: Bool, file: StoredFile, notModified: Bool, rangeHeader: String?) throws -> CachedAnswer {
        let dated = lastModified(for: file)
        let lastModified = dated == shown ? self.lastModified : HTTPDate.format(dated)
        if notModified {
            var fields = HTTPFields()
            fields.reserveCapacity(4)
            fields[.eTag] = file.eTag
            fields[.cacheControl] = file.cacheControl
            fields[.lastModified] = lastModified
            return CachedAnswer(status: .notModified, fields: fields, body: nil)
        }
        var fields = self.fields
        if file.cacheControl != cacheControl { fields[.cacheControl] = file.cacheControl }
        if dated != shown { fields[.lastModified] = lastModified }
        guard let rangeHeader else { return CachedAnswer(status: .ok, fields: fields, body: isHead ? nil : body) }
        switch ByteRange.parse(rangeHeader, size: size, multiple: true) {
        case .whole:
            return CachedAnswer(status: .ok, fields: fields, body: isHead ? nil : body)
        case .parts(let ranges):
            let multipart = MultipartByteRanges(ranges: ranges, size: size, contentType: file.contentType)
            multipart.describe(&fields)
            let parts =
                isHead ? nil : multipart.body { body.getSlice(at: body.readerIndex + $0.lowerBound, length: $0.count) }
            return CachedAnswer(status: .partialContent, fields: fields, body: parts)
        case .unsatisfiable:
            throw APIError.rangeNotSatisfiable(size: size)
        case .part(let range):
            fields[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
            fields[.contentLength] = String(range.count)
            let part = isHead ? nil : body.getSlice(at: body.readerIndex + range.lowerBound, length: range.count)
            return CachedAnswer(status: .partialContent, fields: fields, body: part)
        }
    }
}

/// An answer made from memory: no body for HEAD and 304.
package struct CachedAnswer: Sendable {
    package var status: HTTPResponse.Status
    package var fields: HTTPFields
    package var body: ByteBuffer?
    /// Until when the same request (without conditions) may be given this answer again without a new look-up,
    /// while the shortcut's `revision()` stays the same: set for a whole 200 from the cache (the time its file is due
    /// for a new read).
    package var reusableUntil: ContinuousClock.Instant? = nil

    package init(status: HTTPResponse.Status, fields: HTTPFields, body: ByteBuffer?) {
        self.status = status
        self.fields = fields
        self.body = body
    }

    /// The fields to send: the answer's, then the ones `Application` adds to every answer (Date, Server), and
    /// `Connection: close` when the connection closes after it (RFC 9112 9.6: a client that reads the answer as
    /// keep-alive reuses a closed socket). For the handlers that answer ahead of the request loop.
    func fields(date: String, closes: Bool) -> HTTPFields {
        var all = fields
        Self.eachAddedField(date: date, closes: closes) { all[$0] = $1 }
        return all
    }

    /// The fields `fields(date:closes:)` adds to the answer's own, in order (the raw path writes them after a kept
    /// answer's preformatted fields).
    static func eachAddedField(date: String, closes: Bool, _ body: (HTTPField.Name, String) -> Void) {
        body(.date, date)
        body(.server, EventLoopShortcutHandler.serverName)
        if closes { body(.connection, "close") }
    }

    /// As a Hummingbird response.
    var response: Response {
        Response(status: status, headers: fields, body: body.map { ResponseBody(byteBuffer: $0) } ?? ResponseBody())
    }
}
