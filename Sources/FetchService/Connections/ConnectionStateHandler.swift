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
        return (readingRequest && expectContinue?.holdingBack != true) || requestsInProgress == 0
    }
    /// Requests read (their head) whose answer has not ended.
    private var requestsInProgress = 0
    /// Between a request's head and its end.
    private var readingRequest = false
    /// Knows when the request's client holds its body back for a "100 Continue" the route has not asked for yet:
    /// the server owes the next step then, so the wait is not the client's idle time.
    private let expectContinue: ExpectContinueHandler?
    private var closeAfterAnswer = false
    private var context: ChannelHandlerContext?
    /// Called (on the event loop) after the answer to the last request read has been written.
    var whenIdle: (() -> Void)?

    private let sweeps: IdleSweeps
    /// The send timeout, when this handler keeps it (a connection set up with its decoder; `ConnectionFront` keeps
    /// it otherwise).
    private let sendTimeout: TimeAmount?
    /// Made the first time the channel stops taking writes.
    private var sendClock: SendClock?
    /// The body of the request being read: when it began (its first byte, or the route's asking for it if that came
    /// first) and its bytes so far. Counted from the head on, since the first bytes often come in the same read as
    /// the head, before the route asks for them (until session 36 they were left out of the average: a valid upload
    /// was cut, and the 408 reported a rate far under the real one).
    private var body: (began: NIODeadline?, received: Int) = (nil, 0)
    /// The minimum rate the body is read under (`ExpectContinue.BodyWanted`), while it is checked. Its average is
    /// checked by a timer, so a body that stops altogether is cut as a trickle is.
    private var paceMinimum: Int?
    private var paceCheck: Scheduled<Void>?
    /// When serve's shutdown grace ends (`nil`: no grace bounds the bodies, a test's listener).
    private let shutdown: ShutdownDeadline?
    /// Cuts the body being read when the shutdown grace ends (scheduled at the graceful shutdown).
    private var shutdownCut: Scheduled<Void>?

    /// - Parameters:
    ///   - sweeps: the listener's idle checks, one per event loop.
    ///   - sendTimeout: closes the connection when its pending answer made no progress for this long (nil: another
    ///     handler watches that).
    ///   - expectContinue: the connection's `Expect: 100-continue` handler (on the same event loop).
    ///   - shutdown: when serve's shutdown grace ends: a body still arriving then is cut (nil: never).
    init(
        idleTimeout: TimeAmount, sweeps: IdleSweeps, sendTimeout: TimeAmount? = nil,
        expectContinue: ExpectContinueHandler? = nil, shutdown: ShutdownDeadline? = nil
    ) {
        self.idleTimeout = idleTimeout
        self.sweeps = sweeps
        self.sendTimeout = sendTimeout
        self.expectContinue = expectContinue
        self.shutdown = shutdown
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { clock.restart(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        clock.stop()
        sendClock?.stop()
        stopPace()
        shutdownCut?.cancel()
        shutdownCut = nil
        self.context = nil
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if let sendTimeout, sendClock == nil, !context.channel.isWritable {
            sendClock = SendClock(timeout: sendTimeout, sweeps: sweeps)
        }
        sendClock?.writabilityChanged(context)
        context.fireChannelWritabilityChanged()
    }

    func channelActive(context: ChannelHandlerContext) {
        clock.restart(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        clock.touch(context)
        switch unwrapInboundIn(data) {
        case .head:
            readingRequest = true
            requestsInProgress += 1
            body = (nil, 0)
        case .body(let bytes):
            if body.began == nil { body.began = context.eventLoop.now }
            body.received += bytes.readableBytes
        case .end:
            readingRequest = false
            stopPace()
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if let wanted = event as? ExpectContinue.BodyWanted {
            // The client's time to send its body starts now.
            clock.touch(context)
            if wanted.minimumRate > 0, readingRequest {
                // A body the client held back (`Expect: 100-continue`) or has not sent yet begins now.
                if body.began == nil { body.began = context.eventLoop.now }
                paceMinimum = wanted.minimumRate
                schedulePaceCheck(context)
            }
        }
        context.triggerUserOutboundEvent(event, promise: promise)
    }

    /// Checks the paced body when its average would fall under the minimum if nothing more came.
    private func schedulePaceCheck(_ context: ChannelHandlerContext) {
        guard let minimum = paceMinimum, let began = body.began else { return }
        let allowance = UploadPace.allowance(received: body.received, minimum: minimum)
        // Just past it: the rule asks for more than the grace period, and for an average under the minimum.
        let due = began + .nanoseconds(Int64(allowance / .nanoseconds(1))) + .milliseconds(10)
        paceCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: due) { [self] in
            paceCheck = nil
            guard let minimum = paceMinimum, let context = self.context else { return }
            let elapsed = Duration.nanoseconds((context.eventLoop.now - began).nanoseconds)
            if let seconds = UploadPace.verdict(received: body.received, elapsed: elapsed, minimum: minimum) {
                paceMinimum = nil
                // To the request loop's body stream: the route reading the body meets it and answers.
                context.fireErrorCaught(BodyTooSlow(received: body.received, seconds: seconds, minimum: minimum))
            } else {
                schedulePaceCheck(context)
            }
        }
    }

    private func stopPace() {
        paceMinimum = nil
        paceCheck?.cancel()
        paceCheck = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            // Answered: the body's pace no longer matters.
            if paceMinimum != nil, case .head(let response) = unwrapOutboundIn(data),
                response.status.kind != .informational
            {
                stopPace()
            }
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
            scheduleShutdownCut(context)
        } else {
            context.close(promise: nil)
        }
    }

    /// At the end of the shutdown grace, a body still arriving is cut: its route answers 503 and keeps nothing, and
    /// the connection closes after that answer. Until session 37 serve waited for it, so a client sending just
    /// above `http.min_upload_rate` held the shutdown as long as it liked.
    private func scheduleShutdownCut(_ context: ChannelHandlerContext) {
        guard let shutdown, shutdownCut == nil else { return }
        shutdownCut = context.eventLoop.assumeIsolated().scheduleTask(deadline: shutdown.end) { [self] in
            shutdownCut = nil
            guard readingRequest, let context = self.context else { return }
            stopPace()
            // To the request loop's body stream, as a body too slow is cut.
            context.fireErrorCaught(BodyCutAtShutdown(received: body.received, grace: shutdown.grace))
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
