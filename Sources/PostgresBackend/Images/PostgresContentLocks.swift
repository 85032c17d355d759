// Content locks shared by every API process on one PostgreSQL database: a session-level advisory lock per content,
// so a PUT in one process never sees a DELETE in another half done (see `ContentLocks`).
import FetchService
import Foundation
import PipelineCore
import PostgresNIO

/// `ContentLocks` across processes: this process's holders take turns first (`LocalContentLocks`), then the one
/// that goes takes the content's advisory lock on a session of its own, released when `body` is done (or by the
/// server, the moment the session or the process dies).
public final class PostgresContentLocks: ContentLocks {
    /// The advisory locks' first key: the contents' namespace. A single-key lock (`hashtext(name)`: the migration,
    /// watcher and claim locks) never has this high half, so none of them can collide with a content's.
    static let namespace: Int64 = 0x7069_6370  // "picp"
    /// Holders at once (a session each, holding one or two contents); more wait in this process, never on the
    /// pool's permits.
    static let sessions = 4
    /// How long a holder waits for another process to let go (a content's lock is held for milliseconds).
    static let patience: Duration = .seconds(30)

    private let local = LocalContentLocks(limit: PostgresContentLocks.sessions)
    private let pool: PostgresConnectionPool

    /// - Parameter pool: the database (the locks' sessions are a pool of their own beside it).
    public init(pool: PostgresConnectionPool) throws {
        self.pool = try pool.sibling(maxConnections: Self.sessions, settings: [])
    }

    public func withLocks<T: Sendable>(on hashes: [ContentHash], _ body: () async throws -> T) async throws -> T {
        let ordered = Set(hashes).sorted()
        return try await local.withLocks(on: ordered) {
            try await pool.withSession { session in
                var taken: [ContentHash] = []
                defer {
                    for hash in taken.reversed() {
                        _ = try? session.run(
                            "SELECT pg_advisory_unlock($1::integer, hashtext($2))",
                            [.integer(Self.namespace), .text(hash.hex)])
                    }
                }
                // In the contents' order in every process too, so two holders never wait on each other.
                for hash in ordered {
                    try await Self.take(hash, on: session)
                    taken.append(hash)
                }
                return try await body()
            }
        }
    }

    /// Takes the content's lock, polling without blocking a thread while another process holds it.
    private static func take(_ hash: ContentHash, on session: PostgresConnection) async throws {
        let deadline = ContinuousClock.now.advanced(by: patience)
        var pause = Duration.milliseconds(1)
        while true {
            let taken =
                try session.run(
                    "SELECT pg_try_advisory_lock($1::integer, hashtext($2)) AS taken",
                    [.integer(namespace), .text(hash.hex)]
                ).first?.value("taken", as: Bool.self) ?? false
            if taken { return }
            guard ContinuousClock.now < deadline else {
                throw DatabaseError.lockBusy(name: "the picture \(hash.hex)", waited: 30)
            }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(20))
        }
    }
}
