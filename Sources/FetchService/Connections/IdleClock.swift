// The idle timeout of one connection, shared by the two handlers that keep it: `ConnectionFront` before the
// decoder exists, `ConnectionStateHandler` after. The checks of all the connections of an event loop are made by one
// scheduled task (`IdleSweep`): a task per connection cost 5 % of the loop without keep-alive, most of it in NIO
// cancelling it (a search of its whole timer heap, which held one task per open connection). The send timeout's
// looks (`SendClock`) go in the same kind of sweep.
import Locking
import NIOCore

/// A connection's place in its event loop's `IdleSweep`: a look due at `deadline`. Used on that event loop only.
class SweptClock {
    /// The sweep's list, sorted by `deadline` (strong both ways while linked: `IdleSweep.unlink` clears them).
    fileprivate(set) var deadline = NIODeadline.uptimeNanoseconds(0)
    fileprivate var previous: SweptClock?
    fileprivate var next: SweptClock?
    fileprivate(set) var isLinked = false

    /// Its deadline passed and it is out of the sweep's list: what it looks at, it does now (closing the connection,
    /// or going back in at a later deadline).
    func due(now: NIODeadline, in sweep: IdleSweep) {}
}

/// When a connection was last busy, and its place in its event loop's `IdleSweep`, which closes it once it has been
/// idle for `timeout` (or looks again at the new deadline). Used on the connection's event loop only.
final class IdleClock: SweptClock {
    private let timeout: TimeAmount
    private var lastActive = NIODeadline.uptimeNanoseconds(0)
    /// Asked when a deadline passes: whether the connection may be closed as idle now (false: it is busy in a way
    /// that restarts the clock when it ends, so no check is scheduled).
    private let mayClose: () -> Bool
    private let sweeps: IdleSweeps
    /// The sweep of the connection's event loop, found at its first restart.
    private var sweep: IdleSweep?
    /// The connection, while the clock is in its sweep (a reference cycle with the handler that `stop` ends; NIO
    /// removes every handler of a channel that closes).
    private var context: ChannelHandlerContext?

    init(timeout: TimeAmount, sweeps: IdleSweeps, mayClose: @escaping () -> Bool) {
        self.timeout = timeout
        self.sweeps = sweeps
        self.mayClose = mayClose
    }

    /// The connection is busy now.
    func touch(_ context: ChannelHandlerContext) {
        lastActive = context.eventLoop.now
    }

    /// Busy now, and a check due `timeout` from now (a check already due finds the new deadline itself).
    func restart(_ context: ChannelHandlerContext) {
        touch(context)
        guard !isLinked else { return }
        let sweep = self.sweep ?? sweeps.sweep(on: context.eventLoop, timeout: timeout)
        self.sweep = sweep
        self.context = context
        sweep.link(self, at: lastActive + timeout)
    }

    func stop() {
        if isLinked { sweep?.unlink(self) }
        context = nil
    }

    /// Its deadline passed (it is out of the sweep's list): closes the connection if it was idle all along, or goes
    /// back in at the new deadline.
    override func due(now: NIODeadline, in sweep: IdleSweep) {
        guard let context, context.channel.isActive, mayClose() else {
            self.context = nil
            return
        }
        let deadline = lastActive + timeout
        if now >= deadline {
            self.context = nil
            context.close(promise: nil)
        } else {
            sweep.link(self, at: deadline)
        }
    }
}

/// The idle clocks of one event loop's connections (with one timeout), sorted by deadline, and one task scheduled
/// at the first deadline. Used on that event loop only.
final class IdleSweep {
    private let eventLoop: any EventLoop
    private var first: SweptClock?
    private var last: SweptClock?
    private var check: Scheduled<Void>?
    private var checkAt = NIODeadline.distantFuture
    /// How many clocks are in the list (for tests).
    private(set) var count = 0

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Puts a clock in the list at its deadline: from the end, where a restart (`now + timeout`, the latest there is)
    /// always goes; a clock put back after a check may go further in.
    func link(_ clock: SweptClock, at deadline: NIODeadline) {
        clock.deadline = deadline
        var before = last
        while let node = before, node.deadline > deadline { before = node.previous }
        clock.previous = before
        if let before {
            clock.next = before.next
            before.next = clock
        } else {
            clock.next = first
            first = clock
        }
        if let next = clock.next { next.previous = clock } else { last = clock }
        clock.isLinked = true
        count += 1
        if first === clock { scheduleCheck() }
    }

    func unlink(_ clock: SweptClock) {
        if let previous = clock.previous { previous.next = clock.next } else { first = clock.next }
        if let next = clock.next { next.previous = clock.previous } else { last = clock.previous }
        clock.previous = nil
        clock.next = nil
        clock.isLinked = false
        count -= 1
    }

    /// A check at the first deadline, unless one is due no later (it schedules the next itself).
    private func scheduleCheck() {
        guard let first, check == nil || first.deadline < checkAt else { return }
        check?.cancel()
        checkAt = first.deadline
        check = eventLoop.assumeIsolated().scheduleTask(deadline: checkAt) { [self] in
            check = nil
            checkAt = .distantFuture
            let now = eventLoop.now
            while let clock = self.first, clock.deadline <= now {
                unlink(clock)
                clock.due(now: now, in: self)
            }
            scheduleCheck()
        }
    }
}

/// One `IdleSweep` per event loop and timeout, shared by a listener's connections (their handlers run on that loop,
/// so a sweep is never used from two threads).
final class IdleSweeps: Sendable {
    private struct Key: Hashable {
        var eventLoop: ObjectIdentifier
        var timeout: Int64
    }
    /// Each sweep with its loop (`NIOLoopBound` keeps the loop alive, so its identifier is never another loop's).
    private let sweeps = Locked<[Key: NIOLoopBound<IdleSweep>]>([:])

    init() {}

    /// The sweep of `eventLoop` for `timeout`; call on that loop.
    func sweep(on eventLoop: any EventLoop, timeout: TimeAmount) -> IdleSweep {
        sweeps.withLock { sweeps in
            let key = Key(eventLoop: ObjectIdentifier(eventLoop), timeout: timeout.nanoseconds)
            if let bound = sweeps[key] { return bound.value }
            let made = IdleSweep(eventLoop: eventLoop)
            sweeps[key] = NIOLoopBound(made, eventLoop: eventLoop)
            return made
        }
    }
}
