// `http.min_upload_rate` checked by the connection on a timer: a body read under a minimum rate that stops dead is
// cut (its reader meets `BodyTooSlow`) once its average falls under the minimum, without another byte arriving.
// Until session 32 the rate was checked only as bytes arrived, so a body that stopped waited for the idle timeout.
// Until session 36 the bytes read with the head, before the route asked for the body, were not counted.
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import FetchService

struct BodyPaceTests {
    /// A connection with its decoder (idle after 60 s) that has read the head of an upload, active at time 0; its
    /// route wants the body at `minimumRate`.
    /// - Parameter early: body bytes read with the head, before the route asks for the body.
    static func upload(minimumRate: Int, early: Int = 0) throws -> (EmbeddedChannel, EmbeddedEventLoop) {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(
            ConnectionStateHandler(idleTimeout: .seconds(60), sweeps: IdleSweeps()))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(
            HTTPRequestPart.head(HTTPRequest(method: .post, scheme: nil, authority: "h", path: "/images")))
        if early > 0 { try body(channel, bytes: early) }
        ExpectContinue.bodyWanted(on: channel, minimumRate: minimumRate)
        return (channel, loop)
    }

    static func body(_ channel: EmbeddedChannel, bytes: Int) throws {
        try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(repeating: 1, count: bytes)))
        while try channel.readInbound(as: HTTPRequestPart.self) != nil {}
    }

    @Test func aBodyThatStopsIsCutWhenItsAverageFallsUnderTheMinimum() throws {
        let (channel, loop) = try Self.upload(minimumRate: 4096)
        defer { RawShortcutIdleTests.finish(channel, loop) }
        try Self.body(channel, bytes: 10_000)
        // 10,000 bytes are 4096 bytes/s for 2.4 s, within the 10 s grace: nothing until then.
        loop.advanceTime(by: .milliseconds(9900))
        try channel.throwIfErrorCaught()
        loop.advanceTime(by: .milliseconds(200))
        #expect {
            try channel.throwIfErrorCaught()
        } throws: { error in
            guard let slow = error as? BodyTooSlow else { return false }
            return slow.received == 10_000 && slow.minimum == 4096 && slow.seconds > 10 && slow.seconds < 10.2
        }
        #expect(channel.isActive, "the route answers (408, S3's RequestTimeout) and closes")
    }

    @Test func aBodyPastTheGraceHasAsLongAsItsBytesKeepTheAverage() throws {
        let (channel, loop) = try Self.upload(minimumRate: 4096)
        defer { RawShortcutIdleTests.finish(channel, loop) }
        // 20 × 4096 bytes in the first second: the average holds for 20 s after the start, then it stops.
        try Self.body(channel, bytes: 20 * 4096)
        loop.advanceTime(by: .milliseconds(19_900))
        try channel.throwIfErrorCaught()
        loop.advanceTime(by: .milliseconds(200))
        #expect(throws: BodyTooSlow.self) { try channel.throwIfErrorCaught() }
    }

    @Test func aBodyThatEndsOrIsNotPacedIsNeverCut() throws {
        let (ended, endedLoop) = try Self.upload(minimumRate: 4096)
        defer { RawShortcutIdleTests.finish(ended, endedLoop) }
        try Self.body(ended, bytes: 100)
        try ended.writeInbound(HTTPRequestPart.end(nil))
        endedLoop.advanceTime(by: .seconds(30))
        try ended.throwIfErrorCaught()

        let (unpaced, unpacedLoop) = try Self.upload(minimumRate: 0)
        defer { RawShortcutIdleTests.finish(unpaced, unpacedLoop) }
        try Self.body(unpaced, bytes: 100)
        unpacedLoop.advanceTime(by: .seconds(30))
        try unpaced.throwIfErrorCaught()
    }

    @Test func theBytesReadWithTheHeadCountForTheAverage() throws {
        // pace.py: 60,000 bytes with the head, then 600 bytes every 0.2 s (3,000 bytes/s): the average stays above
        // 4096 bytes/s for 54 s.
        let (paced, pacedLoop) = try Self.upload(minimumRate: 4096, early: 60_000)
        defer { RawShortcutIdleTests.finish(paced, pacedLoop) }
        for _ in 0..<100 {
            pacedLoop.advanceTime(by: .milliseconds(200))
            try Self.body(paced, bytes: 600)
        }
        try paced.throwIfErrorCaught()

        // stall.py: 20,000 bytes with the head, then nothing: 2,000 bytes/s over the grace period, reported as such.
        let (stalled, stalledLoop) = try Self.upload(minimumRate: 4096, early: 20_000)
        defer { RawShortcutIdleTests.finish(stalled, stalledLoop) }
        stalledLoop.advanceTime(by: .milliseconds(10_100))
        #expect {
            try stalled.throwIfErrorCaught()
        } throws: { error in
            guard let slow = error as? BodyTooSlow else { return false }
            let rate = Int(Double(slow.received) / slow.seconds)
            return slow.received == 20_000 && rate > 1950 && rate <= 2000
        }
    }

    @Test func aBodyHeldBackIsTimedFromWhenItIsWanted() throws {
        // No body bytes before the route asks (a client waiting for "100 Continue"): the average starts then.
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        defer { RawShortcutIdleTests.finish(channel, loop) }
        try channel.pipeline.syncOperations.addHandler(
            ConnectionStateHandler(idleTimeout: .seconds(60), sweeps: IdleSweeps()))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(
            HTTPRequestPart.head(HTTPRequest(method: .post, scheme: nil, authority: "h", path: "/images")))
        loop.advanceTime(by: .seconds(5))
        ExpectContinue.bodyWanted(on: channel, minimumRate: 4096)
        loop.advanceTime(by: .milliseconds(9900))
        try channel.throwIfErrorCaught()
        loop.advanceTime(by: .milliseconds(200))
        #expect(throws: BodyTooSlow.self) { try channel.throwIfErrorCaught() }
    }
}
