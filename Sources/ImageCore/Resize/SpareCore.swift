// A second thread for work beside a decode, taken only while the machine has a core no other such thread holds.
import Foundation
import Synchronization

/// Cores a render may borrow for a helper thread: all but one, shared by every render of the process.
enum SpareCore {
    private static let borrowed = Atomic<Int>(0)
    /// How many helpers may run at once: the cores but one, or `PICPIPE_BENCH_SPARE_CORES` (0 turns the overlap off,
    /// so the benchmarks compare both ways with one binary).
    static let count =
        ProcessInfo.processInfo.environment["PICPIPE_BENCH_SPARE_CORES"].flatMap { Int($0) }.map { max(0, $0) }
        ?? max(0, ProcessInfo.processInfo.activeProcessorCount - 1)

    /// Runs `work` on a thread of its own when a core is spare, while `body` runs on this one, and returns both
    /// results once both are done; with no core spare, `work` is not run (`nil`).
    static func alongside<Helped, Result>(
        _ work: @escaping @Sendable () -> Helped, while body: () throws -> Result
    ) rethrows -> (Result, Helped?) {
        guard take() else { return (try body(), nil) }
        defer { give() }
        let helper = HelperThread(work)
        // The helper is joined even when `body` throws: it may read memory `body` owns.
        let result: Result
        do {
            result = try body()
        } catch {
            _ = helper.join()
            throw error
        }
        return (result, helper.join())
    }

    private static func take() -> Bool {
        var current = borrowed.load(ordering: .relaxed)
        while current < count {
            let (exchanged, original) = borrowed.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    private static func give() { borrowed.subtract(1, ordering: .releasing) }
}

/// One piece of work on a thread of its own, joined for its result.
private final class HelperThread<Value>: @unchecked Sendable {
    // @unchecked Sendable: `value` is written once by the helper thread before it signals `done`, and read only by
    // `join()` after waiting for that signal (the semaphore orders the two).
    private var value: Value?
    private let done = DispatchSemaphore(value: 0)

    init(_ work: @escaping @Sendable () -> Value) {
        let thread = Thread { [self] in
            value = work()
            done.signal()
        }
        thread.name = "picpipe-resize"
        thread.start()
    }

    func join() -> Value {
        done.wait()
        return value!
    }
}
