// A connection that starts with the raw path alone: its idle clock and shutdown without the decoder, and the
// decoder built once, at the first request the raw path hands on, with that request's bytes and all that follow.
import HTTPTypes
import NIOCore
import NIOEmbedded
import Prometheus
import Testing

@testable import FetchService

struct ConnectionFrontTests {
    /// Takes the place of the decoder's pipeline: keeps the bytes it is handed.
    final class Decoder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var received = ""
        /// The ends of reads that reached it.
        var readsEnded = 0
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += String(buffer: unwrapInboundIn(data))
        }
        func channelReadComplete(context: ChannelHandlerContext) {
            readsEnded += 1
            context.fireChannelReadComplete()
        }
    }

    /// A lean connection (idle after 2 s) on an embedded channel, active at time 0, and what its decoder got.
    final class Connection {
        let loop = EmbeddedEventLoop()
        let channel: EmbeddedChannel
        /// The decoders built (at most one), and their connection states.
        var built: [Decoder] = []
        var states: [ConnectionStateHandler] = []

        init() throws {
            channel = EmbeddedChannel(loop: loop)
            let registry = PrometheusCollectorRegistry()
            let answers = registry.makeCounter(
                descriptor: MetricNameDescriptor(namespace: "t", metricName: "raw", unitName: "", helpText: ""))
            let sweeps = IdleSweeps()
            let front = ConnectionFront(idleTimeout: .seconds(2), sendTimeout: .seconds(4), sweeps: sweeps) {
                [unowned self] channel in
                let decoder = Decoder()
                let state = ConnectionStateHandler(idleTimeout: .seconds(2), sweeps: sweeps)
                try channel.pipeline.syncOperations.addHandlers(decoder, state)
                built.append(decoder)
                states.append(state)
                return state
            }
            try channel.pipeline.syncOperations.addHandlers(
                front,
                RawShortcutHandler(
                    RawShortcutIdleTests.Hits(), maxHeadLength: 1024, connection: front, answers: answers,
                    reused: answers, memos: nil))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }

        func send(_ text: String) throws { try channel.writeInbound(ByteBuffer(string: text)) }
        func written() throws -> String { try RawShortcutIdleTests.written(channel) }
        func finish() { RawShortcutIdleTests.finish(channel, loop) }
    }

    static let hit = "GET /hit HTTP/1.1\r\nHost: h\r\n\r\n"

    @Test func cachedAnswersNeverBuildTheDecoder() throws {
        let connection = try Connection()
        defer { connection.finish() }
        for _ in 0..<3 {
            try connection.send(Self.hit)
            #expect(try connection.written().hasSuffix("\r\n\r\nhi"))
        }
        try connection.send(Self.hit + Self.hit)
        #expect(try connection.written().components(separatedBy: "HTTP/1.1 200 OK").count == 3)
        #expect(connection.built.isEmpty)
        #expect(connection.channel.isActive)
    }

    @Test func theFirstRequestHandedOnBuildsTheDecoderOnceWithItsBytes() throws {
        let connection = try Connection()
        defer { connection.finish() }
        try connection.send(Self.hit)
        #expect(try connection.written().hasSuffix("hi"))
        let post = "POST /images HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab"
        try connection.send(post + Self.hit)
        try connection.send(Self.hit)
        #expect(connection.built.count == 1)
        // Not plain: the decoder has the connection for good, from the POST's first byte.
        #expect(connection.built.first?.received == post + Self.hit + Self.hit)
        #expect(try connection.written().isEmpty)
    }

    @Test func aMissIsHandedOnAloneAndTheDecoderIsBuiltForIt() throws {
        let connection = try Connection()
        defer { connection.finish() }
        let miss = "GET /miss HTTP/1.1\r\nHost: h\r\n\r\n"
        try connection.send(miss + Self.hit)
        #expect(connection.built.count == 1)
        // The hit behind it waits for the miss's answer (the decoder's, which this stand-in never writes).
        #expect(connection.built.first?.received == miss)
        #expect(try connection.written().isEmpty)
    }

    @Test func theEndOfAReadAnsweredAheadDoesNotReachTheDecoder() throws {
        let connection = try Connection()
        defer { connection.finish() }
        let miss = "GET /miss HTTP/1.1\r\nHost: h\r\n\r\n"
        try connection.send(miss)
        let decoder = try #require(connection.built.first)
        #expect(decoder.readsEnded == 1)
        // The decoder answered the miss: the raw path reads again. A connection keeps its decoder, but the reads
        // answered ahead of it are none of its business, nor are their ends.
        connection.states.first?.whenIdle?()
        for _ in 0..<3 {
            try connection.send(Self.hit)
            #expect(try connection.written().hasSuffix("hi"))
        }
        #expect(decoder.readsEnded == 1)
        #expect(decoder.received == miss)
        // The next request handed on gets its end of read.
        try connection.send(miss)
        #expect(decoder.received == miss + miss)
        #expect(decoder.readsEnded == 2)
    }

    @Test func anIdleConnectionIsClosedAndAnswersKeepItOpen() throws {
        let connection = try Connection()
        defer { connection.finish() }
        for _ in 0..<3 {
            connection.loop.advanceTime(by: .milliseconds(1500))
            try connection.send(Self.hit)
        }
        connection.loop.advanceTime(by: .milliseconds(1900))
        #expect(connection.channel.isActive)
        connection.loop.advanceTime(by: .milliseconds(200))
        #expect(!connection.channel.isActive)
        #expect(connection.built.isEmpty)
    }

    @Test func shuttingDownOrTheClientsEndClosesAConnectionWithoutTheDecoder() throws {
        for event in [ChannelShouldQuiesceEvent() as any Sendable, ChannelEvent.inputClosed as any Sendable] {
            let connection = try Connection()
            defer { connection.finish() }
            try connection.send(Self.hit)
            #expect(try connection.written().hasSuffix("hi"))
            connection.channel.pipeline.fireUserInboundEventTriggered(event)
            #expect(!connection.channel.isActive, "\(event)")
            #expect(connection.built.isEmpty)
        }
    }

    @Test func aRequestToCloseGetsItsAnswerThenTheCloseAndNothingMoreIsRead() throws {
        let connection = try Connection()
        defer { connection.finish() }
        try connection.send("GET /hit HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n" + Self.hit)
        let written = try connection.written()
        #expect(written.hasSuffix("\r\nConnection: close\r\n\r\nhi"))
        #expect(!connection.channel.isActive)
        #expect(connection.built.isEmpty)
    }

    @Test func withTheDecoderBuiltItsStateHandlerKeepsTheClock() throws {
        let connection = try Connection()
        defer { connection.finish() }
        try connection.send("GET /miss HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(connection.built.count == 1)
        // The front's clock stopped; the state handler's runs from when it was added (a request is read but, as the
        // stand-in decoder sends no parts, the state handler counts none in progress): closed 2 s later.
        connection.loop.advanceTime(by: .milliseconds(1900))
        #expect(connection.channel.isActive)
        connection.loop.advanceTime(by: .milliseconds(200))
        #expect(!connection.channel.isActive)
    }
}
