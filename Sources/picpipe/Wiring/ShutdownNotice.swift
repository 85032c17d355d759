// The line serve logs when SIGTERM or SIGINT arrives, so a log reader sees when the shutdown grace began (until
// session 33 the only line was "stopped", at the end).
import Logging
import ServiceLifecycle

/// Logs "stopping" at the signal, with the grace in-flight work has; stopped first (added last to the group).
struct ShutdownNotice: Service {
    let logger: Logger
    /// `runtime.shutdown_grace`, in seconds.
    let grace: Double

    func run() async throws {
        // Returns at the graceful shutdown; a cancelled group (a failed service) throws and logs nothing here.
        try await gracefulShutdown()
        logger.notice("stopping: finishing the work in flight", metadata: ["shutdown_grace_s": "\(grace)"])
    }
}
