// Long synchronous work (a decode and resize in C) on threads of its own, never on Swift's cooperative pool.
import Foundation
import ImageCore
import Synchronization

/// Runs CPU-bound synchronous work off Swift's cooperative pool.
///
/// On Linux that pool is GCD's global queue, one thread a core: a render holding one of them for a second holds
/// back every task meant to run there meanwhile (HTTP handlers, the journal, an invocation's timeout). The work runs
/// on a few long-lived threads instead, so the pool stays free; how many renders run at once stays bounded by the
/// functions' concurrency, which is what starts them, because a cancelled caller's work stops too (below).
/// Long-lived, because a thread new to the process gets a malloc arena of its own with none of the earlier renders'
/// freed pages: a fresh GCD thread per render cost 5 ms a 12 MP picture in page faults (batch `-j 1`, 20 pictures:
/// 502 ms against 405 ms run inline).
///
/// Cancelling the caller's task (an invocation's timeout does) stops its work: a job still queued never starts,
/// and a running one sees its thread's `CancellationFlag` raised, which the image code checks as it goes (every
/// band of rows of a JPEG or PNG decode, between the stages of a render). Until session 37 the work ran to its
/// end, holding a thread and its memory while later invocations waited behind it.
public enum BlockingWork {
    /// Whether the current thread is one of the work threads (for tests).
    static var onWorkThread: Bool { Thread.current.threadDictionary[WorkThreads.marker] != nil }

    private static let pool = WorkThreads(count: max(4, ProcessInfo.processInfo.activeProcessorCount * 2))

    /// Runs `work` on one of the work threads; the caller's task is suspended meanwhile, its thread free.
    /// - Throws: what `work` throws; `CancellationError` when the caller's task was cancelled and the work did not
    ///   start, or failed after it (its `ImageError.cancelled`, or any error of work nobody waits for, is not the
    ///   input's fault).
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await run(on: pool, work)
    }

    /// `run` on the given threads (the tests use a pool of their own, so they know what it holds).
    static func run<T: Sendable>(
        on threads: WorkThreads, _ work: @escaping @Sendable () throws -> T
    ) async throws -> T {
        let cancellation = CancellationFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (done: CheckedContinuation<T, any Error>) in
                threads.submit {
                    guard !cancellation.isCancelled else { return done.resume(throwing: CancellationError()) }
                    let result = Result { try cancellation.whileCurrent(work) }
                    if case .failure = result, cancellation.isCancelled {
                        done.resume(throwing: CancellationError())
                    } else {
                        done.resume(with: result)
                    }
                }
            }
        } onCancel: {
            cancellation.cancel()
        }
    }
}

/// A fixed set of threads taking jobs from one queue in order.
final class WorkThreads: Sendable {
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

    /// The jobs waiting for a thread (for tests).
    var queued: Int { jobs.withLock { $0.count } }
}
