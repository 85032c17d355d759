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

    /// Less free space than this (for unprivileged writers) is a full store: no picture fits.
    static let fullBelow = 1 << 20

    /// The store's condition; when it is not ok, a probe write (at most once a second) may find it ok again. When it
    /// is ok, the file system is looked at (`statvfs`, at most once a second): mounted read-only, or with less than
    /// `fullBelow` free, it is not, before any write has failed (until session 29 `/healthz` said ok on a read-only
    /// or full store until an upload had failed).
    func condition() async -> StoreHealth.Condition {
        let health = StoreHealth.shared
        let now = ContinuousClock.now
        let due = lastProbe.withLock { last -> Bool in
            if let last, now - last < .seconds(1) { return false }
            last = now
            return true
        }
        guard health.condition != .ok else {
            if due { lookAtTheFileSystem(health) }
            return health.condition
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

    /// Records a read-only or full file system under the store, as a failed write would.
    private func lookAtTheFileSystem(_ health: StoreHealth) {
        var info = statvfs()
        let path = layout.databases.path
        guard statvfs(path, &info) == 0 else { return }
        if info.f_flag & UInt(ST_RDONLY) != 0 {
            health.recordFailure(errno: EROFS, path: path)
        } else if Int(info.f_bavail) * Int(info.f_frsize) < Self.fullBelow {
            health.recordFailure(errno: ENOSPC, path: path, needing: Self.fullBelow)
        }
    }
}
