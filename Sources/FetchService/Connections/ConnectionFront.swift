// A connection that starts with the raw path alone: no HTTP decoder, no request loop, no task. Most connections of a
// page of thumbnails (and every connection of a client without keep-alive) only ever ask for cached answers, and
// setting up the decoder, Hummingbird's request loop and its task was half of what such a connection cost. This
// handler keeps the idle timeout and graceful shutdown that `ConnectionStateHandler` keeps once the decoder is there,
// and builds the decoder's pipeline the first time the raw path hands a request on. First in the pipeline for the
// connection's whole life, it also keeps its send timeout (`SendClock`), before and after the decoder.
import NIOCore

/// The first handler of a connection set up without its decoder: its idle clock and shutdown until the raw path
/// needs the decoder, which it then builds (after that, it passes everything on).
final class ConnectionFront: ChannelInboundHandler, RawPathConnection {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let idleTimeout: TimeAmount
    /// Stopped once the decoder is built: the connection state keeps its own clock from then on.
    private lazy var clock = IdleClock(timeout: idleTimeout, sweeps: sweeps) { [weak self] in self?.decoder == nil }
    private let sweeps: IdleSweeps
    private let sendTimeout: TimeAmount
    /// Made the first time the channel stops taking writes.
    private var sendClock: SendClock?
    /// Adds the decoder, the request limits, the connection state and the request loop behind the raw path.
    private let buildDecoder: (any Channel) throws -> ConnectionStateHandler
    /// The connection state once the decoder is built.
    private var decoder: ConnectionStateHandler?
    private var context: ChannelHandlerContext?

    /// - Parameters:
    ///   - idleTimeout: closes the connection when no request was answered for this long.
    ///   - sendTimeout: closes the connection when its pending answer made no progress for this long.
    ///   - sweeps: the listener's idle checks, one per event loop.
    ///   - buildDecoder: adds the rest of the pipeline (called at most once, on the event loop, while a read is
    ///     being handled); returns its connection state.
    init(
        idleTimeout: TimeAmount, sendTimeout: TimeAmount, sweeps: IdleSweeps,
        buildDecoder: @escaping (any Channel) throws -> ConnectionStateHandler
    ) {
        self.idleTimeout = idleTimeout
        self.sendTimeout = sendTimeout
        self.sweeps = sweeps
        self.buildDecoder = buildDecoder
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { clock.restart(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        clock.stop()
        sendClock?.stop()
        self.context = nil
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if sendClock == nil, !context.channel.isWritable {
            sendClock = SendClock(timeout: sendTimeout, sweeps: sweeps)
        }
        sendClock?.writabilityChanged(context)
        context.fireChannelWritabilityChanged()
    }

    func channelActive(context: ChannelHandlerContext) {
        if decoder == nil { clock.restart(context) }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard decoder == nil else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // Without the decoder no request is in progress (the raw path answers a request in the read that brings
        // it): shutting down, or a client done sending, closes the connection now.
        if event is ChannelShouldQuiesceEvent {
            context.closeAfterWrites()
        } else if let event = event as? ChannelEvent, event == .inputClosed {
            context.closeAfterWrites()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard decoder == nil else {
            context.fireErrorCaught(error)
            return
        }
        // A reset or a failed write: nothing is in progress that could answer it.
        context.close(promise: nil)
    }

    func answeredAhead() {
        if let decoder {
            decoder.answeredAhead()
        } else if let context {
            clock.touch(context)
        }
    }

    func decoderState() -> ConnectionStateHandler? {
        if let decoder { return decoder }
        guard let context else { return nil }
        clock.stop()
        do {
            let state = try buildDecoder(context.channel)
            decoder = state
            return state
        } catch {
            return nil
        }
    }
}

extension ChannelHandlerContext {
    /// Closes the connection once everything written before has gone to the socket (a plain close fails the writes
    /// the socket has not taken yet: the end of a large answer to a client that reads slowly).
    func closeAfterWrites() {
        let written = eventLoop.makePromise(of: Void.self)
        writeAndFlush(NIOAny(channel.allocator.buffer(capacity: 0)), promise: written)
        written.futureResult.whenComplete { [channel] _ in channel.close(promise: nil) }
    }
}
