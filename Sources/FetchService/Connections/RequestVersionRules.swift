// What the conversion to HTTPTypes forgets about a decoded head, checked between the two: its version and a second
// Host field. RFC 9112: an HTTP/1.1 request without Host, or any with two, is 400 (§3.2; the conversion kept the
// first as the authority and passed a second on as a plain field); an HTTP/1.0 connection closes after the answer
// unless the client asked to keep it (§9.3; it was kept open until the idle timeout, as the request loop could not
// tell a 1.0 request from a 1.1 one), and an answer that keeps it says so (`Connection: keep-alive`, as nginx
// answers: a 1.0 client assumes the server closes otherwise). An answer of unknown length to a 1.0 request (the
// event stream) is not chunked (§6.1: Transfer-Encoding only to a 1.1 request): its end is the connection's close.
// An HTTP/1.0 request's `Expect: 100-continue` is dropped (RFC 9110 §10.1.1: a server must ignore it).
import NIOCore
import NIOHTTP1

/// Applies the version's rules to each decoded request head and to its answer.
final class RequestVersionRules: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let head: RequestHeadGuard
    /// For each request not answered yet, in order: whether it is an HTTP/1.0 request, and one asking to keep the
    /// connection.
    private var pending: CircularBuffer<(isHTTP10: Bool, keepAlive: Bool)> = []
    /// The answer being written ends with the connection's close (an HTTP/1.0 answer without a length).
    private var closeAfterAnswer = false

    /// - Parameter head: where `RequestLimitHandler` finds the reason to refuse a head.
    init(head: RequestHeadGuard) {
        self.head = head
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var request) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        let hosts = request.headers["Host"].count
        if hosts > 1 {
            head.malformed = "the request has \(hosts) Host fields (RFC 9112 allows one)"
        } else if hosts == 0, request.version.major == 1, request.version.minor >= 1 {
            head.malformed = "an HTTP/1.1 request needs a Host field (RFC 9112 3.2)"
        }
        let isHTTP10 = request.version == .http1_0
        let asksKeepAlive = request.headers["Connection"].contains { $0.lowercased().contains("keep-alive") }
        pending.append((isHTTP10, isHTTP10 && asksKeepAlive))
        guard isHTTP10, !asksKeepAlive || request.headers.contains(name: "Expect") else {
            context.fireChannelRead(data)
            return
        }
        if !asksKeepAlive {
            // The request loop reads `Connection: close` and closes after its answer, which says so.
            request.headers.replaceOrAdd(name: "Connection", value: "close")
        }
        // RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0 request is ignored (a 1.0 client may take
        // the "100 Continue" for the final answer; until session 32 it was sent one).
        request.headers.remove(name: "Expect")
        context.fireChannelRead(wrapInboundOut(.head(request)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if closeAfterAnswer, case .end = unwrapOutboundIn(data) {
            closeAfterAnswer = false
            let written = context.eventLoop.makePromise(of: Void.self)
            // Completed on the context's event loop, where the context may be used.
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.futureResult.whenComplete { _ in bound.value.close(promise: nil) }
            written.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: written)
            return
        }
        // A final answer (not a "100 Continue") is the next request's.
        guard case .head(var response) = unwrapOutboundIn(data), response.status.code >= 200,
            let (isHTTP10, keepAlive) = pending.popFirst()
        else {
            context.write(data, promise: promise)
            return
        }
        if isHTTP10, response.status.mayHaveResponseBody, !response.headers.contains(name: "Content-Length") {
            // The encoder would chunk an HTTP/1.1 answer of unknown length, which a 1.0 client cannot read (it sees
            // the chunk sizes inside the body); an HTTP/1.0 answer it sends as it comes, ended by the close (until
            // session 29 the event stream reached 1.0 clients chunked).
            response.version = .http1_0
            response.headers.replaceOrAdd(name: "Connection", value: "close")
            closeAfterAnswer = true
            context.write(wrapOutboundOut(.head(response)), promise: promise)
            return
        }
        if keepAlive, !response.headers["Connection"].contains(where: { $0.lowercased() == "close" }) {
            response.headers.replaceOrAdd(name: "Connection", value: "keep-alive")
            context.write(wrapOutboundOut(.head(response)), promise: promise)
            return
        }
        context.write(data, promise: promise)
    }
}
