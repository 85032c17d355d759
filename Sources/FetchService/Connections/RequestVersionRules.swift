// What the conversion to HTTPTypes forgets about a decoded head, checked between the two: its version and a second
// Host field. RFC 9112: an HTTP/1.1 request without Host, or any with two, is 400 (§3.2; the conversion kept the
// first as the authority and passed a second on as a plain field); an HTTP/1.0 connection closes after the answer
// unless the client asked to keep it (§9.3; it was kept open until the idle timeout, as the request loop could not
// tell a 1.0 request from a 1.1 one).
import NIOCore
import NIOHTTP1

/// Applies the version's rules to each decoded request head.
final class RequestVersionRules: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let head: RequestHeadGuard

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
        if request.version == .http1_0,
            !request.headers["Connection"].contains(where: { $0.lowercased().contains("keep-alive") })
        {
            // The request loop reads `Connection: close` and closes after its answer, which says so.
            request.headers.replaceOrAdd(name: "Connection", value: "close")
            context.fireChannelRead(wrapInboundOut(.head(request)))
            return
        }
        context.fireChannelRead(data)
    }
}
