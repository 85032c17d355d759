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
        logger.handler = ErrorNoticingLogHandler(upstream: upstream.handler, errors: self)
        return logger
    }

    fileprivate func note() { seen.store(true, ordering: .relaxed) }

    /// The level of the runtime's own line about a failure: `warning` when the function logged its error.
    var levelOfTheRuntimeLine: Logger.Level { any ? .warning : .error }
}

/// Forwards everything to the process's handler and notes error lines.
private struct ErrorNoticingLogHandler: LogHandler {
    var upstream: any LogHandler
    let errors: LoggedErrors

    var logLevel: Logger.Level {
        get { upstream.logLevel }
        set { upstream.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { upstream.metadata }
        set { upstream.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { upstream.metadataProvider }
        set { upstream.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { upstream[metadataKey: key] }
        set { upstream[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        if event.level >= .error { errors.note() }
        upstream.log(event: event)
    }
}
