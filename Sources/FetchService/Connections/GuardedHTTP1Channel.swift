// Hummingbird's HTTP/1.1 connection set-up with picpipe's guards around the decoder: the raw-byte head guard before
// it, the request limits after it, and the count of open connections.
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1

/// An HTTP/1.1 child channel that enforces `RequestLimits` and a cap on open connections.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    /// Hummingbird's channel, which builds the decoder, the encoder and the request loop.
    let http1: HTTP1Channel
    /// The request limits.
    let limits: RequestLimits
    /// The open connections, shared by all connections.
    let connections: ConnectionCount
    /// Where refusals are counted.
    let metrics: HTTPMetrics
    /// Answers from memory ahead of the request loop (none: every request takes the loop).
    let shortcut: (any EventLoopShortcut)?
    /// Closes a connection with no request for this long.
    let idleTimeout: TimeAmount
    /// The raw path's answers kept per event loop.
    let memos = RawAnswerMemos()
    /// The largest single read from a connection.
    static let maxReadBytes = 16 * 1024

    /// - Parameters:
    ///   - responder: the server's responder.
    ///   - idleTimeout: closes a connection with no bytes read for this long.
    ///   - limits: the request limits.
    ///   - connections: the count the cap is checked against, shared by all connections.
    ///   - metrics: where refusals are counted.
    ///   - shortcut: what is answered on the event loop.
    init(
        responder: @escaping HTTPChannelHandler.Responder, idleTimeout: TimeAmount, limits: RequestLimits,
        connections: ConnectionCount, metrics: HTTPMetrics, shortcut: (any EventLoopShortcut)? = nil
    ) {
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: limits.decoderLimit, maxHeaderListSize: limits.decoderLimit)
        // No idle timeout in Hummingbird's connection-state handler: `ConnectionStateHandler` replaces it.
        http1 = HTTP1Channel(responder: responder, configuration: .init(httpDecoderConfiguration: decoder))
        self.idleTimeout = idleTimeout
        self.limits = limits
        self.connections = connections
        self.metrics = metrics
        self.shortcut = shortcut
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let admitted = connections.admit()
        if admitted {
            let connections = self.connections
            channel.closeFuture.whenComplete { _ in connections.release() }
        }
        let head = RequestHeadGuard()
        do {
            // Reads of at most 16 KiB (NIO's default grows to 64 KiB): a connection's queued body parts are what a
            // hundred concurrent uploads hold in memory, and 16 KiB reads still keep up with loopback uploads.
            try channel.syncOptions?.setOption(
                ChannelOptions.recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: Self.maxReadBytes))
            // First in the pipeline, so it sees the bytes before the decoder (which `http1` adds after it).
            try channel.pipeline.syncOperations.addHandler(head)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        let limiter = RequestLimitHandler(
            limits: limits, head: head, metrics: metrics,
            connectionRefusal: admitted ? nil : .tooManyConnections(limit: connections.limit))
        // `setup` runs on the channel's event loop (the child channel initializer), as does the completed future.
        return http1.setup(channel: channel, logger: logger).assumeIsolated().flatMapThrowing { value in
            // After the HTTP/1 codec, so it sees decoded heads and the decoder's errors before the request loop.
            let pipeline = channel.pipeline.syncOperations
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(limiter, position: .after(codec))
            let hummingbirdState = try pipeline.handler(type: HTTPConnectionStateHandler.self)
            let state = ConnectionStateHandler(idleTimeout: idleTimeout)
            try pipeline.addHandler(state, position: .after(hummingbirdState))
            pipeline.removeHandler(hummingbirdState, promise: nil)
            if let shortcut {
                // Last before the request loop: the limits and the connection state handler see its requests.
                try pipeline.addHandler(EventLoopShortcutHandler(shortcut), position: .after(state))
                // First of all: plain requests it answers from memory never reach the decoder (a connection over
                // the cap is refused by the limiter before anything is answered).
                if admitted {
                    let maxHead = min(limits.maxURIBytes, limits.maxHeaderBytes)
                    try pipeline.addHandler(
                        RawShortcutHandler(
                            shortcut, maxHeadLength: maxHead, state: state, answers: metrics.rawAnswers,
                            reused: metrics.rawReusedAnswers, memos: memos),
                        position: .first)
                }
            }
            return value
        }.nonisolated()
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}
