// Long synchronous work (a decode and resize in C) on threads of its own, never on Swift's cooperative pool.
import Foundation
import Synchronization

/// Runs CPU-bound synchronous work off Swift's cooperative pool.
///
/// On Linux that pool is GCD's global queue, one thread a core: a render holding one of them for a second holds
/// back every task meant to run there meanwhile (HTTP handlers, the journal, an invocation's timeout). The work runs
/// on a few long-lived threads instead, so the pool stays free; how many renders run at once stays bounded by the
/// functions' concurrency, which is what starts them. Long-lived, because a thread new to the process gets a malloc
/// arena of its own with none of the earlier renders' freed pages: a fresh GCD thread per render cost 5 ms a
/// 12 MP picture in page faults (batch `-j 1`, 20 pictures: 502 ms against 405 ms run inline).
public enum BlockingWork {
    /// Whether the current thread is one of the work threads (for tests).
    static var onWorkThread: Bool { Thread.current.threadDictionary[WorkThreads.marker] != nil }

    private static let pool = WorkThreads(count: max(4, ProcessInfo.processInfo.activeProcessorCount * 2))

    /// Runs `work` on one of the work threads; the caller's task is suspended meanwhile, its thread free.
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<T, any Error>) in
            pool.submit { done.resume(with: Result { try work() }) }
        }
    }
}

/// A fixed set of threads taking jobs from one queue in order.
private final class WorkThreads: Sendable {
    static let marker = "picpipe-render"
    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let available = DispatchSemaphore(value: 0)

    init(count: Int) {
        for index in 0..<count {
            let thread = Thread { [self] in
                Thread.current.threadDictionary[Self.marker] = true
                while true {
                    available.wait()
                    let job = jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                    job?()
                }
            }
            thread.name = "picpipe-render-\(index)"
            thread.start()
        }
    }

    func submit(_ job: @escaping @Sendable () -> Void) {
        jobs.withLock { $0.append(job) }
        available.signal()
    }
}
