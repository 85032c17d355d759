// The invocations one process is running now, so its heartbeat renews only those leases.
import Locking

/// Ids of this process's running invocations: added at claim (and at a RequestResponse append), removed when their
/// outcome is written or abandoned.
final class LiveClaims: Sendable {
    private let claims = Locked<Set<Int64>>([])

    func insert(_ id: Int64) { claims.withLock { _ = $0.insert(id) } }
    func remove(_ id: Int64) { claims.withLock { _ = $0.remove(id) } }
    var ids: [Int64] { claims.withLock { Array($0) } }
}
