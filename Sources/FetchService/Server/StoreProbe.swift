// Whether the store takes writes again after it was full or read-only, at most once a second, so /healthz turns
// healthy when space returns even if nothing else writes: a small write for a read-only store; for a full one,
// whether the free space covers the largest refused write (a small write that fits proves nothing of it).
import Foundation
import Locking
import NIOPosix
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// Re-checks a failed store by writing a probe file into `db/`, and a full one by its free space.
final class StoreProbe: Sendable {
    let layout: StoreLayout
    let threadPool: NIOThreadPool
    private let lastProbe = Locked<ContinuousClock.Instant?>(nil)

    init(layout: StoreLayout, threadPool: NIOThreadPool) {
        self.layout = layout
        self.threadPool = threadPool
    }

    /// The store's condition; when it is not ok, a probe write (at most once a second) may find it ok again.
    func condition() async -> StoreHealth.Condition {
        let health = StoreHealth.shared
        guard health.condition != .ok else { return .ok }
        let now = ContinuousClock.now
        let due = lastProbe.withLock { last -> Bool in
            if let last, now - last < .seconds(1) { return false }
            last = now
            return true
        }
        guard due else { return health.condition }
        let probe = layout.databases.appendingPathComponent(".picpipe-health-probe")
        _ = try? await threadPool.runIfActive {
            if case .full = health.condition {
                health.recheckFreeSpace(at: self.layout.databases.path)
                return
            }
            // AtomicFile reports the outcome to StoreHealth: success clears a read-only condition.
            try AtomicFile.write([UInt8](repeating: 0, count: 4096), to: probe)
            unlink(probe.path)
        }
        return health.condition
    }
}
