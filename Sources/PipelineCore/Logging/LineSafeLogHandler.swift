// A log handler that keeps each entry on its line: the message and the metadata are escaped (`LogText`) before the
// handler it wraps writes them, so a file named "a.jpg\n…error…" cannot write a line of its own into serve's log.
import Logging

/// Wraps a handler (serve's `StreamLogHandler`), escaping control characters in what it is given.
public struct LineSafeLogHandler: LogHandler {
    private var upstream: any LogHandler

    /// - Parameter upstream: the handler that writes the lines.
    public init(_ upstream: any LogHandler) {
        self.upstream = upstream
    }

    public var logLevel: Logger.Level {
        get { upstream.logLevel }
        set { upstream.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { upstream.metadata }
        set { upstream.metadata = LogText.escaped(newValue) }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { upstream.metadataProvider }
        set { upstream.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { upstream[metadataKey: key] }
        set { upstream[metadataKey: key] = newValue.map(LogText.escaped) }
    }

    public func log(event: LogEvent) {
        var event = event
        let message = event.message.description
        let safe = LogText.escaped(message)
        if safe != message { event.message = Logger.Message(stringLiteral: safe) }
        event.metadata = event.metadata.map(LogText.escaped)
        upstream.log(event: event)
    }
}
