// What one invocation logs, kept for its caller: Lambda's `X-Amz-Log-Type: Tail` returns a function's own lines.
import Foundation
import Locking
import Logging

/// The lines a function logs during one invocation, in Lambda's form (`TIME\tREQUEST-ID\tLEVEL\tmessage`), the
/// newest `limit` bytes. One per invocation, made by the caller that wants them and handed to
/// `FunctionRuntime.invoke`: its lock is that invocation's alone, never shared with other invocations.
public final class InvocationLog: Sendable {
    /// The request id its lines carry.
    public let requestID: String
    /// The most bytes kept (Lambda's tail is 4 KB).
    public let limit: Int
    private let buffer = Locked<[UInt8]>([])

    /// - Parameters:
    ///   - requestID: the id each line names (the Lambda API's `x-amzn-RequestId`).
    ///   - limit: the bytes kept, newest last.
    public init(requestID: String, limit: Int = 4096) {
        self.requestID = requestID
        self.limit = limit
    }

    /// Adds a line.
    public func append(level: Logger.Level, message: String, metadata: Logger.Metadata?, time: Date = Date()) {
        // Escaped: a tab or line break in a file name would break the tail's columns or forge a line.
        var line = "\(Self.timestamp(time))\t\(requestID)\t\(Self.name(level))\t\(LogText.escaped(message))"
        if let metadata, !metadata.isEmpty {
            line +=
                " "
                + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\(LogText.escaped($0.value.description))" }
                .joined(separator: " ")
        }
        line += "\n"
        let limit = self.limit
        buffer.withLock { bytes in
            bytes.append(contentsOf: line.utf8)
            // Trim now and then, not at every line: the tail is cut to `limit` when read.
            if bytes.count > 2 * limit { bytes.removeFirst(bytes.count - limit) }
        }
    }

    /// The lines so far, the newest `limit` bytes (cut at a line start when possible).
    public var text: String {
        let bytes = buffer.withLock { $0 }
        guard bytes.count > limit else { return String(decoding: bytes, as: UTF8.self) }
        var tail = bytes.suffix(limit)
        if let newline = tail.firstIndex(of: 0x0A), newline < tail.endIndex - 1 { tail = tail[(newline + 1)...] }
        return String(decoding: tail, as: UTF8.self)
    }

    /// Lambda's level names.
    static func name(_ level: Logger.Level) -> String {
        switch level {
        case .trace: return "TRACE"
        case .debug: return "DEBUG"
        case .info, .notice: return "INFO"
        case .warning: return "WARN"
        case .error: return "ERROR"
        case .critical: return "FATAL"
        }
    }

    /// Lambda's timestamp form: `2026-12-02T07:01:02.345Z`.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(
            Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(secondsFromGMT: 0)!))
    }

    /// A logger that writes to `upstream`'s handler as before and also keeps, here, every line at `info` or
    /// above (whatever the process's log level: the caller asked for the function's output).
    public func capturing(_ upstream: Logger) -> Logger {
        var logger = upstream
        logger.handler = ObservingLogHandler(upstream: upstream.handler, level: .info) { [self] event in
            append(level: event.level, message: event.message.description, metadata: event.metadata)
        }
        return logger
    }
}
