// Hummingbird's HTTP/1.1 connection set-up with picpipe's guards around the decoder: the raw-byte head guard before
// it, the request limits after it, and the count of open connections; the raw path ahead of all of them, alone
// until a request needs the decoder.
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// An HTTP/1.1 child channel that enforces `RequestLimits` and a cap on open connections.
struct GuardedHTTP1Channel: Sendable {
    typealias Value = HTTP1Channel.Value

    /// Hummingbird's channel: its decoder settings and its request loop.
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
    /// Closes a connection whose pending answer made no progress for this long.
    let sendTimeout: TimeAmount
    /// The field of a request id on the answers of the raw path and the event-loop shortcut (`nil`: none).
    let requestIDField: HTTPField.Name?
    /// How the request limits word their refusals, and the field of the request id each carries.
    let refusals: RefusalForm
    /// The `Server` field of the request limits' refusals (the responder's answers get it from the listener).
    let serverName: String
    /// When serve's shutdown grace ends: the bodies still arriving then are cut (nil: never).
    let shutdown: ShutdownDeadline?
    /// The raw path's answers kept per event loop.
    let memos = RawAnswerMemos()
    /// The connections' idle checks, one per event loop.
    let sweeps = IdleSweeps()
    /// The largest single read from a connection.
    static let maxReadBytes = 16 * 1024

    /// - Parameters:
    ///   - responder: the server's responder.
    ///   - idleTimeout: closes a connection with no bytes read for this long.
    ///   - sendTimeout: closes a connection whose pending answer made no progress (nothing written to the socket)
    ///     for this long.
    ///   - limits: the request limits.
    ///   - connections: the count the cap is checked against, shared by all connections.
    ///   - metrics: where refusals are counted.
    ///   - shortcut: what is answered on the event loop.
    ///   - requestIDField: the field of a request id on the answers made by the connection's own handlers (the raw
    ///     path, the event-loop shortcut, the request limits); `nil`: none.
    ///   - refusals: how the request limits word their refusals (default: the HTTP API's JSON error, its id in
    ///     `requestIDField`).
    ///   - serverName: the `Server` field of the request limits' refusals, as of every routed answer.
    ///   - shutdown: when serve's shutdown grace ends (nil: a body is never cut for a shutdown).
    init(
        responder: @escaping HTTPChannelHandler.Responder, idleTimeout: TimeAmount, sendTimeout: TimeAmount,
        limits: RequestLimits, connections: ConnectionCount, metrics: HTTPMetrics,
        shortcut: (any EventLoopShortcut)? = nil, requestIDField: HTTPField.Name? = nil, refusals: RefusalForm? = nil,
        serverName: String, shutdown: ShutdownDeadline? = nil
    ) {
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: limits.decoderLimit, maxHeaderListSize: limits.decoderLimit,
            maxHeaderFieldCount: limits.maxHeaderFields)
        http1 = HTTP1Channel(responder: responder, configuration: .init(httpDecoderConfiguration: decoder))
        self.idleTimeout = idleTimeout
        self.sendTimeout = sendTimeout
        self.limits = limits
        self.connections = connections
        self.metrics = metrics
        self.shortcut = shortcut
        self.requestIDField = requestIDField
        self.refusals = refusals ?? .json(requestIDField: requestIDField)
        self.serverName = serverName
        self.shutdown = shutdown
    }

    /// Sets up an accepted connection (the listener's child channel initializer, on its event loop). With a
    /// shortcut, an admitted connection starts with the raw path alone (`ConnectionFront`); the decoder's pipeline is
    /// built, and its request loop handed to `startRequestLoop`, only when a request needs it. A connection over
    /// the cap gets the decoder's pipeline at once: its limiter refuses it.
    /// - Parameter startRequestLoop: runs `handle(value:logger:)` for the connection (the listener's task group).
    func open(
        channel: any Channel, logger: Logger, startRequestLoop: @escaping @Sendable (Value) -> Void
    ) throws {
        let admitted = connections.admit()
        if admitted {
            let connections = self.connections
            channel.closeFuture.whenComplete { _ in connections.release() }
        }
        // Reads of at most 16 KiB (NIO's default grows to 64 KiB): a connection's queued body parts are what a
        // hundred concurrent uploads hold in memory, and 16 KiB reads still keep up with loopback uploads.
        try channel.syncOptions?.setOption(
            ChannelOptions.recvAllocator,
            value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: Self.maxReadBytes))
        guard let shortcut, admitted else {
            let (value, _) = try addDecoder(to: channel, logger: logger, admitted: admitted, watchesSends: true)
            startRequestLoop(value)
            return
        }
        let front = ConnectionFront(idleTimeout: idleTimeout, sendTimeout: sendTimeout, sweeps: sweeps) { channel in
            let (value, state) = try self.addDecoder(to: channel, logger: logger, admitted: true, watchesSends: false)
            startRequestLoop(value)
            return state
        }
        let maxHead = min(limits.maxURIBytes, limits.maxHeaderBytes)
        let raw = RawShortcutHandler(
            shortcut, maxHeadLength: maxHead, connection: front, answers: metrics.rawAnswers,
            reused: metrics.rawReusedAnswers, memos: memos, requestIDField: requestIDField)
        try channel.pipeline.syncOperations.addHandlers(front, raw)
    }

    /// Adds, after what the pipeline has (the raw path, if any), the head guard, Hummingbird's HTTP/1 codec, the
    /// request limits, `Expect: 100-continue`, the connection state and the event-loop shortcut, and wraps the channel
    /// for the request loop.
    /// Runs on the channel's event loop.
    /// - Parameter watchesSends: whether the connection state keeps the send timeout (no `ConnectionFront` does).
    private func addDecoder(
        to channel: any Channel, logger: Logger, admitted: Bool, watchesSends: Bool
    ) throws -> (Value, ConnectionStateHandler) {
        let pipeline = channel.pipeline.syncOperations
        let head = RequestHeadGuard()
        // Before the decoder, so it sees the bytes it is given.
        try pipeline.addHandler(head)
        // As Hummingbird's `HTTP1Channel.setup`, with picpipe's connection state in place of its own.
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderFieldSize = http1.configuration.httpDecoder.maxHeaderFieldSize
        decoderLimits.maxHeaderListSize = http1.configuration.httpDecoder.maxHeaderListSize
        decoderLimits.maxHeaderFieldCount = http1.configuration.httpDecoder.maxHeaderFieldCount
        try pipeline.configureHTTPServerPipeline(
            withPipeliningAssistance: false,  // the request loop reads one request at a time
            withErrorHandling: false,  // `RequestLimitHandler` answers what the decoder cannot read
            withOutboundHeaderValidation: false,  // HTTPTypes validated the fields
            withEncoderConfiguration: .init(),
            withDecoderLimitConfiguration: decoderLimits)
        // Between the decoder and the conversion, which keeps neither the version nor a second Host.
        try pipeline.addHandler(RequestVersionRules(head: head))
        try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
        // After the codec, so it sees decoded heads and the decoder's errors before the request loop.
        try pipeline.addHandler(
            RequestLimitHandler(
                limits: limits, head: head, metrics: metrics,
                connectionRefusal: admitted ? nil : .tooManyConnections(limit: connections.limit), form: refusals,
                serverName: serverName))
        // After the limits (a refused head never asks for its body), before the request loop's writes.
        let expectContinue = ExpectContinueHandler()
        try pipeline.addHandler(expectContinue)
        let state = ConnectionStateHandler(
            idleTimeout: idleTimeout, sweeps: sweeps, sendTimeout: watchesSends ? sendTimeout : nil,
            expectContinue: expectContinue, shutdown: shutdown)
        try pipeline.addHandler(state)
        if let shortcut {
            // Last before the request loop: the limits and the connection state handler see its requests.
            try pipeline.addHandler(EventLoopShortcutHandler(shortcut, requestIDField: requestIDField))
        }
        let value = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        metrics.requestLoops.increment()
        return (value, state)
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}
