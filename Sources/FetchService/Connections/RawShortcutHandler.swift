// The hot route on the raw bytes: plain GET or HEAD requests that the listener's shortcut answers from memory (a
// cached thumbnail) are read and answered here, ahead of the decoder (right after `ConnectionFront`; the decoder's
// handlers are added behind it only when a request is first handed on): no HTTP decoder, no conversion of heads, no
// encoder. A plain request it cannot answer (not cached, due for a new read) is handed to the decoder by itself,
// and what arrives after it waits until its answer has been written, so answers stay in order. Anything not plain
// (another method, a body, an unknown field, a head split across reads) hands the connection to the decoder for
// good, from that request's first byte: every request is read whole either here or by the decoder. A whole 200 it
// gave is kept for its event loop (`RawAnswerMemo`) and given again to the same request without a new look-up while
// nothing it came from has changed.
import HTTPTypes
import NIOCore
import Prometheus

/// Answers plain requests from a connection's bytes; passes on, in order, what it does not answer.
final class RawShortcutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Mode {
        /// Reading requests.
        case reading
        /// A request was handed to the decoder; later bytes are held (maybe none) until its answer is written.
        case waiting(held: ByteBuffer)
        /// The decoder has the connection.
        case passing
        /// The client asked to close after the answer given: nothing more is read.
        case closing
    }

    private let shortcut: any EventLoopShortcut
    /// The longest head read here (within both of the request limits, so no head is read here that they refuse).
    private let maxHeadLength: Int
    /// Told of every answer given here (the connection's idle clock); gives the decoder's connection state the first
    /// time a request is handed on.
    private let connection: any RawPathConnection
    /// The decoder's connection state (nil until the first request handed on): tells this handler when the
    /// decoder's requests are all answered.
    private var state: ConnectionStateHandler?
    /// Counts the answers given here, and of those the ones given again from `memo`.
    private let answers: Counter
    private let reused: Counter
    private var mode = Mode.reading {
        didSet {
            // The state handler calls back only while a request handed to the decoder is being answered (not after
            // every answer of a connection the decoder has for good).
            switch (oldValue, mode) {
            case (.waiting, .waiting): break
            case (_, .waiting): state?.whenIdle = { [weak self] in self?.resume() }
            default: state?.whenIdle = nil
            }
        }
    }
    private var context: ChannelHandlerContext?
    /// Whether bytes went to the decoder since the end of the last read was passed on.
    private var passedOn = false
    private var date = HTTPDateCache()
    /// The answers kept on this connection's event loop (none: nothing is kept).
    private let memos: RawAnswerMemos?
    private var memo: RawAnswerMemo?
    /// The field of the new request id each answer carries, right after its status line (`nil`: none). A kept whole
    /// answer stays one shared buffer: the status line and the id go out as a small buffer of their own, then the
    /// rest of the kept bytes, so the id costs a second write and 16 digits from `RequestID`, no copy of the answer.
    private let requestIDField: HTTPField.Name?
    /// The most held while waiting: a client that sends more than this behind an unanswered request is handed to
    /// the decoder (and its limits) instead.
    static let maxHeldBytes = 64 * 1024

    init(
        _ shortcut: any EventLoopShortcut, maxHeadLength: Int, connection: any RawPathConnection, answers: Counter,
        reused: Counter, memos: RawAnswerMemos?, requestIDField: HTTPField.Name? = nil
    ) {
        self.shortcut = shortcut
        self.requestIDField = requestIDField
        self.reused = reused
        self.memos = memos
        self.answers = answers
        self.maxHeadLength = maxHeadLength
        self.connection = connection
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        memo = memos?.memo(on: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        state?.whenIdle = nil
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch mode {
        case .passing:
            passOn(data, context: context)
        case .closing:
            break
        case .waiting(var held):
            var bytes = unwrapInboundIn(data)
            held.writeBuffer(&bytes)
            if held.readableBytes > Self.maxHeldBytes {
                mode = .passing
                passOn(wrapInboundOut(held), context: context)
            } else {
                mode = .waiting(held: held)
            }
        case .reading:
            read(unwrapInboundIn(data), context: context)
        }
    }

    /// Answers the whole plain requests at the start of `buffer` (while the client reads what it is sent: an
    /// unwritable channel leaves back-pressure to the decoder's path), and passes on the rest.
    private func read(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        var buffer = bytes
        var answered = false
        defer {
            if answered {
                context.flush()
                connection.answeredAhead()
            }
        }
        while buffer.readableBytes > 0 {
            guard context.channel.isWritable,
                let head = PlainRequestHead(buffer.readableBytesView, maxLength: maxHeadLength)
            else { break }
            let start = ContinuousClock.now
            // Read before the look-up, so a change during it makes what it finds stale.
            let revision = shortcut.revision()
            let kept =
                head.isConditional
                ? nil
                : memo?.kept(
                    target: head.bytes[head.target], accept: head.accept, closes: head.closes, now: start,
                    revision: revision, allocator: context.channel.allocator)
            let source: AnswerSource
            if let kept {
                source = .kept(kept)
            } else {
                let request = head.request
                guard shortcut.mayAnswer(request), let answer = shortcut.answer(request) else {
                    // A plain request the route answers: it alone goes to the decoder; the rest waits for its answer.
                    guard decoderState(context) != nil else { return }
                    let request = buffer.readSlice(length: head.length)!
                    mode = .waiting(held: buffer)
                    passOn(wrapInboundOut(request), context: context)
                    return
                }
                source = .fresh(answer)
            }
            // Answered here. The last write of an answer after which the connection closes carries the promise that
            // closes it.
            let written: EventLoopPromise<Void>? = head.closes ? context.eventLoop.makePromise() : nil
            buffer.moveReaderIndex(forwardBy: head.length)
            switch source {
            case .kept(.whole(var whole, let headLength)):
                // The kept answer as one buffer, shared, not copied (a HEAD gets its head).
                if head.method == .head { whole = whole.getSlice(at: whole.readerIndex, length: headLength)! }
                if let requestIDField, let statusLine = Self.statusLine(of: &whole) {
                    var first = context.channel.allocator.buffer(capacity: statusLine.readableBytes + 48)
                    first.writeImmutableBuffer(statusLine)
                    first.writeRequestID(requestIDField)
                    context.write(wrapOutboundOut(first), promise: nil)
                }
                context.write(wrapOutboundOut(whole), promise: written)
                shortcut.countReused(method: head.method, status: .ok, duration: .now - start)
                reused.increment()
            case .kept(.parts(let kept)):
                write(
                    prefix: kept.head, body: head.method == .head ? nil : kept.body, closes: head.closes,
                    written: written, context: context)
                shortcut.countReused(method: head.method, status: .ok, duration: .now - start)
                reused.increment()
            case .fresh(let answer):
                let prefix = Self.prefix(of: answer, allocator: context.channel.allocator)
                // `reusableUntil` is set only for a whole 200 to a request without conditions; a HEAD has no body to keep.
                if let until = answer.reusableUntil, let revision, let memo, let body = answer.body {
                    memo.keep(
                        RawAnswerMemo.Entry(
                            target: Array(head.bytes[head.target]), accept: head.accept.map { Array($0) },
                            varies: answer.fields[.vary] != nil, head: prefix, body: body, until: until,
                            revision: revision))
                }
                write(prefix: prefix, body: answer.body, closes: head.closes, written: written, context: context)
            }
            answers.increment()
            answered = true
            if let written {
                // As the request loop does: the answer, then the connection closes once the socket took all of it
                // (the writes are flushed on the way out); what follows is not read.
                mode = .closing
                written.futureResult.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
                return
            }
        }
        if buffer.readableBytes > 0, decoderState(context) != nil {
            mode = .passing
            passOn(wrapInboundOut(buffer), context: context)
        }
    }

    /// Where an answer given here comes from: the memo of recent answers, or the route's shortcut just now.
    private enum AnswerSource {
        case kept(RawAnswerMemo.Kept)
        case fresh(CachedAnswer)
    }

    /// The decoder's connection state, its pipeline built now if the connection started without it; nil (and the
    /// connection closed) when it cannot be built.
    private func decoderState(_ context: ChannelHandlerContext) -> ConnectionStateHandler? {
        if let state { return state }
        guard let built = connection.decoderState() else {
            context.close(promise: nil)
            return nil
        }
        state = built
        return built
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client stopped sending: what was held goes to the decoder, ahead of the end, which it then answers.
        if let event = event as? ChannelEvent, event == .inputClosed, case .waiting(let held) = mode {
            mode = .passing
            if held.readableBytes > 0 {
                passOn(wrapInboundOut(held), context: context)
                channelReadComplete(context: context)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The decoder's requests are answered: reads resume here, starting with what was held.
    private func resume() {
        guard case .waiting(let held) = mode, let context else { return }
        mode = .reading
        read(held, context: context)
        // This runs outside a read from the socket: what `read` passed on must be followed by the end of a read, or
        // the request loop (the async channel hands reads on at their end) would not see it until the client sent more.
        channelReadComplete(context: context)
    }

    /// Bytes for the decoder.
    private func passOn(_ bytes: NIOAny, context: ChannelHandlerContext) {
        passedOn = true
        context.fireChannelRead(bytes)
    }

    /// The end of a read goes on to the decoder only when the decoder was given something since the last one. A
    /// connection keeps its decoder once one request needed it (every connection does when a cached file is due
    /// for its next read), and the end of every read answered here walked through all of the decoder's handlers
    /// for nothing.
    func channelReadComplete(context: ChannelHandlerContext) {
        if case .passing = mode {
            context.fireChannelReadComplete()
        } else if passedOn {
            passedOn = false
            context.fireChannelReadComplete()
        }
    }

    /// Takes the status line (its CRLF included) from the front of an answer's bytes; `nil` when they hold none.
    static func statusLine(of bytes: inout ByteBuffer) -> ByteBuffer? {
        guard let end = bytes.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        return bytes.readSlice(length: end + 1 - bytes.readerIndex)
    }

    /// The status line and the answer's own fields as the HTTP/1 encoder writes them (what `RawAnswerMemo` keeps).
    static func prefix(of answer: CachedAnswer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var head = allocator.buffer(capacity: 320)
        head.writeStaticString("HTTP/1.1 ")
        head.writeString(String(answer.status.code))
        head.writeStaticString(" ")
        head.writeString(answer.status.reasonPhrase)
        head.writeStaticString("\r\n")
        for field in answer.fields { head.writeHTTPField(field.name, field.value) }
        return head
    }

    /// The answer as the HTTP/1 encoder writes it: `prefix`, then the fields `EventLoopShortcutHandler` adds too
    /// (`CachedAnswer.eachAddedField`); the body as its own buffer (no copy). `written` is completed by the last write.
    private func write(
        prefix: ByteBuffer, body: ByteBuffer?, closes: Bool, written: EventLoopPromise<Void>?,
        context: ChannelHandlerContext
    ) {
        var head = context.channel.allocator.buffer(capacity: prefix.readableBytes + 144)
        var rest = prefix
        if let requestIDField, let statusLine = Self.statusLine(of: &rest) {
            head.writeImmutableBuffer(statusLine)
            head.writeRequestID(requestIDField)
        }
        head.writeImmutableBuffer(rest)
        CachedAnswer.eachAddedField(date: date.current(), closes: closes) { head.writeHTTPField($0, $1) }
        head.writeStaticString("\r\n")
        guard let body, body.readableBytes > 0 else { return context.write(wrapOutboundOut(head), promise: written) }
        context.write(wrapOutboundOut(head), promise: nil)
        context.write(wrapOutboundOut(body), promise: written)
    }
}

/// The connection the raw path answers on: told of every answer given ahead of the decoder (its idle clock), and
/// asked for the decoder's connection state before a request is handed on (`ConnectionFront` builds the decoder's
/// pipeline then; a connection set up with it is its own state).
protocol RawPathConnection: AnyObject {
    /// A request was read and answered ahead of the decoder: the connection is busy.
    func answeredAhead()
    /// The decoder's connection state, built if it is not yet; nil when it cannot be built.
    func decoderState() -> ConnectionStateHandler?
}

extension ByteBuffer {
    /// A header line of a new request id (`RequestID`), written without making a string.
    mutating func writeRequestID(_ name: HTTPField.Name) {
        writeString(name.rawName)
        writeStaticString(": ")
        RequestID().write(to: &self)
        writeStaticString("\r\n")
    }

    /// One header line as the HTTP/1 encoder writes it.
    mutating func writeHTTPField(_ name: HTTPField.Name, _ value: String) {
        writeString(name.rawName)
        writeStaticString(": ")
        writeString(value)
        writeStaticString("\r\n")
    }
}
