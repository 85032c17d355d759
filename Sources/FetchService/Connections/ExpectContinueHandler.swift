// `Expect: 100-continue` (RFC 9110 §10.1.1). The AWS CLI and the SDKs send it with every PutObject and UploadPart,
// curl with every body over 1 MiB: they hold the body back until the server says "100 Continue", or for a second.
// Without an answer, every such upload waited that second; and a refusal (403, 415) sent before the body left the
// connection out of step: the client, told no, never sends the body, while the server read the next request's
// first bytes as that body and refused the rest as malformed.
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// What a route tells its connection when it starts reading a request's body.
public enum ExpectContinue {
    /// The outbound user event: "the body is wanted now".
    struct BodyWanted: Sendable {
        /// The slowest average the body may keep after `UploadPace.grace`, in bytes per second (0: none).
        var minimumRate = 0
    }

    /// Tells the connection the body is wanted: a "100 Continue" goes out if the client holds its body back for
    /// one. Routes call it (through their context's `willReadBody`) right before they read a body, after every
    /// check that could refuse the request without it.
    /// - Parameter minimumRate: `http.min_upload_rate` for an upload (0: none). The connection then checks the
    ///   body's average on a timer, not only as bytes arrive, and fails its reading with `BodyTooSlow` when it
    ///   falls under: a body that stops dead is cut as a trickle is (until session 32 it waited for the idle
    ///   timeout, three times as long, and was closed without an answer).
    public static func bodyWanted(on channel: any Channel, minimumRate: Int = 0) {
        channel.triggerUserOutboundEvent(BodyWanted(minimumRate: minimumRate), promise: nil)
    }

    /// The outbound user event: "the rest of this request's body will not be read".
    struct StopReading: Sendable {}

    /// Tells the connection the route refused the request before its body ended (too large, too slow, no room):
    /// the answer says `Connection: close` and the connection closes once it is sent, the rest unread. (Closing
    /// the input instead made NIO's decoder answer the cut-off body with a second, stray 400.)
    public static func stopReading(on channel: any Channel) {
        channel.triggerUserOutboundEvent(StopReading(), promise: nil)
    }

    /// Whether a request's `Expect` asks for a "100 Continue" first (the only expectation HTTP defines).
    static func isAsked(_ request: HTTPRequest) -> Bool {
        guard let value = request.headerFields[.expect] else { return false }
        return value.trimmingCharacters(in: .whitespaces).lowercased() == "100-continue"
    }
}

/// Answers "100 Continue" when the route starts reading a body the client holds back, and closes the connection after
/// a final answer sent before that (the client will not send the body, so nothing else can end the request), or
/// before the body's end arrived: the rest is not read.
final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The request being read expects "100 Continue" and has had none (nor a final answer); its body has not ended.
    private(set) var holdingBack = false
    /// The route will not read the rest of the request's body (`ExpectContinue.stopReading`).
    private var stopping = false
    /// A final answer went out while the client held its body back, or while the route stopped reading it, or before
    /// the body's end: the connection closes after it.
    private var closeAfterAnswer = false
    /// For each request read (its head) and not answered yet, in order: whether its end has been read (the decoder
    /// reads ahead of the route, pipelined requests too). An answer to one whose end has not been read leaves body
    /// bytes unread, which Hummingbird's request loop would read, all of them, before the next request (until
    /// session 32 a 415 read on through a 2 GB body, and a broken chunk in it got a second, stray 400): the answer
    /// says `Connection: close` instead, and the connection closes once it is sent.
    private var requestsEnded = CircularBuffer<Bool>(initialCapacity: 4)

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            holdingBack = ExpectContinue.isAsked(request)
            requestsEnded.append(false)
        case .body: break
        case .end:
            holdingBack = false  // the body came (or was empty): the request ended in step
            if let last = requestsEnded.indices.last { requestsEnded[last] = true }
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if event is ExpectContinue.StopReading {
            stopping = true
            promise?.succeed()
            return
        }
        guard event is ExpectContinue.BodyWanted else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        if holdingBack {
            holdingBack = false
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        promise?.succeed()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var response) where response.status.kind != .informational:
            let bodyLeft = requestsEnded.popFirst() == false
            guard holdingBack || stopping || bodyLeft else {
                context.write(data, promise: promise)
                return
            }
            holdingBack = false
            stopping = false
            closeAfterAnswer = true
            response.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(response)), promise: promise)
        case .end where closeAfterAnswer:
            closeAfterAnswer = false
            context.writeAndFlush(data, promise: promise)
            context.close(promise: nil)
        default:
            context.write(data, promise: promise)
        }
    }
}
