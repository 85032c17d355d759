// What the conversion to HTTPTypes forgets about a decoded head, checked between the two: its version and a second
// Host field. RFC 9112: an HTTP/1.1 request without Host, or any with two, is 400 (§3.2; the conversion kept the
// first as the authority and passed a second on as a plain field); an HTTP/1.0 connection closes after the answer
// unless the client asked to keep it (§9.3; it was kept open until the idle timeout, as the request loop could not
// tell a 1.0 request from a 1.1 one), and an answer that keeps it says so (`Connection: keep-alive`, as nginx
// answers: a 1.0 client assumes the server closes otherwise).
import NIOCore
import NIOHTTP1

/// Applies the version's rules to each decoded request head and to its answer.
final class RequestVersionRules: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let head: RequestHeadGuard
    /// For each request not answered yet, in order: whether it is an HTTP/1.0 request asking to keep the connection.
    private var keepAlive10: CircularBuffer<Bool> = []

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
        keepAlive10.append(isHTTP10 && asksKeepAlive)
        if isHTTP10, !asksKeepAlive {
            // The request loop reads `Connection: close` and closes after its answer, which says so.
            request.headers.replaceOrAdd(name: "Connection", value: "close")
            context.fireChannelRead(wrapInboundOut(.head(request)))
            return
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // A final answer (not a "100 Continue") is the next request's.
        guard case .head(var response) = unwrapOutboundIn(data), response.status.code >= 200,
            let keepAlive = keepAlive10.popFirst()
        else {
            context.write(data, promise: promise)
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
