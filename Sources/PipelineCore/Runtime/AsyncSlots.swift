// A counting semaphore for async code: the watcher's ingest lanes, batch's compute lanes and the bounded content
// locks (FetchService) wait on one.
import Locking

/// A counting semaphore whose waiters suspend instead of blocking their thread.
package final class AsyncSlots: Sendable {
    private struct State {
        var free: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Locked<State>

    package init(_ count: Int) { state = Locked(State(free: count)) }

    /// How many wait for a slot now.
    package var waiting: Int { state.withLock { $0.waiters.count } }

    package func acquire() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.free > 0 {
                    state.free -= 1
                    return true
                }
                state.waiters.append(waiter)
                return false
            }
            if granted { waiter.resume() }
        }
    }

    package func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.free += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
