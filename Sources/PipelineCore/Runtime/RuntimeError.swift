// Errors of the runtime itself (as opposed to a function's own failures).

/// Why the runtime refused an invocation.
public enum RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No function has that name.
    case unknownFunction(String, known: [String])
    /// The payload is not an S3 event or record.
    case invalidPayload(String)
    /// The payload is over Lambda's limit for its invocation type (`EventPayload.maxBytes(for:)`): the Lambda
    /// API's `RequestEntityTooLargeException`.
    case payloadTooLarge(what: String, limit: Int)
    /// The runtime is shutting down.
    case stopping
    /// Shutting down, the invocation ran past `runtime.shutdown_grace` and was cancelled (it goes back to the queue).
    case shutdownGraceExpired(seconds: Double)
    /// A synchronous call still running when the shutdown grace ended: cancelled, and not run again (its caller
    /// gets this error and may call again).
    case callCutAtShutdown(seconds: Double)
    /// Every slot of the function's reserved concurrency is taken by running invocations (a refusing synchronous
    /// call: the Lambda API's TooManyRequestsException).
    case throttled(function: String, concurrency: Int)

    public var description: String {
        switch self {
        case .unknownFunction(let name, let known):
            return "no function named '\(name)' (functions: \(known.joined(separator: ", ")))"
        case .invalidPayload(let reason): return "invalid payload: \(reason)"
        case .payloadTooLarge(let what, let limit):
            let which =
                limit == EventPayload.maxEventBytes
                ? "an Event invocation's payload (RequestResponse takes \(EventPayload.maxBytes))"
                : "an invocation's payload"
            return "\(what) is over \(limit) bytes, Lambda's limit for \(which)"
        case .stopping: return "the runtime is shutting down and takes no new work"
        case .shutdownGraceExpired(let seconds):
            return "cancelled at shutdown after runtime.shutdown_grace (\(seconds) s); it runs again at the next start"
        case .callCutAtShutdown(let seconds):
            return "cancelled: serve is shutting down and runtime.shutdown_grace (\(seconds) s) is over; call again "
                + "once it runs"
        case .throttled(let function, let concurrency):
            return "\(function) is running \(concurrency) invocation(s), its limit "
                + "(functions.\(function).reserved_concurrency, else .concurrency); try again later"
        }
    }
}
