// A connection's idle timeout and graceful shutdown, in place of Hummingbird's `HTTPConnectionStateHandler` (same
// rules) with one addition: `RawShortcutHandler` answers requests before the decoder, so this handler never sees
// them as parts; it tells this one instead (a busy connection answered that way is not closed as idle), and learns
// from this one when the requests it handed to the decoder are all answered.
import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Closes a connection idle for `idleTimeout` (no request being read or answered), and, when the server shuts
/// down, closes it at once if idle or after the answer in progress.
final class ConnectionStateHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let idleTimeout: TimeAmount
    /// A request read and not yet answered is not idle time (the answer's end restarts the clock).
    private lazy var clock = IdleClock(timeout: idleTimeout, sweeps: sweeps) { [weak self] in
        guard let self else { return false }
        return (readingRequest && !owesContinue) || requestsInProgress == 0
    }
    /// Requests read (their head) whose answer has not ended.
    private var requestsInProgress = 0
    /// Between a request's head and its end.
    private var readingRequest = false
    /// The request's client holds its body back for a "100 Continue" the route has not asked for yet
    /// (`ExpectContinueHandler`): the server owes the next step, so the wait is not the client's idle time.
    private var owesContinue = false
    private var closeAfterAnswer = false
    private var context: ChannelHandlerContext?
    /// Called (on the event loop) after the answer to the last request read has been written.
    var whenIdle: (() -> Void)?

    private let sweeps: IdleSweeps

    /// - Parameter sweeps: the listener's idle checks, one per event loop.
    init(idleTimeout: TimeAmount, sweeps: IdleSweeps) {
        self.idleTimeout = idleTimeout
        self.sweeps = sweeps
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { clock.restart(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        clock.stop()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        clock.restart(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        clock.touch(context)
        switch unwrapInboundIn(data) {
        case .head(let request):
            readingRequest = true
            requestsInProgress += 1
            owesContinue = ExpectContinue.isAsked(request)
        case .body:
            owesContinue = false
        case .end:
            readingRequest = false
            owesContinue = false
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if event is ExpectContinue.BodyWanted {
            owesContinue = false
            clock.touch(context)  // the client's wait for its body starts now
        }
        context.triggerUserOutboundEvent(event, promise: promise)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .head = unwrapOutboundIn(data) { owesContinue = false }
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        requestsInProgress -= 1
        if requestsInProgress == 0 && closeAfterAnswer {
            context.writeAndFlush(data, promise: promise)
            context.close(promise: nil)
            return
        }
        guard requestsInProgress == 0 else {
            context.write(data, promise: promise)
            return
        }
        clock.restart(context)
        context.write(data, promise: promise)
        // On the next turn of the loop, after this answer's end has gone on its way (never inside this write).
        if let whenIdle { context.eventLoop.assumeIsolated().execute(whenIdle) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if requestsInProgress > 0 {
            closeAfterAnswer = true
        } else {
            context.close(promise: nil)
        }
    }

    /// A request was read and answered ahead of the decoder (by `RawShortcutHandler`): the connection is busy.
    func answeredAhead() {
        if let context { clock.touch(context) }
    }
}

extension ConnectionStateHandler: RawPathConnection {
    /// Set up with the decoder from the start: the state is this handler.
    func decoderState() -> ConnectionStateHandler? { self }
}
