// The line serve logs when SIGTERM or SIGINT arrives, so a log reader sees when the shutdown grace began (until
// session 33 the only line was "stopped", at the end).
import FetchService
import Logging
import ServiceLifecycle

/// Logs "stopping" at the signal, with the grace in-flight work has; stopped first (added last to the group).
/// Starts the HTTP listeners' shutdown grace there too (`ShutdownDeadline`): the bodies they still read when it ends are
/// cut.
struct ShutdownNotice: Service {
    let logger: Logger
    /// `runtime.shutdown_grace`, counted from the signal.
    let deadline: ShutdownDeadline

    func run() async throws {
        // Returns at the graceful shutdown; a cancelled group (a failed service) throws and logs nothing here.
        try await gracefulShutdown()
        deadline.begin()
        logger.notice("stopping: finishing the work in flight", metadata: ["shutdown_grace_s": "\(deadline.grace)"])
    }
}
