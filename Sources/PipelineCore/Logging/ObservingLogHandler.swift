// A log handler in front of another: everything goes on to it as before, and what is at or above a level is also
// shown to an observer (an invocation's tail for Lambda's `Tail`; the runtime noting a function's own error line).
import Logging

/// Forwards to the process's handler what its level lets through and shows `observe` every event at `level` or
/// above, whatever the process's level says.
struct ObservingLogHandler: LogHandler {
    var upstream: any LogHandler
    /// The least level `observe` is shown.
    let level: Logger.Level
    let observe: @Sendable (LogEvent) -> Void

    /// The level the Logger checks before calling: the finer of the upstream's and `level`.
    var logLevel: Logger.Level {
        get { min(upstream.logLevel, level) }
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
        if event.level >= level { observe(event) }
        if event.level >= upstream.logLevel { upstream.log(event: event) }
    }
}
