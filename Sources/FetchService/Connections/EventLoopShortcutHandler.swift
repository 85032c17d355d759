// The hot routes on the event loop: a GET or HEAD the listener can answer from memory (a cached thumbnail on the
// HTTP API, a cached object through a signed S3 request) is answered by a channel handler ahead of Hummingbird's
// request loop, so a hit costs no task hop, no Request/Response and no router. What it cannot answer exactly as the
// route would (anything else, a miss, a body, an error) goes on unchanged.
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// What a listener answers on the event loop. Both calls run on the event loop: they must not block.
package protocol EventLoopShortcut: Sendable {
    /// A cheap first look at a head: whether `answer` may take it (else it goes straight to the request loop).
    func mayAnswer(_ head: HTTPRequest) -> Bool
    /// The whole answer (counted in the listener's metrics), or `nil` for the request loop to answer.
    func answer(_ head: HTTPRequest) -> CachedAnswer?
    /// What the answers marked reusable (`CachedAnswer.reusableUntil`) depend on besides time, or `nil` when none
    /// may be given again now (the default).
    func revision() -> ShortcutRevision?
    /// Counts an answer given again by the raw path (`RawAnswerMemo`), as `answer` counts its own.
    func countReused(method: HTTPRequest.Method, status: HTTPResponse.Status, duration: Duration)
}

extension EventLoopShortcut {
    package func revision() -> ShortcutRevision? { nil }
    package func countReused(method: HTTPRequest.Method, status: HTTPResponse.Status, duration: Duration) {}
}

/// Answers a listener's `EventLoopShortcut` in the channel pipeline, after `ConnectionStateHandler` (so idle
/// timeouts and graceful shutdown see these requests and answers as their own) and before the request loop.
///
/// Answers stay in request order: while a request given to the request loop has not been answered (pipelining),
/// every later one goes to the loop too.
final class EventLoopShortcutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The server name `Application` adds to every answer.
    static let serverName = "picpipe"

    private let shortcut: any EventLoopShortcut
    /// The field of the request id each answer carries: the one a proxy gave the request, else a new one (`nil`:
    /// none).
    private let requestIDField: HTTPField.Name?
    /// A thumbnail head waiting for its end (a body after it sends both to the request loop).
    private var held: HTTPRequest?
    /// Requests given to the request loop whose answer has not ended.
    private var forwarded = 0
    /// Whether this handler wrote since the last flush.
    private var unflushed = false
    private var date = HTTPDateCache()

    init(_ shortcut: any EventLoopShortcut, requestIDField: HTTPField.Name? = nil) {
        self.shortcut = shortcut
        self.requestIDField = requestIDField
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if forwarded == 0, held == nil, head.method == .get || head.method == .head, shortcut.mayAnswer(head) {
                held = head
                return
            }
            forwarded += 1
            context.fireChannelRead(data)
        case .body:
            releaseHeld(context)
            context.fireChannelRead(data)
        case .end:
            if let head = held {
                held = nil
                if let answer = shortcut.answer(head) {
                    write(answer, for: head, context: context)
                    return
                }
                forwarded += 1
                context.fireChannelRead(wrapInboundOut(.head(head)))
            }
            context.fireChannelRead(data)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if unflushed {
            unflushed = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        held = nil
        context.fireChannelInactive()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), forwarded > 0 { forwarded -= 1 }
        context.write(data, promise: promise)
    }

    /// Gives a held head to the request loop (its body follows).
    private func releaseHeld(_ context: ChannelHandlerContext) {
        guard let head = held else { return }
        held = nil
        forwarded += 1
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    /// Writes the answer with the headers `Application` adds (Date, Server); closes after it when the request
    /// asked to, as Hummingbird's request loop does (and `FetchResponder` says so, as here).
    private func write(_ answer: CachedAnswer, for head: HTTPRequest, context: ChannelHandlerContext) {
        let closes = head.headerFields[.connection] == "close"
        var fields = answer.fields(date: date.current(), closes: closes)
        if let requestIDField { fields[requestIDField] = RequestID.of(head.headerFields) }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: answer.status, headerFields: fields))), promise: nil)
        if let body = answer.body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
        if closes {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            unflushed = false
            context.close(promise: nil)
        } else {
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
            unflushed = true
        }
    }
}
