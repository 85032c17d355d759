// The idle timeout of one connection, shared by the two handlers that keep it: `ConnectionFront` before the
// decoder exists, `ConnectionStateHandler` after.
import NIOCore

/// When a connection was last busy, and one scheduled check that closes it once it has been idle for `timeout`
/// (or looks again at the new deadline). Used on the connection's event loop only.
final class IdleClock {
    private let timeout: TimeAmount
    private var lastActive = NIODeadline.uptimeNanoseconds(0)
    private var check: Scheduled<Void>?
    /// Asked when a deadline passes: whether the connection may be closed as idle now (false: it is busy in a way
    /// that restarts the clock when it ends, so no check is scheduled).
    private let mayClose: () -> Bool

    init(timeout: TimeAmount, mayClose: @escaping () -> Bool) {
        self.timeout = timeout
        self.mayClose = mayClose
    }

    /// The connection is busy now.
    func touch(_ context: ChannelHandlerContext) {
        lastActive = context.eventLoop.now
    }

    /// Busy now, and a check due `timeout` from now (a check already scheduled finds the new deadline itself).
    func restart(_ context: ChannelHandlerContext) {
        touch(context)
        schedule(at: lastActive + timeout, context)
    }

    func stop() {
        check?.cancel()
        check = nil
    }

    private func schedule(at deadline: NIODeadline, _ context: ChannelHandlerContext) {
        guard check == nil else { return }
        check = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            check = nil
            guard context.channel.isActive, mayClose() else { return }
            let deadline = lastActive + timeout
            if context.eventLoop.now >= deadline {
                context.close(promise: nil)
            } else {
                schedule(at: deadline, context)
            }
        }
    }
}
