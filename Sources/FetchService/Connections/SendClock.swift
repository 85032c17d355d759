// The send timeout of one connection (nginx's `send_timeout`, imgproxy's write timeout): a client that stops
// reading an answer larger than the socket's buffers leaves it stuck in the channel, and its request is never done,
// so the idle clock never runs out. Until session 32 such a connection stayed open for as long as its client liked,
// with its buffers (http.max_connections of them shut every other client out with 503). The clock watches only
// while the channel is not writable (more than its high water mark waits for the socket): it looks a few times per
// timeout, in its event loop's sweep, at whether the bytes waiting went down, and closes the connection after a
// whole timeout without any going out.
import NIOCore

/// Closes a connection whose pending answer made no progress (nothing written to the socket) for `timeout`. Used on
/// the connection's event loop only.
final class SendClock: SweptClock {
    private let timeout: TimeAmount
    /// How often a stalled connection is looked at: a stall is cut between `timeout` and `timeout + look` after the
    /// last byte went out.
    private let look: TimeAmount
    private let sweeps: IdleSweeps
    private var sweep: IdleSweep?
    private var context: ChannelHandlerContext?
    /// When bytes were last seen going out (or the stall began).
    private var lastProgress = NIODeadline.uptimeNanoseconds(0)
    /// The bytes waiting in the channel at the last look.
    private var lastPending = 0
    /// The channel became writable since the last look: what waited went down past the low water mark.
    private var drained = false

    /// - Parameters:
    ///   - timeout: `http.send_timeout`.
    ///   - sweeps: the listener's sweeps, one per event loop and interval.
    init(timeout: TimeAmount, sweeps: IdleSweeps) {
        self.timeout = timeout
        self.look = .nanoseconds(max(timeout.nanoseconds / 4, TimeAmount.milliseconds(10).nanoseconds))
        self.sweeps = sweeps
    }

    /// The channel's writability changed (from `channelWritabilityChanged`): a channel that can no longer take writes
    /// is watched from now; one that can again has sent what it held back.
    func writabilityChanged(_ context: ChannelHandlerContext) {
        guard !context.channel.isWritable else {
            // Left in the sweep, if it is there: the next look finds the channel writable and drops it (linking and
            // unlinking at every change would cost a fast download a list walk each time).
            drained = true
            return
        }
        guard !isLinked else { return }
        let now = context.eventLoop.now
        lastProgress = now
        lastPending = Self.pending(context)
        drained = false
        self.context = context
        let sweep = self.sweep ?? sweeps.sweep(on: context.eventLoop, timeout: look)
        self.sweep = sweep
        sweep.link(self, at: now + look)
    }

    func stop() {
        if isLinked { sweep?.unlink(self) }
        context = nil
    }

    override func due(now: NIODeadline, in sweep: IdleSweep) {
        guard let context, context.channel.isActive, !context.channel.isWritable else {
            self.context = nil
            return
        }
        let pending = Self.pending(context)
        if drained || pending < lastPending { lastProgress = now }
        drained = false
        lastPending = pending
        if now - lastProgress >= timeout {
            self.context = nil
            // Whatever waits is dropped with the channel: its buffers go now, not when the client reads.
            context.close(promise: nil)
        } else {
            sweep.link(self, at: now + look)
        }
    }

    /// The bytes written to the channel and not yet to the socket.
    private static func pending(_ context: ChannelHandlerContext) -> Int {
        (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
    }
}
