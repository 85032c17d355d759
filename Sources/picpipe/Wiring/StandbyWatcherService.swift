// The watcher on a shared database: one active per upload folder, the others hot standbys polling its lock.
import Foundation
import Logging
import PipelineCore
import PostgresBackend
import ServiceLifecycle

/// Runs the upload watcher while this process holds the folder's advisory lock; until then it tries every
/// `pollInterval` (a standby takes over within about a second of the active watcher's death, when the server
/// drops its session and lock).
struct StandbyWatcherService: Service, CustomStringConvertible {
    /// Its name in ServiceLifecycle's logs.
    var description: String { "StandbyWatcherService" }

    let watcher: UploadWatcherService
    let lock: AdvisoryLock
    /// The store, whose temporary files a dead active watcher left are swept at takeover.
    let layout: StoreLayout
    let logger: Logger
    var pollInterval: Duration = .seconds(1)

    /// Watches the lock's session while the watcher runs: a lost session (a database restart) is re-acquired at
    /// once; if a standby took the lock meanwhile, this process stops rather than run a second watcher.
    private func keepLock() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: pollInterval)
            if lock.isHeld { continue }
            let taken: Bool
            do {
                taken = try lock.tryAcquire()
            } catch {
                continue  // the database is still away: nobody else can take the lock either; keep watching
            }
            if taken {
                logger.notice("watcher lock re-acquired after its database session was lost")
                continue
            }
            logger.critical("watcher lock taken by another process; this watcher stops")
            throw WatcherLockLost()
        }
    }

    /// The watcher's lock went to another process.
    struct WatcherLockLost: Error, CustomStringConvertible {
        var description: String { "another process holds the watcher lock of this upload folder" }
    }

    func run() async throws {
        var announced = false
        while !Task.isCancelled {
            let acquired: Bool
            do {
                acquired = try lock.tryAcquire()
            } catch {
                acquired = false
            }
            if acquired {
                logger.notice("watcher active", metadata: ["lock": "\(lock.name)"])
                // The watcher this one replaces may have died mid-copy (kill -9): its temporary files go now, not at
                // the next start (only those whose writer is gone; see TemporaryOwner).
                for area in [layout.uploads, layout.originals] { AtomicFile.sweepTemporaries(in: area) }
                defer { lock.release() }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await watcher.run() }
                    group.addTask { try await keepLock() }
                    // The watcher returns at shutdown; keepLock throws when the lock went to another process.
                    try await group.next()
                    group.cancelAll()
                }
                return
            }
            if !announced {
                logger.notice("watcher on standby: another process watches this folder", metadata: ["lock": "\(lock.name)"])
                announced = true
            }
            do {
                _ = try await cancelWhenGracefulShutdown { [pollInterval] in try await Task.sleep(for: pollInterval) }
            } catch {
                return
            }
            if Task.isShuttingDownGracefully { return }
        }
    }
}
