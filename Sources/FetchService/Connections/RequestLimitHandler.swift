// The per-connection policy against hostile clients, placed after the HTTP decoder: a request's target and header
// section must fit their limits (414, 431), its head must be complete within the header timeout of its first byte
// (408), a request the decoder cannot parse is refused (400: two Content-Length headers, Content-Length beside
// Transfer-Encoding, …), a transfer coding other than chunked is not implemented (501), and a connection over the cap
// is refused at once (503). Every refusal is the listener's error
// answer (`RefusalForm`: the HTTP API's JSON, the AWS listener's S3 XML) with `Connection: close`; then the connection
// stops reading and closes.
import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// The limits `RequestLimitHandler` enforces.
struct RequestLimits: Sendable {
    /// The longest request target (path and query), in bytes.
    var maxURIBytes: Int
    /// The largest header section (names, values and their separators), in bytes.
    var maxHeaderBytes: Int
    /// How long a head may take from its first byte.
    var headerTimeout: TimeAmount
    /// The most header fields a head may have (Hummingbird's decoder default); more are 431 for their count.
    var maxHeaderFields = 1000
    /// How long a refused connection waits for the client to close before it is closed anyway: closing at once,
    /// with the client's bytes unread, would reset the connection and could lose the answer on the way.
    var linger: TimeAmount = .seconds(2)

    /// What the HTTP decoder is allowed before it stops a head by itself: beyond both limits together, so the
    /// decoder only acts on a head this handler could not measure, and never buffers more than that.
    var decoderLimit: Int { maxURIBytes + maxHeaderBytes + 1024 }
}

/// Refuses requests (and connections) past the limits, in the listener's error form, before any route sees them.
final class RequestLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Refusal {
        /// Nothing refused.
        case none
        /// Refused while an earlier (pipelined) response is still being written: answered when it ends.
        case pending(APIError)
        /// Answered; the connection is closing.
        case sent
    }

    private let limits: RequestLimits
    private let head: RequestHeadGuard
    private let metrics: HTTPMetrics
    /// The refusal of a connection over the cap, answered as soon as the connection is active.
    private let connectionRefusal: APIError?
    /// How refusals are written, and the field of the request id each carries.
    private let form: RefusalForm
    /// The `Server` field of every refusal, as of the routed answers.
    private let serverName: String
    private var date = HTTPDateCache()
    private var context: ChannelHandlerContext?
    private var headerTimer: Scheduled<Void>?
    /// Requests whose response has not ended yet.
    private var responsesInProgress = 0
    private var refusal = Refusal.none
    /// The client closed its side after the refused head: the connection closes as soon as the refusal is written.
    private var inputEnded = false
    /// The refusal is written (to the socket, or failed).
    private var refusalWritten = false
    /// The refusal answers a CONNECT: NIO's encoder drops the body (and the length) of every answer to one, since a
    /// tunnel's 2xx has none, so it is written encoded, beneath it.
    private var answersTunnel = false

    /// - Parameters:
    ///   - limits: the limits.
    ///   - head: the connection's raw-byte guard (it tells this handler when a head starts).
    ///   - metrics: where refusals are counted.
    ///   - connectionRefusal: when set, the connection is refused with it at once (it is over the cap).
    ///   - form: how refusals are written, and the field of the new request id each carries (in its body too).
    ///   - serverName: the `Server` field of every refusal.
    init(
        limits: RequestLimits, head: RequestHeadGuard, metrics: HTTPMetrics, connectionRefusal: APIError? = nil,
        form: RefusalForm = .json(requestIDField: nil), serverName: String
    ) {
        self.limits = limits
        self.head = head
        self.metrics = metrics
        self.connectionRefusal = connectionRefusal
        self.form = form
        self.serverName = serverName
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        head.limiter = self
        if context.channel.isActive { refuseConnectionIfOverCap(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        headerTimer?.cancel()
        headerTimer = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        refuseConnectionIfOverCap(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        headerTimer?.cancel()
        headerTimer = nil
        context.fireChannelInactive()
    }

    private func refuseConnectionIfOverCap(context: ChannelHandlerContext) {
        if let connectionRefusal, case .none = refusal { refuse(connectionRefusal, context: context) }
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .none = refusal else { return }
        switch unwrapInboundIn(data) {
        case .head(let request):
            headerTimer?.cancel()
            headerTimer = nil
            head.headDecoded()
            if let error = check(request) {
                refuse(error, context: context)
                return
            }
            responsesInProgress += 1
        case .body:
            break
        case .end:
            head.requestEnded()
        }
        context.fireChannelRead(data)
    }

    /// The first byte of a head arrived and the head is not complete yet: it has `headerTimeout` to be.
    func headStarted() {
        guard let context, headerTimer == nil, case .none = refusal else { return }
        let timeout = limits.headerTimeout
        headerTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            headerTimer = nil
            guard head.awaitingHead, let context = self.context else { return }
            refuse(.headerTimeout(seconds: Double(timeout.nanoseconds) / 1e9), context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Once the connection is being refused, what follows is noise.
        guard case .none = refusal else { return }
        // Only a head the decoder could not read is answered here; an error inside a body belongs to the route
        // reading it.
        guard let parseError = error as? HTTPParserError, head.awaitingHead else {
            context.fireErrorCaught(error)
            return
        }
        if parseError == .closedConnection {
            // Bytes after a request that asked to close (`Connection: close`, HTTP/1.0 without keep-alive): RFC 9112
            // §9.6 says they are not processed. They are dropped, nothing is refused: that request's answer is the
            // last, and the request loop closes the connection after it (with the client's end read first, a 400
            // used to follow that answer, where a client that kept its side open got none).
            head.discardInput()
            return
        }
        if head.requestLineEndsBare {
            // llhttp reads the bare LF as part of the version, and said the version was not 1.0 or 1.1 (until
            // session 32).
            refuse(
                .malformedRequest(
                    "the request line ends with a bare LF: HTTP lines end with CR LF (RFC 9112 section 2.2)"),
                context: context)
            return
        }
        refuse(
            Self.refusal(
                for: parseError, requestLineEnded: head.requestLineEnded, headBytes: head.headBytes, limits: limits,
                lineStart: head.requestLineStart, lineEnd: head.requestLineEnd),
            context: context)
    }

    /// The answer to a head the decoder stopped.
    /// - Parameters:
    ///   - headBytes: the bytes of the head read when it stopped (at least).
    ///   - lineStart: the first bytes of its request line (the method).
    ///   - lineEnd: the last bytes of its request line read, without the line end (the version).
    static func refusal(
        for error: HTTPParserError, requestLineEnded: Bool, headBytes: Int, limits: RequestLimits,
        lineStart: [UInt8] = [], lineEnd: [UInt8] = []
    ) -> APIError {
        switch error {
        case .headerOverflow where !requestLineEnded:
            return .uriTooLong(limit: limits.maxURIBytes)
        case .headerOverflow where headBytes < limits.decoderLimit:
            // Under the decoder's size limit: it stopped at the count of fields (until session 32 this named the
            // byte limit, which an operator raising it would find the request had not reached).
            return .tooManyHeaderFields(limit: limits.maxHeaderFields)
        case .headerOverflow:
            return .headerFieldsTooLarge(limit: limits.maxHeaderBytes)
        case .unexpectedContentLength, .invalidContentLength:
            // llhttp's codes for Content-Length twice, beside Transfer-Encoding, or not one number.
            return .malformedRequest(
                "the body's length is ambiguous (Content-Length twice, Content-Length beside Transfer-Encoding, or "
                    + "not one number): send one Content-Length or Transfer-Encoding: chunked, never both")
        case .invalidMethod:
            // llhttp knows a fixed list of methods; any other token before a space is a method picpipe does not
            // implement (RFC 9110 §15.6.2; until session 36 a 400).
            if let method = RequestLine.method(in: lineStart) { return .methodNotImplemented(method) }
            return .malformedRequest("the method is not an HTTP method")
        case .invalidURL:
            return .malformedRequest("the request target is not a valid URI")
        case .invalidVersion:
            // A well-formed version llhttp does not take (HTTP/2.0 in an HTTP/1 request line): RFC 9110 §15.6.6
            // (until session 36 a 400).
            if let version = RequestLine.version(in: lineEnd) { return .versionNotSupported(version) }
            return .malformedRequest("the HTTP version is not HTTP/1.0 or HTTP/1.1")
        case .unknown:
            // Among others llhttp's HPE_INVALID_TRANSFER_ENCODING: Transfer-Encoding after Content-Length, or not
            // ending in chunked.
            return .malformedRequest(
                "the request head cannot be parsed (a Transfer-Encoding beside Content-Length or not ending in "
                    + "chunked, a line end without CR, …)")
        default:
            return .malformedRequest("the request head cannot be parsed (\(error))")
        }
    }

    /// The refusal a decoded head deserves, if any.
    private func check(_ request: HTTPRequest) -> APIError? {
        if let reason = head.malformed {
            head.malformed = nil
            return .malformedRequest(reason)
        }
        if request.method == .connect {
            // A tunnel request (its target an authority, `host:443`): no route takes it, and its answer would carry
            // no length, keeping the connection for the idle timeout (until session 28: a bodiless 404 and 30 s).
            answersTunnel = true
            return .malformedRequest("CONNECT is not served: picpipe is not a proxy")
        }
        if let target = request.path, target.utf8.count > limits.maxURIBytes {
            return .uriTooLong(limit: limits.maxURIBytes)
        }
        // llhttp takes a request whose Transfer-Encoding does not end in chunked and reads its body to the end of
        // the connection, where a proxy in front may see no body and a next request: RFC 9112 §6.3 says 400.
        let codings = request.headerFields[values: .transferEncoding].flatMap { $0.split(separator: ",") }
        if let last = codings.last, last.trimmingCharacters(in: .whitespaces).lowercased() != "chunked" {
            return .malformedRequest(
                "Transfer-Encoding '\(JSONText.printable(codings.joined(separator: ",")))' does not end in chunked, so "
                    + "the body's length cannot be known: send Content-Length or Transfer-Encoding: chunked")
        }
        // llhttp undoes only the chunked framing: a body also sent in gzip (or any other coding) would reach the
        // route still coded (until session 36 an upload's was called "not an image"). RFC 9112 §6.1: 501, as nginx.
        if codings.count > 1 {
            return .notImplemented(
                "Transfer-Encoding '\(JSONText.printable(codings.joined(separator: ",")))' is not implemented: "
                    + "picpipe decodes chunked alone; send the body as it is, with Content-Length or "
                    + "Transfer-Encoding: chunked")
        }
        // Each field as it came: `name: value` and its line end; the Host header became the authority.
        var bytes = request.authority.map { $0.utf8.count + 8 } ?? 0
        for field in request.headerFields {
            bytes += field.name.rawName.utf8.count + field.value.utf8.count + 4
            if bytes > limits.maxHeaderBytes { return .headerFieldsTooLarge(limit: limits.maxHeaderBytes) }
        }
        return nil
    }

    /// Whether a refusal is due, being written or written (the connection closes after it).
    var isRefusing: Bool {
        if case .none = refusal { return false }
        return true
    }

    /// The client closed its side while a refusal is due or being written (`RequestHeadGuard` drops all else): the
    /// answers before the refusal and the refusal itself are still written, then the connection closes.
    func inputClosed() {
        guard let context else { return }
        inputEnded = true
        if refusalWritten { context.close(promise: nil) }
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        if case .end = unwrapOutboundIn(data) { isEnd = true } else { isEnd = false }
        context.write(data, promise: promise)
        if isEnd {
            responsesInProgress -= 1
            if responsesInProgress == 0, case .pending(let error) = refusal {
                context.flush()
                answer(error, context: context)
            }
        }
    }

    // MARK: Refusing

    /// Stops reading the connection and answers `error` once no earlier response is in the way.
    private func refuse(_ error: APIError, context: ChannelHandlerContext) {
        headerTimer?.cancel()
        headerTimer = nil
        head.discardInput()
        if responsesInProgress > 0 {
            refusal = .pending(error)
        } else {
            answer(error, context: context)
        }
    }

    /// Writes the answer in the listener's form with `Connection: close`, closes the output, and closes the
    /// connection when the client closes its side or after `linger`.
    private func answer(_ error: APIError, context: ChannelHandlerContext) {
        refusal = .sent
        metrics.recordRefusal(code: error.code)
        var fields = error.headers
        // A new id: the head it would come from is the one refused.
        let requestID = form.requestIDField.map { _ in RequestID().text }
        if let requestIDField = form.requestIDField, let requestID { fields[requestIDField] = requestID }
        let (contentType, text) = form.body(error, requestID)
        let body = ByteBuffer(string: text)
        fields[.contentType] = contentType
        fields[.contentLength] = String(body.readableBytes)
        fields[.connection] = "close"
        // As every routed answer has them (until session 36 these had neither; RFC 9110 §6.6.1 asks for Date).
        fields[.date] = date.current()
        fields[.server] = serverName
        let written = context.eventLoop.makePromise(of: Void.self)
        if answersTunnel {
            // Until session 32 the answer to a CONNECT went out with its type but no body and no length.
            var encoded = context.channel.allocator.buffer(capacity: 256 + body.readableBytes)
            encoded.writeString("HTTP/1.1 \(error.status.code) \(error.status.reasonPhrase)\r\n")
            for field in fields { encoded.writeHTTPField(field.name, field.value) }
            encoded.writeStaticString("\r\n")
            encoded.writeImmutableBuffer(body)
            head.writeEncoded(encoded, promise: written)
        } else {
            let response = HTTPResponse(status: error.status, headerFields: fields)
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            context.write(wrapOutboundOut(.body(body)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        }
        let linger = limits.linger
        written.futureResult.assumeIsolated().whenComplete { [self] _ in
            refusalWritten = true
            guard !inputEnded else {
                // The client has closed its side already: all it sent was read, nothing is left to wait for.
                context.close(promise: nil)
                return
            }
            context.close(mode: .output, promise: nil)
            context.eventLoop.assumeIsolated().scheduleTask(in: linger) { context.close(promise: nil) }
        }
    }
}
