// A cap on open connections: each holds a socket, buffers and a task, so a flood of idle ones must not use up the
// process's file descriptors.
import Synchronization

/// Counts the server's open connections against `limit`.
final class ConnectionCount: Sendable {
    /// The most connections open at once.
    let limit: Int
    private let open = Atomic<Int>(0)

    init(limit: Int) { self.limit = max(1, limit) }

    /// Counts a new connection in. - Returns: `false` (and counts nothing) when `limit` are already open.
    func admit() -> Bool {
        if open.add(1, ordering: .relaxed).newValue <= limit { return true }
        open.subtract(1, ordering: .relaxed)
        return false
    }

    /// Counts a closed connection out.
    func release() { open.subtract(1, ordering: .relaxed) }

    /// Connections open now (for tests and metrics).
    var current: Int { open.load(ordering: .relaxed) }
}
