// An attempt that ended without an outcome: its process stopped (a crash, kill -9, out of memory, power loss).

/// What the journals and the runtime do with an attempt whose process stopped before it recorded an outcome.
///
/// Such an attempt counts, as Lambda counts a runtime that exits (`Runtime.ExitError`): the invocation goes back
/// to the queue with its attempt kept, and once more attempts were taken than the function's retries allow, the
/// next claim dead-letters it without running it. Otherwise a picture that crashes its worker would crash every
/// worker that takes it, for ever (until session 28 a crash recovery took the attempt back).
public enum RecoveredAttempt {
    /// The invocation's `error` while it waits again.
    public static let stoppedError =
        "the process running the last attempt stopped before it finished (a crash, kill -9, out of memory or power loss)"

    /// Whether `claim` is past its function's attempts (1 + `maxRetries`): only attempts that ended without an
    /// outcome get an invocation there, since a recorded failure past the last retry dead-letters it at once.
    public static func isOutOfAttempts(_ claim: ClaimedInvocation, maxRetries: Int) -> Bool {
        claim.attempt > maxRetries + 1
    }

    /// The dead letter's reason for such a claim.
    public static func reason(_ claim: ClaimedInvocation) -> String {
        let stopped = claim.attempt - 1
        let what = stopped == 1 ? "1 attempt ended" : "\(stopped) attempts ended"
        return "\(what) without an outcome: the process running it stopped before it finished "
            + "(a crash, kill -9, out of memory or power loss); not run again (replay it once the cause is found)"
    }
}
