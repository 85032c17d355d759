// Ctrl-C during a batch: the first SIGINT asks the batch to stop starting files; a second one exits at once.
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Catches SIGINT while it lives (until `restore()`), so a command can finish cleanly and report.
final class InterruptSignal: Sendable {
    /// The flag, in a class of its own so the signal handler can hold it (an `Atomic` cannot be captured).
    private final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    private let flag = Flag()
    /// The dispatch source delivering SIGINT. `DispatchSourceSignal` is not `Sendable` on Linux; it is only
    /// touched in `init` and `restore()`, both called from the one task that owns this value.
    private nonisolated(unsafe) let source: any DispatchSourceSignal

    /// Starts catching SIGINT.
    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [flag] in
            // The second Ctrl-C: the user wants out now (atomic writes leave nothing partial).
            if flag.value.exchange(true, ordering: .relaxed) { Glibc.exit(130) }
        }
        source.resume()
    }

    /// Whether SIGINT has been received.
    var received: Bool { flag.value.load(ordering: .relaxed) }

    /// Stops catching SIGINT (its default action again).
    func restore() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
