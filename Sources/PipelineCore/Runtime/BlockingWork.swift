// Long synchronous work (a decode and resize in C) on a thread of its own, never on Swift's cooperative pool.
import Dispatch

/// Runs CPU-bound synchronous work off Swift's cooperative pool.
///
/// On Linux that pool is GCD's global queue, one thread a core: a render holding one of them for a second holds
/// back every task meant to run there meanwhile (HTTP handlers, the journal, an invocation's timeout). A serial
/// queue of its own gets a thread beside the pool, so the pool stays free while the work runs; how many run at
/// once stays bounded by the functions' concurrency, which is what starts them.
public enum BlockingWork {
    /// Set on each of its queues, so a test can tell that work ran on one.
    static let queueKey = DispatchSpecificKey<Bool>()

    /// Runs `work` on a thread of its own; the caller's task is suspended meanwhile, its thread free.
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<T, any Error>) in
            let queue = DispatchQueue(label: "picpipe-render")
            queue.setSpecific(key: queueKey, value: true)
            queue.async { done.resume(with: Result { try work() }) }
        }
    }
}
