// A session-level PostgreSQL advisory lock on a connection of its own: held while the process (and its
// connection) lives, released by the server the moment either dies. No file lock, so it works across machines.
import Foundation
import Locking
import PostgresNIO

/// One named lock; `tryAcquire` never waits, so a standby polls it.
public final class AdvisoryLock: Sendable {
    private let pool: PostgresConnectionPool
    /// The lock's name (hashed into the key).
    public let name: String
    private let held = Locked<PostgresConnection?>(nil)

    /// - Parameters:
    ///   - pool: where to connect (the lock's connection is its own, outside the pool).
    ///   - name: what is locked, e.g. `picpipe.watcher:/srv/store/uploads`.
    public init(pool: PostgresConnectionPool, name: String) {
        self.pool = pool
        self.name = name
    }

    /// Takes the lock if nobody holds it. - Returns: whether this process holds it now.
    public func tryAcquire() throws -> Bool {
        if let connection = held.withLock({ $0 }), !connection.isClosed { return true }
        let connection = try pool.connect()
        let taken =
            try connection.run("SELECT pg_try_advisory_lock(hashtext($1)) AS taken", [.text(name)]).first?.value(
                "taken", as: Bool.self) ?? false
        if taken {
            held.withLock { $0 = connection }
        } else {
            let closed: EventLoopFuture<Void> = connection.close()
            closed.whenComplete { _ in _ = connection }
        }
        return taken
    }

    /// Whether the lock's connection is still open (the server drops the lock when it closes).
    public var isHeld: Bool { held.withLock { $0.map { !$0.isClosed } ?? false } }

    /// Releases the lock (closing its connection releases it too).
    public func release() {
        guard let connection = held.withLock({ value -> PostgresConnection? in
            defer { value = nil }
            return value
        }) else { return }
        // Closing the session releases the lock; the connection stays referenced until it is closed.
        guard !connection.isClosed else { return }
        let closed: EventLoopFuture<Void> = connection.close()
        closed.whenComplete { _ in _ = connection }
    }

    deinit { release() }
}
