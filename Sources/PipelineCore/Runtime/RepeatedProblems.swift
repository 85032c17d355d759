// Logging a problem that every poll meets again (a full disk, a journal that cannot be read) once, not ten
// times a second, and saying when it is over.
import Locking
import Logging

/// Per source (a function's workers), the problem being reported, so it is logged when it starts, again at most
/// once a minute while it lasts, and once when it ends.
final class RepeatedProblems: Sendable {
    private struct Entry {
        var message: String
        var loggedAt: ContinuousClock.Instant
        var repeats: Int
        /// Not logged (an outage its own component logs): nor is its end.
        var quiet = false
    }

    private let entries = Locked<[String: Entry]>([:])
    private let logger = Logger(label: "picpipe.runtime")
    /// How often a lasting problem is logged again.
    let interval: Duration

    init(interval: Duration = .seconds(60)) { self.interval = interval }

    /// Reports the problem `source` met; logs it when it is new, changed, or last logged `interval` ago.
    func report(_ source: String, error: any Error, logger: Logger) {
        let message = "\(error)"
        let now = ContinuousClock.now
        let repeats: Int? = entries.withLock { entries in
            if var entry = entries[source], entry.message == message, now - entry.loggedAt < interval {
                entry.repeats += 1
                entries[source] = entry
                return nil
            }
            let repeats = entries[source]?.repeats ?? 0
            entries[source] = Entry(message: message, loggedAt: now, repeats: 0)
            return repeats
        }
        guard let repeats else { return }
        // A database out of reach is logged once by its connection pool (and its return): not again per function.
        if TransientFailures.mayPass(error) {
            entries.withLock { $0[source]?.quiet = true }
            return
        }
        logger.error(
            "journal read failed; retrying",
            metadata: ["function": "\(source)", "error": "\(message)", "repeats_since_last_log": "\(repeats)"])
    }

    /// The source works again: logs that once if a problem was reported.
    func clear(_ source: String) {
        let ended = entries.withLock { $0.removeValue(forKey: source) }
        if let ended, !ended.quiet { logger.notice("journal reads work again", metadata: ["function": "\(source)"]) }
    }
}
