// The hot route without the router: a GET or HEAD of a thumbnail already in the file cache is answered before
// the router's trie and middleware chain run; everything else goes to the router unchanged.
import HTTPTypes
import Hummingbird
import Synchronization

/// The server's responder: cached thumbnails first, then the router.
///
/// The shortcut only answers what the router would answer the same way: GET or HEAD of
/// `/images/{id}/thumbnails/{size}` with no query (so no signed URL), reads not key-protected, a valid id, a
/// configured size, and the file in the cache (ranges and 304s included; a 416 goes to the router). It records
/// the request in the same metrics, under the same route, as `APIErrorMiddleware` does.
public struct FetchResponder: HTTPResponder {
    /// The request context.
    public typealias Context = FetchRequestContext
    let router: RouterResponder<FetchRequestContext>
    let api: ImageAPI
    /// The route label the router's endpoint path gives the thumbnail route (`/images/{id}/thumbnails/{size}`).
    let route: String

    init(router: RouterResponder<FetchRequestContext>, api: ImageAPI) {
        self.router = router
        self.api = api
        route = RouterPath(RouteTable.thumbnailPath).description
    }

    /// Answers from the cache when it can, otherwise through the router; every answer carries the request's id.
    public func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        context.requestID = RequestID.of(request.headers)
        var response: Response
        if let answer = api.cachedThumbnail(request.head) {
            api.metrics.record(
                route: route, method: request.method.rawValue, status: answer.status.code,
                duration: ContinuousClock.now - start)
            response = answer.response
        } else {
            response = try await router.respond(to: Self.unreservedDecoded(request), context: context)
        }
        response.headers[RequestID.field] = context.requestID
        // Hummingbird's request loop closes the connection after this answer: say so (RFC 9112, 9.6), or a client
        // that reads it as keep-alive sends its next request into a closed socket.
        if request.headers[.connection] == "close" { response.headers[.connection] = "close" }
        return response
    }
}

extension FetchResponder {
    /// The request with its path's percent-encoded unreserved characters decoded (`UnreservedPathDecoding`), as
    /// the router is to see it; the shortcuts ahead of it leave every path with a `%` in the id or size to it.
    static func unreservedDecoded(_ request: Request) -> Request {
        guard let path = request.head.path, let decoded = UnreservedPathDecoding.decoded(path) else { return request }
        var head = request.head
        head.path = decoded
        return Request(head: head, body: request.body)
    }
}

extension ImageAPI {
    /// The answer to a thumbnail request from the file cache, or `nil` when it needs the full route (not a plain
    /// thumbnail GET/HEAD, anything to check or resolve on disk, not cached, or an error to answer).
    func cachedThumbnail(_ head: HTTPRequest) -> CachedAnswer? {
        // Only a request with nothing to check or count (RequestAuthorizer.isOpen); credentials that are sent are
        // checked (a wrong one is 401) and counted by the route. A query (a signature, anything) takes the route.
        let isHead = head.method == .head
        guard isHead || head.method == .get, let path = head.path, !path.utf8.contains(UInt8(ascii: "?")),
            authorizer.isOpen(headers: head.headerFields, needed: .signedRead)
        else { return nil }
        // A script's request from a listed origin takes the route, whose middleware echoes its origin.
        if settings.crossOrigin.needsRoute(head) { return nil }
        let negotiate = settings.negotiateFormats
        guard let (idText, label) = ThumbnailURLPath.split(path), !idText.utf8.contains(UInt8(ascii: "%")),
            let id = ImageID(String(idText)),
            let recipe = thumbnails.recipe(
                cachedLabel: String(label), accept: head.headerFields[.accept], negotiate: negotiate),
            // An index that cannot be read now leaves the answer to the route (503).
            let hash = try? resolver.hashWithoutDisk(id)
        else { return nil }
        let file = thumbnails.file(recipe, hash: hash, contentAddressed: id.value == hash.hex, protected: false)
        guard
            var answer = try? files.cachedAnswer(
                isHead: isHead, headers: head.headerFields, file: file, sources: resolver.originalPaths(of: hash))
        else {
            return nil
        }
        if negotiate { answer.fields[.vary] = "Accept" }
        settings.crossOrigin.decorate(&answer.fields, origin: head.headerFields[.origin])
        return answer
    }
}

/// The HTTP API's event-loop shortcut: cached thumbnails, counted as the route counts them.
struct ThumbnailShortcut: EventLoopShortcut {
    let api: ImageAPI
    /// The route label the metrics record, as the router's path gives it.
    let route = RouterPath(RouteTable.thumbnailPath).description
    /// The route's instruments for a 200 to a GET and to a HEAD (what every answer given again is), found once.
    private let reused = OKInstruments()

    init(api: ImageAPI) { self.api = api }

    func mayAnswer(_ head: HTTPRequest) -> Bool { head.path?.hasPrefix("/images/") == true }

    func answer(_ head: HTTPRequest) -> CachedAnswer? {
        let start = ContinuousClock.now
        guard let answer = api.cachedThumbnail(head) else { return nil }
        count(method: head.method, status: answer.status, duration: ContinuousClock.now - start)
        return answer
    }

    /// The id index, the file cache and the recipes: what `cachedThumbnail` reads besides settings that never
    /// change while serving. `nil` when the index is shared with other processes (PostgreSQL).
    func revision() -> ShortcutRevision? {
        guard let index = api.index.revision else { return nil }
        return ShortcutRevision(
            index: index, files: api.files.cache.generation, recipes: api.thumbnails.revision,
            access: api.live.revision)
    }

    func countReused(method: HTTPRequest.Method, status: HTTPResponse.Status, duration: Duration) {
        guard status == .ok, method == .get || method == .head else {
            return count(method: method, status: status, duration: duration)
        }
        reused.of(method) { api.metrics.instruments(route: route, method: method.rawValue, status: status.code) }
            .record(duration)
        api.metrics.eventLoopAnswers.increment()
    }

    /// An answer given on the event loop, counted under the route as `APIErrorMiddleware` counts the router's.
    private func count(method: HTTPRequest.Method, status: HTTPResponse.Status, duration: Duration) {
        api.metrics.record(route: route, method: method.rawValue, status: status.code, duration: duration)
        api.metrics.eventLoopAnswers.increment()
    }
}

/// A route's instruments for a 200 to a GET and to a HEAD, each found in `HTTPMetrics` the first time it is needed
/// (so /metrics lists no series before its first answer) and kept: the look-up by labels was a quarter of the
/// raw path's own time.
private final class OKInstruments: Sendable {
    // A lock, not `AtomicLazyReference`: its `load` is not specialised here and instantiated generic metadata on
    // every call (a third of what this was meant to save).
    private let kept = Mutex<(get: HTTPMetrics.RouteInstruments?, head: HTTPMetrics.RouteInstruments?)>((nil, nil))

    /// The instruments of a 200 to `method` (GET or HEAD), found with `find` the first time.
    func of(
        _ method: HTTPRequest.Method, find: () -> HTTPMetrics.RouteInstruments
    ) -> HTTPMetrics.RouteInstruments {
        let head = method == .head
        if let found = kept.withLock({ head ? $0.head : $0.get }) { return found }
        let made = find()
        kept.withLock { if head { $0.head = made } else { $0.get = made } }
        return made
    }
}

/// `/images/{id}/thumbnails/{size}` taken apart without the router.
enum ThumbnailURLPath {
    /// The id and size components, or `nil` unless the path has exactly that shape (no empty component).
    static func split(_ path: String) -> (id: Substring, size: Substring)? {
        // On the UTF-8 bytes (`Substring.hasPrefix` compares characters: it was a fifth of the cached lookup).
        let bytes = path.utf8
        let prefix = "/images/".utf8
        let middle = "/thumbnails/".utf8
        guard bytes.starts(with: prefix) else { return nil }
        let idStart = bytes.index(bytes.startIndex, offsetBy: prefix.count)
        guard let slash = bytes[idStart...].firstIndex(of: UInt8(ascii: "/")), slash > idStart,
            bytes[slash...].starts(with: middle)
        else { return nil }
        let sizeStart = bytes.index(slash, offsetBy: middle.count)
        guard sizeStart < bytes.endIndex, !bytes[sizeStart...].contains(UInt8(ascii: "/")) else { return nil }
        return (path[idStart..<slash], path[sizeStart...])
    }
}
