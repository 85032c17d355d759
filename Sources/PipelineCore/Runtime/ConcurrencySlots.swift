// A function's reserved concurrency as a count of running invocations, shared by its workers and synchronous calls.
import Synchronization

/// Invocations of one function running in this process: its queue workers' and synchronous (RequestResponse)
/// calls'. Lock-free: one atomic counter per function, taken and released around each invocation.
final class ConcurrencySlots: Sendable {
    private let running = Atomic<Int>(0)

    /// Takes a slot unless `limit` are taken.
    func take(limit: Int) -> Bool {
        var current = running.load(ordering: .relaxed)
        while current < max(1, limit) {
            let (exchanged, original) = running.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Takes a slot even past the limit (a synchronous call that may not be refused: the CLI, the HTTP API).
    func force() { running.wrappingAdd(1, ordering: .acquiringAndReleasing) }

    /// Gives a slot back.
    func release() { running.wrappingSubtract(1, ordering: .acquiringAndReleasing) }

    /// How many are taken now.
    var count: Int { running.load(ordering: .relaxed) }
}
