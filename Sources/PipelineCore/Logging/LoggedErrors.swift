// Whether a function said in its own log what went wrong: the runtime's line about the same failure then goes
// below error, so one refused picture is one error line (until session 30 it was two).
import Logging
import Synchronization

/// Notes whether a logger it watches logged a line at `error` or above.
final class LoggedErrors: Sendable {
    private let seen = Atomic<Bool>(false)

    /// Whether an error line was logged so far.
    var any: Bool { seen.load(ordering: .relaxed) }

    /// `upstream`, logging as before, with its error lines noted here.
    func watching(_ upstream: Logger) -> Logger {
        var logger = upstream
        logger.handler = ObservingLogHandler(upstream: upstream.handler, level: .error) { [self] _ in note() }
        return logger
    }

    private func note() { seen.store(true, ordering: .relaxed) }

    /// The level of the runtime's own line about a failure: `warning` when the function logged its error.
    var levelOfTheRuntimeLine: Logger.Level { any ? .warning : .error }
}
