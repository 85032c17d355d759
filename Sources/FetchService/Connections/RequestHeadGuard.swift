// The first handler of every connection, before the HTTP decoder: it sees the raw bytes, so it knows when a request
// head starts (the header timeout runs from its first byte) and whether its request line has ended (an oversize
// head the decoder stops is a long target, 414, or long headers, 431). It keeps the request line's first and last
// bytes, so a line the decoder stops at its method or version is answered for what it is (501, 505). After a refusal
// it drops what still arrives.
import NIOCore

/// Watches the raw bytes of request heads for `RequestLimitHandler`.
final class RequestHeadGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Told when the first byte of a request head arrives.
    weak var limiter: RequestLimitHandler?
    /// Between the end of a request (or the connection's start) and the decoded head of the next.
    private(set) var awaitingHead = true
    /// Whether a byte of the awaited head has arrived.
    private var headStarted = false
    /// Whether a byte of the awaited head's request line has arrived (not just empty lines).
    private var requestLineStarted = false
    /// Whether the awaited head's request line has ended (a line feed after its first byte).
    private(set) var requestLineEnded = false
    /// Whether that line feed came without a carriage return before it (RFC 9112 §2.2: lines end with CRLF).
    private(set) var requestLineEndsBare = false
    /// Whether the last byte read of the unfinished request line was a carriage return.
    private var endedWithReturn = false
    /// The first bytes of the awaited head's request line (its method), up to `keptLineBytes`.
    private(set) var requestLineStart: [UInt8] = []
    /// The last bytes of the request line read so far, without its line end (its version), up to `keptLineBytes`.
    private(set) var requestLineEnd: [UInt8] = []
    /// How many bytes of each end of the request line are kept: room for any method or version worth naming.
    static let keptLineBytes = 32
    /// The bytes read since the awaited head began (what the decoder had when it stopped a head: over its size limit,
    /// or not, and then at its count of fields).
    private(set) var headBytes = 0
    /// After a refusal: bytes are dropped, and the connection closes when the client stops sending.
    private var discarding = false
    /// Why the decoded head must be refused though the decoder read it (`RequestVersionRules`), until the limiter takes it.
    var malformed: String?
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Writes an encoded answer beneath the HTTP encoder, which would drop its body (the answer to a CONNECT).
    func writeEncoded(_ answer: ByteBuffer, promise: EventLoopPromise<Void>?) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.writeAndFlush(NIOAny(answer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if discarding { return }
        var startsHead = false
        if awaitingHead {
            let buffer = unwrapInboundIn(data)
            headBytes += buffer.readableBytes
            if buffer.readableBytes > 0, !headStarted {
                headStarted = true
                startsHead = true
            }
            if !requestLineEnded {
                var view = buffer.readableBytesView[...]
                if !requestLineStarted {
                    // Leading empty lines are not a request line (a client may send CRLF between requests); they
                    // do start the clock, or CRLFs trickled for ever would hold the connection.
                    let first = view.firstIndex { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
                    requestLineStarted = first != nil
                    view = view[(first ?? view.endIndex)...]
                }
                let feed = requestLineStarted ? view.firstIndex(of: UInt8(ascii: "\n")) : nil
                if requestLineStarted { keepEnds(of: view[..<(feed ?? view.endIndex)]) }
                if let feed {
                    requestLineEnded = true
                    let before = feed > view.startIndex ? view[view.index(before: feed)] : nil
                    requestLineEndsBare = before.map { $0 != UInt8(ascii: "\r") } ?? !endedWithReturn
                } else {
                    endedWithReturn = view.last == UInt8(ascii: "\r")
                }
            }
        }
        context.fireChannelRead(data)
        // The clock starts only for a head these bytes began and did not finish (a whole head in one read, the
        // usual case, costs no timer).
        if startsHead, awaitingHead, headStarted, !discarding {
            limiter?.headStarted()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if discarding, let event = event as? ChannelEvent, event == .inputClosed, limiter?.isRefusing != false {
            // The client closed its side after a refused head: nothing is left to read, and the connection closes
            // once the refusal is written, after the answers to the requests before it (until session 33 it closed
            // here, and a client that sent a whole request, a stray byte and its end got no answer at all, not even
            // to that request). Bytes dropped after a request that asked to close refused nothing: the end goes on
            // to the request loop, which closes the connection after that request's answer.
            if let limiter {
                limiter.inputClosed()
            } else {
                context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Keeps the first and the last bytes of the request line, from its next `bytes`.
    private func keepEnds(of bytes: ByteBufferView.SubSequence) {
        let limit = Self.keptLineBytes
        if requestLineStart.count < limit { requestLineStart += bytes.prefix(limit - requestLineStart.count) }
        requestLineEnd = Array((requestLineEnd + bytes.suffix(limit)).suffix(limit))
        if requestLineEnd.last == UInt8(ascii: "\r") { requestLineEnd.removeLast() }
    }

    /// The decoder produced the awaited head.
    func headDecoded() { awaitingHead = false }

    /// The decoder produced the end of a request: the next bytes start the next head.
    func requestEnded() {
        awaitingHead = true
        headStarted = false
        requestLineStarted = false
        requestLineEnded = false
        requestLineEndsBare = false
        endedWithReturn = false
        requestLineStart = []
        requestLineEnd = []
        headBytes = 0
    }

    /// Drops everything read from now on (a refusal is being answered).
    func discardInput() { discarding = true }
}
