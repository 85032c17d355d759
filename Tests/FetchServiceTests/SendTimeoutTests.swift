// The send timeout (`http.send_timeout`): a connection whose pending answer makes no progress, because its client
// stopped reading, is closed and its buffers dropped; one whose client reads on, however slowly, or whose answer is
// still being made, is not. Until session 32 a client that never read a large original kept its connection for ever.
import Foundation
import HTTPTypes
import MetadataService
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import PipelineCore
import Testing

@testable import FetchService

#if canImport(Glibc)
    import Glibc
#endif

struct SendTimeoutTests {
    /// A connection with its decoder (the state handler keeps a send timeout of 4 s, idle after 2 s) in the middle
    /// of a request whose answer is not done, active at time 0 on a new loop.
    static func busyConnection() throws -> (EmbeddedChannel, EmbeddedEventLoop, ChannelHandlerContext) {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        let state = ConnectionStateHandler(idleTimeout: .seconds(2), sweeps: IdleSweeps(), sendTimeout: .seconds(4))
        try channel.pipeline.syncOperations.addHandler(state)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(
            HTTPRequestPart.head(HTTPRequest(method: .get, scheme: nil, authority: "h", path: "/")))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        let context = try channel.pipeline.syncOperations.context(handlerType: ConnectionStateHandler.self)
        return (channel, loop, context)
    }

    /// The channel holds `bytes` it has not written yet, and can take no more.
    static func stall(_ channel: EmbeddedChannel, _ context: ChannelHandlerContext, bytes: Int) {
        // Below the state handler (which takes answer parts), as the encoder's bytes reach the socket.
        context.write(NIOAny(ByteBuffer(repeating: 0, count: bytes)), promise: nil)
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
    }

    @Test func anAnswerThatMakesNoProgressIsClosedAfterTheSendTimeout() throws {
        let (channel, loop, context) = try Self.busyConnection()
        defer { RawShortcutIdleTests.finish(channel, loop) }
        Self.stall(channel, context, bytes: 1 << 20)
        loop.advanceTime(by: .milliseconds(3900))
        #expect(channel.isActive, "a request in progress is not idle, and 3.9 s is under the send timeout")
        loop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive, "closed after 4 s (and at most a look, 1 s) without a byte going out")
    }

    @Test func anAnswerThatGoesOutSlowlyKeepsItsConnection() throws {
        let (channel, loop, context) = try Self.busyConnection()
        defer { RawShortcutIdleTests.finish(channel, loop) }
        Self.stall(channel, context, bytes: 1 << 20)
        // Every 3 s the client takes what waits (the channel can take writes again) and more is written, 21 s long:
        // never 4 s without progress.
        for _ in 0..<7 {
            loop.advanceTime(by: .seconds(3))
            channel.flush()
            channel.isWritable = true
            channel.pipeline.fireChannelWritabilityChanged()
            Self.stall(channel, context, bytes: 1 << 20)
            #expect(channel.isActive)
        }
        // Then it stops reading for good.
        loop.advanceTime(by: .seconds(6))
        #expect(!channel.isActive)
    }

    @Test func anAnswerBeingMadeIsNotCutByTheSendTimeout() throws {
        let (channel, loop, _) = try Self.busyConnection()
        defer { RawShortcutIdleTests.finish(channel, loop) }
        // Nothing waits for the socket (a thumbnail being made, an import): the send timeout does not apply.
        loop.advanceTime(by: .seconds(20))
        #expect(channel.isActive)
    }

    /// A loopback socket whose receive buffer is as small as the kernel allows (the client reads nothing).
    static func nonReadingSocket(port: Int) throws -> Int32 {
        try LoopbackClient.connect(port: port, receiveTimeout: timeval(tv_sec: 10, tv_usec: 0), receiveBuffer: 4096)
    }

    /// `picpipe_http_open_connections` as `/metrics` shows it (the connection asking counts itself).
    static func openConnections(_ client: LoopbackClient) async throws -> Int? {
        let metrics = try await client.send("GET", "/metrics").text
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("picpipe_http_open_connections ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) }
    }

    @Test func clientsThatNeverReadALargeOriginalAreClosed() async throws {
        // 8 MB: far more than the socket buffers between the server and a client that reads nothing.
        var bytes = [UInt8](repeating: 0x5A, count: 8 << 20)
        bytes.replaceSubrange(0..<4, with: [0xFF, 0xD8, 0xFF, 0xE0])
        let hash = bytes.withUnsafeBytes { ContentHash(of: $0) }.hex
        let configure: (inout PicpipeConfiguration) -> Void = { $0.http.sendTimeout = 1 }
        try await FetchServer.with(configure: configure) { [bytes] client, layout in
            var row = ImageMetadata(file: "")
            row.sha256 = hash
            try FetchServer.dropped(bytes, row: row, sourceName: "big.jpg", in: layout)
            let stalled = try (0..<3).map { _ in try Self.nonReadingSocket(port: client.port) }
            defer { for fd in stalled { close(fd) } }
            let request = Array("GET /images/\(hash) HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            for fd in stalled {
                #expect(request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } > 0)
            }
            // Each answer has begun (its first bytes wait in the client's socket).
            for fd in stalled {
                var peeked = 0
                var byte: UInt8 = 0
                for _ in 0..<200 where peeked <= 0 {
                    peeked = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
                    if peeked <= 0 { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(peeked == 1, "the answer to a stalled reader has begun")
            }
            // The server gives up on them within the send timeout and a look; polled, for at most 20 s.
            var open = 4
            for _ in 0..<100 where open > 1 {
                try await Task.sleep(for: .milliseconds(200))
                open = try await Self.openConnections(client) ?? 0
            }
            #expect(open == 1, "the stalled readers' connections are closed")
            // What a stalled client reads once it starts again is what was in the socket buffers, then the end: the
            // answer was cut, not sent on.
            for fd in stalled {
                var received = 0
                var chunk = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if count <= 0 { break }
                    received += count
                }
                #expect(received > 0 && received < bytes.count, "\(received) bytes of \(bytes.count)")
            }
            // A client that reads gets all of it.
            let whole = try await client.send("GET", "/images/\(hash)")
            #expect(whole.status == 200)
            #expect(whole.body == bytes)
        }
    }
}
