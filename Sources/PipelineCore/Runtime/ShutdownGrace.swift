// The time running invocations get after SIGTERM: when it is over, each still running is cancelled and put back.
import Foundation
import Locking

/// A one-shot deadline that running invocations subscribe to.
final class ShutdownGrace: Sendable {
    /// The grace in seconds (`runtime.shutdown_grace`).
    let seconds: Double

    private struct State {
        var expired = false
        var started = false
        var next = 0
        var actions: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Locked(State())

    init(seconds: Double) { self.seconds = seconds }

    /// Runs `action` when the grace expires (at once if it already has). - Returns: a token for `remove`.
    func onExpiry(_ action: @escaping @Sendable () -> Void) -> Int? {
        let token: Int? = state.withLock { state in
            guard !state.expired else { return nil }
            state.next += 1
            state.actions[state.next] = action
            return state.next
        }
        if token == nil { action() }
        return token
    }

    /// Forgets an action (its invocation ended).
    func remove(_ token: Int) { _ = state.withLock { $0.actions.removeValue(forKey: token) } }

    /// Starts the countdown (once); when it ends, every registered action runs.
    func start() {
        let first = state.withLock { state -> Bool in
            defer { state.started = true }
            return !state.started
        }
        guard first else { return }
        let seconds = self.seconds
        Task {
            try? await Task.sleep(for: .seconds(seconds))
            self.expire()
        }
    }

    /// Ends the grace now.
    func expire() {
        let actions = state.withLock { state -> [@Sendable () -> Void] in
            state.expired = true
            defer { state.actions = [:] }
            return Array(state.actions.values)
        }
        for action in actions { action() }
    }
}
