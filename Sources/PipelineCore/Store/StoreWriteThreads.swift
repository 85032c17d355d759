// The store's blocking writes (write, fsync, rename) on threads of their own, so a core that waits for the disk
// is not a core taken from decoding.
import Dispatch
import Locking

/// A few serial GCD queues for store writes, never Swift's cooperative pool: an fsync there would hold one of the
/// pool's threads (as many as the cores) idle for the disk.
///
/// Writes are spread over the queues in turn; each queue runs one at a time, so at most `count` writes wait for the
/// disk at once and the disk, not the thread count, sets their pace.
public final class StoreWriteThreads: Sendable {
    /// The queues every batch shares.
    public static let shared = StoreWriteThreads(count: 4)

    /// Set on each of the queues, so a test can tell that a write ran on one.
    static let queueKey = DispatchSpecificKey<Int>()

    private let queues: [DispatchQueue]
    private let next = Locked(0)

    /// - Parameter count: how many writes may wait for the disk at once.
    public init(count: Int) {
        queues = (0..<max(1, count)).map { index in
            let queue = DispatchQueue(label: "picpipe-store-write-\(index)")
            queue.setSpecific(key: Self.queueKey, value: index)
            return queue
        }
    }

    /// Runs `write` on one of the queues; the caller's task is suspended meanwhile, its thread free.
    public func run<T: Sendable>(_ write: @escaping @Sendable () throws -> T) async throws -> T {
        let queue = next.withLock { index -> DispatchQueue in
            defer { index = (index + 1) % queues.count }
            return queues[index]
        }
        return try await withCheckedThrowingContinuation { (done: CheckedContinuation<T, any Error>) in
            queue.async { done.resume(with: Result { try write() }) }
        }
    }
}
