// A process's heartbeat in the journal: proof of life for its claims, and the renewal of their leases.
import Foundation
import Locking
import Logging

/// Beats every `interval` on a thread of its own (a blocked cooperative pool must not stop it): updates the
/// process's `beat_at` and renews the lease of every invocation it is still running (not those whose outcome it
/// failed to write: their lease runs out and another worker takes them).
final class Heartbeat: Sendable {
    private let stopped = Locked(false)
    private let wakeUp = DispatchSemaphore(value: 0)
    /// Signalled once the thread has left its loop: `stop` waits for it, so no beat lands after `stop` returns (a
    /// late beat would bring a process row back that `abandon` just deleted, and its claims would look alive).
    private let finished = DispatchSemaphore(value: 0)
    /// Since when every beat has landed: nil after a failed beat, until the next one lands. A process that has just
    /// regained the database must not judge others by their beats yet (see `hasBeatenSteadily(for:)`). A new
    /// process has seen no outage: it may take back a dead process's work at once.
    private let steadySince = Locked<Date?>(.distantPast)

    /// - Parameter liveClaims: the invocations this process is running now; only their leases are renewed.
    init(
        pool: PostgresConnectionPool, owner: String, interval: TimeInterval,
        liveClaims: @escaping @Sendable () -> [Int64], logger: Logger
    ) {
        let thread = Thread { [self] in
            while !stopped.withLock({ $0 }) {
                do {
                    try pool.transaction { connection in
                        try connection.run(
                            """
                            INSERT INTO picpipe_journal.processes (owner, host, pid, started_at, beat_at)
                            VALUES ($1, '', 0, extract(epoch FROM clock_timestamp()), extract(epoch FROM clock_timestamp()))
                            ON CONFLICT (owner) DO UPDATE SET beat_at = excluded.beat_at
                            """, [.text(owner)])
                        let live = liveClaims()
                        guard !live.isEmpty else { return }
                        try connection.run(
                            """
                            UPDATE picpipe_journal.invocations
                            SET lease_until = GREATEST(lease_until, extract(epoch FROM clock_timestamp()) + lease_seconds)
                            WHERE owner = $1 AND state = 'running' AND lease_seconds IS NOT NULL
                                AND id = ANY(string_to_array($2, ',')::bigint[])
                            """, [.text(owner), .text(live.map(String.init).joined(separator: ","))])
                    }
                    steadySince.withLock { since in
                        if since == nil { since = Date() }
                    }
                } catch {
                    steadySince.withLock { $0 = nil }
                    // The pool logs a lost database once; the next beat tries again.
                    logger.debug("heartbeat failed", metadata: ["error": "\(error)"])
                }
                _ = wakeUp.wait(timeout: .now() + interval)
            }
            finished.signal()
        }
        thread.name = "picpipe-heartbeat"
        thread.start()
    }

    /// Whether every beat of the last `interval` landed. After an outage of the database (a restart, a cut
    /// network) every process's last beat is old, this one's too, until each beats again (within one heartbeat
    /// interval of the database's return): only a process that has beaten steadily for as long as a silent process
    /// takes to count as dead may judge the others.
    func hasBeatenSteadily(for interval: TimeInterval) -> Bool {
        steadySince.withLock { since in since.map { Date().timeIntervalSince($0) >= interval } ?? false }
    }

    /// What a failed beat records; for tests that stand in for an outage without stopping the database.
    func recordMissedBeat() { steadySince.withLock { $0 = nil } }

    /// Stops beating and waits for the beat in flight to end (at most `stopWait`: a beat stuck on a lost
    /// database must not hold up a shutdown).
    func stop() {
        let first = stopped.withLock { wasStopped in
            defer { wasStopped = true }
            return !wasStopped
        }
        guard first else { return }
        wakeUp.signal()
        _ = finished.wait(timeout: .now() + Self.stopWait)
    }

    static let stopWait: TimeInterval = 15
}
