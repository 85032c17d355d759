// Wakes idle workers when work arrives in this process, instead of waiting for the next poll.
import Locking

/// A broadcast wake-up: `wait(upTo:)` returns when `notify()` is called or the time is up.
final class WorkSignal: Sendable {
    private struct State {
        var generation = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextID = 0
    }

    private let state = Locked(State())

    /// Wakes every waiter.
    func notify() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation += 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The current generation: pass it to `wait` so a notify between a check and the wait is not missed.
    var generation: Int { state.withLock { $0.generation } }

    /// Waits for a notify after `generation`, at most `seconds`, or until the task is cancelled.
    func wait(after generation: Int, upTo seconds: Double) async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        let timer = Task {
            try? await Task.sleep(for: .seconds(seconds))
            self.resume(id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation != generation || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.resume(id)
        }
        timer.cancel()
    }

    private func resume(_ id: Int) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.resume()
    }
}

/// One `WorkSignal` per function: queued work wakes only the workers that can take it.
final class FunctionWorkSignals: Sendable {
    private let signals = Locked<[String: WorkSignal]>([:])

    /// The signal the workers of `function` wait on.
    func signal(for function: String) -> WorkSignal {
        signals.withLock { signals in
            if let signal = signals[function] { return signal }
            let signal = WorkSignal()
            signals[function] = signal
            return signal
        }
    }

    /// Wakes the idle workers of `function`; nil: of every function.
    func notify(_ function: String?) {
        if let function {
            signal(for: function).notify()
        } else {
            for signal in signals.withLock({ Array($0.values) }) { signal.notify() }
        }
    }
}
