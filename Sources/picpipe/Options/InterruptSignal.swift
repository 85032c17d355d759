// Ctrl-C during a batch: the first SIGINT asks the batch to stop starting files; a second one exits at once.
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// SIGINTs received since the handler was installed; only the handler and `InterruptSignal` touch it.
private let interruptsReceived = Atomic<Int>(0)

/// Catches SIGINT while it lives (until `restore()`), so a command can finish cleanly and report.
///
/// A plain `sigaction` handler that only counts (async-signal-safe), not a Dispatch source: a source's handler
/// needs a thread of the global pool, which a loaded machine's busy batch may not give it in time.
final class InterruptSignal: Sendable {
    /// Starts catching SIGINT (also when the process inherited it ignored, as background jobs do).
    init() {
        interruptsReceived.store(0, ordering: .relaxed)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            // The second Ctrl-C: the user wants out now (atomic writes leave nothing partial).
            if interruptsReceived.add(1, ordering: .relaxed).newValue >= 2 { _exit(130) }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
    }

    /// Whether SIGINT has been received.
    var received: Bool { interruptsReceived.load(ordering: .relaxed) > 0 }

    /// Stops catching SIGINT (its default action again).
    func restore() {
        signal(SIGINT, SIG_DFL)
    }
}
