// A cap on open connections: each holds a socket, buffers and a task, so a flood of idle ones must not use up the
// process's file descriptors.
import Prometheus
import Synchronization

/// Counts the server's open connections against `limit`.
final class ConnectionCount: Sendable {
    /// The most connections open at once.
    let limit: Int
    private let open = Atomic<Int>(0)
    /// Shows the count on /metrics.
    private let gauge: Gauge?

    init(limit: Int, gauge: Gauge? = nil) {
        self.limit = max(1, limit)
        self.gauge = gauge
    }

    /// Counts a new connection in. - Returns: `false` (and counts nothing) when `limit` are already open.
    func admit() -> Bool {
        if open.add(1, ordering: .relaxed).newValue <= limit {
            gauge?.increment()
            return true
        }
        open.subtract(1, ordering: .relaxed)
        return false
    }

    /// Counts a closed connection out.
    func release() {
        open.subtract(1, ordering: .relaxed)
        gauge?.decrement()
    }

    /// Connections open now (for tests and metrics).
    var current: Int { open.load(ordering: .relaxed) }
}
