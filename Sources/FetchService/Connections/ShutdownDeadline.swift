// When serve's shutdown grace ends, counted from SIGTERM or SIGINT: a request body still arriving then is cut, so
// a slow client cannot hold the shutdown (until session 37 the listeners waited for every body, however slow).
import NIOCore
import Synchronization

/// The end of `runtime.shutdown_grace`, counted from the signal (`begin`), shared by serve's HTTP listeners.
package final class ShutdownDeadline: Sendable {
    /// The grace in seconds.
    package let grace: Double
    private let began = Mutex<NIODeadline?>(nil)

    /// - Parameter grace: `runtime.shutdown_grace`, in seconds.
    package init(grace: Double) { self.grace = grace }

    /// Starts the countdown: at the signal (serve's first service to hear it), else when a listener shuts down.
    /// Later calls do nothing.
    package func begin() {
        began.withLock { began in
            if began == nil { began = .now() }
        }
    }

    /// When the grace ends (counted from now while it has not begun).
    package var end: NIODeadline {
        (began.withLock { $0 } ?? .now()) + .nanoseconds(Int64(grace * 1_000_000_000))
    }
}

/// A request body still arriving when the shutdown grace ended: the error its reader meets instead of its next
/// bytes (as `BodyTooSlow`). Routes answer it 503, keeping nothing of the body.
package struct BodyCutAtShutdown: Error, CustomStringConvertible {
    /// The body's bytes that arrived.
    package var received: Int
    /// `runtime.shutdown_grace`, in seconds.
    package var grace: Double

    package var description: String {
        "serve is stopping: the body was cut after \(received) bytes, when runtime.shutdown_grace "
            + "(\(grace == grace.rounded() ? "\(Int(grace))" : "\(grace)") s) ended; nothing was kept, send it again once serve runs"
    }
}
