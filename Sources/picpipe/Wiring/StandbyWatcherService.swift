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

    /// Makes a watcher each time this process becomes the active one (a stopped watcher does not start again).
    let makeWatcher: @Sendable () -> UploadWatcherService
    let lock: AdvisoryLock
    /// The store, whose temporary files a dead active watcher left are swept at takeover.
    let layout: StoreLayout
    let logger: Logger
    var pollInterval: Duration = .seconds(1)

    /// Watches the lock's session while the watcher runs: a lost session (a database restart) is re-acquired at
    /// once; if a standby took the lock meanwhile, this process's watcher stops (`WatcherLockLost`) and it stands by.
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
            throw WatcherLockLost()
        }
    }

    /// The watcher's lock went to another process.
    struct WatcherLockLost: Error, CustomStringConvertible {
        var description: String { "another process holds the watcher lock of this upload folder" }
    }

    func run() async throws {
        var announced = false
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
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
                let watcher = makeWatcher()
                let lost: Bool
                do {
                    lost = try await withThrowingTaskGroup(of: Bool.self) { group in
                        group.addTask {
                            try await watcher.run()
                            return false
                        }
                        group.addTask {
                            do {
                                try await keepLock()
                                return false
                            } catch is WatcherLockLost {
                                watcher.watcher.stop()  // ends its stream: the watcher's task returns
                                return true
                            }
                        }
                        // The watcher returns at shutdown; keepLock reports a lock that went to another process
                        // (and stops the watcher, which may return first).
                        var lost = try await group.next() ?? false
                        group.cancelAll()
                        while let next = try await group.next() { lost = lost || next }
                        return lost
                    }
                } catch {
                    lock.release()
                    throw error
                }
                lock.release()
                guard lost else { return }
                // A database restart dropped this process's session and a standby took the lock first: it watches
                // now, this process stands by (until session 27 it stopped, and with it every role it ran).
                logger.notice("watcher lock taken by another process; this watcher stands by again")
                announced = true
                continue
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
        }
    }
}
