// Errors that may pass if the same call is tried again soon: a database connection lost to a restart.
/// An error of a backend that knows whether trying again may help (PostgreSQL's lost connection: yes; a full disk
/// or a refused statement: no). The runtime retries an outcome's write after such an error for a while rather
/// than leaving the invocation to its lease.
public protocol TransientFailure: Error {
    /// Whether the same call may succeed if tried again in a moment.
    var mayPassIfRetried: Bool { get }
}

/// Telling a passing outage from a failure, for any error.
public enum TransientFailures {
    /// Whether `error` may pass if the same call is tried again in a moment (a database restarting, a cut network):
    /// an outage its own component reports once, not a failure of the call.
    public static func mayPass(_ error: any Error) -> Bool {
        (error as? any TransientFailure)?.mayPassIfRetried ?? false
    }
}
