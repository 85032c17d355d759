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
                } catch {
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
