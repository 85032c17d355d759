// Ctrl-C (or SIGTERM: `timeout`, `kill`, systemd and `docker stop` send it) during a batch: the first asks the batch
// to stop starting files; a second one exits at once, after what `onSecondInterrupt` gave it to do; a third exits
// there and then.
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// SIGINTs and SIGTERMs received since the handler was installed; only the handler and `InterruptSignal` touch it.
private let interruptsReceived = Atomic<Int>(0)
/// The last of them (its number), for the exit code: 128 + the signal, as a shell reports a process it ended.
private let lastInterrupt = Atomic<Int32>(0)
/// The write end of the pipe that wakes `onSecondInterrupt`'s thread; -1 while there is none (the second exits in
/// the handler).
private let secondInterruptPipe = Atomic<Int32>(-1)

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
            let received = interruptsReceived.add(1, ordering: .relaxed).newValue
            guard received >= 2 else { return }
            // The second: the user wants out now. A thread set to tidy up first is woken (write is
            // async-signal-safe) and ends the process; without one, or at the third, it ends here.
            let pipe = secondInterruptPipe.load(ordering: .relaxed)
            if received == 2, pipe >= 0 {
                let savedErrno = errno  // the interrupted code may be about to read it
                defer { errno = savedErrno }
                var byte: UInt8 = 1
                if write(pipe, &byte, 1) == 1 { return }
            }
            _exit(128 + signal)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
    }

    /// Runs `body` on a thread of its own at the second SIGINT or SIGTERM, instead of exiting in the signal handler;
    /// `body` gets the signal and ends the process (a third signal ends it at once meanwhile). Until session 34 the
    /// second exited there and then, without a word, leaving a batch's unfinished pictures in the store.
    func onSecondInterrupt(_ body: @escaping @Sendable (Int32) -> Never) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return }  // then the second interrupt exits at once, as it did
        let reader = ends[0]
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let count = read(reader, &byte, 1)
                if count == 1 { body(lastInterrupt.load(ordering: .relaxed)) }
                if count < 0 && errno == EINTR { continue }
                return  // the pipe broke: nothing will wake it
            }
        }
        thread.name = "picpipe-second-interrupt"
        thread.start()
        secondInterruptPipe.store(ends[1], ordering: .relaxed)
    }

    /// Whether SIGINT or SIGTERM has been received.
    var received: Bool { interruptsReceived.load(ordering: .relaxed) > 0 }

    /// The exit code of a run it interrupted: 130 after SIGINT, 143 after SIGTERM.
    var exitCode: Int32 { 128 + (lastInterrupt.load(ordering: .relaxed) == SIGTERM ? SIGTERM : SIGINT) }

    /// Stops catching them (their default actions again).
    func restore() {
        secondInterruptPipe.store(-1, ordering: .relaxed)
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
