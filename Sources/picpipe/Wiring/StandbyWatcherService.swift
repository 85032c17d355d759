// The watcher on a shared database: one active per upload folder, the others hot standbys polling its lock.
import Foundation
import Logging
import PipelineCore
import PostgresBackend
import ServiceLifecycle

/// Runs the upload watcher while this process holds the folder's advisory lock; until then it tries every
/// `pollInterval` (a standby takes over within about a second of the active watcher's death, when the server
/// drops its session and lock).
struct StandbyWatcherService: Service {
    let watcher: UploadWatcherService
    let lock: AdvisoryLock
    let logger: Logger
    var pollInterval: Duration = .seconds(1)

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
                defer { lock.release() }
                try await watcher.run()
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
