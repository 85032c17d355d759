// Ctrl-C (or SIGTERM: `timeout`, `kill`, systemd and `docker stop` send it) during a batch: the first asks the batch
// to stop starting files; a second one exits at once.
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// SIGINTs and SIGTERMs received since the handler was installed; only the handler and `InterruptSignal` touch it.
private let interruptsReceived = Atomic<Int>(0)
/// The last of them (its number), for the exit code: 128 + the signal, as a shell reports a process it ended.
private let lastInterrupt = Atomic<Int32>(0)

/// Catches SIGINT and SIGTERM while it lives (until `restore()`), so a command can finish cleanly and report
/// (until session 29 SIGTERM ended a batch at once: no summary, pictures half done).
///
/// A plain `sigaction` handler that only counts (async-signal-safe), not a Dispatch source: a source's handler
/// needs a thread of the global pool, which a loaded machine's busy batch may not give it in time.
final class InterruptSignal: Sendable {
    /// Starts catching SIGINT (also when the process inherited it ignored, as background jobs do).
    init() {
        interruptsReceived.store(0, ordering: .relaxed)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            lastInterrupt.store(signal, ordering: .relaxed)
            // The second: the user wants out now (atomic writes leave nothing partial).
            if interruptsReceived.add(1, ordering: .relaxed).newValue >= 2 { _exit(128 + signal) }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
    }

    /// Whether SIGINT or SIGTERM has been received.
    var received: Bool { interruptsReceived.load(ordering: .relaxed) > 0 }

    /// The exit code of a run it interrupted: 130 after SIGINT, 143 after SIGTERM.
    var exitCode: Int32 { 128 + (lastInterrupt.load(ordering: .relaxed) == SIGTERM ? SIGTERM : SIGINT) }

    /// Stops catching them (their default actions again).
    func restore() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
