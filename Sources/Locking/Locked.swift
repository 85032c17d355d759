// A value behind a lock that ThreadSanitizer can see.
import NIOConcurrencyHelpers

/// A value that threads share, read and changed only while its lock is held.
///
/// It replaces `Synchronization.Mutex` throughout picpipe for one reason: this toolchain's `Mutex` locks with raw
/// futexes in code built without TSan, so ThreadSanitizer sees no happens-before between two `withLock` calls and
/// reports every guarded access as a race (four threads adding 1 under `withLock` print the exact total and still get
/// a report). NIO's `NIOLock` is a `pthread_mutex_t`, which TSan intercepts, so a whole-suite TSan run reports only
/// real races. The cost is one allocation per lock, made once, and the same uncontended lock/unlock.
public final class Locked<Value>: @unchecked Sendable {
    // @unchecked Sendable: `value` is only touched inside `withLock`, which holds `lock` for the whole access. As with
    // `Mutex`, the value comes in and goes out only as `sending` (a region no other thread holds), so a value that is
    // not Sendable itself (a formatter, say) cannot be reached from two threads at once.
    @usableFromInline let lock = NIOLock()
    @usableFromInline var value: Value

    /// A lock around `value`.
    public init(_ value: consuming sending Value) {
        self.value = value
    }

    /// Runs `body` with the lock held and the value open to change.
    @inlinable
    public func withLock<Result, Failure: Error>(
        _ body: (inout sending Value) throws(Failure) -> sending Result
    ) throws(Failure) -> sending Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
