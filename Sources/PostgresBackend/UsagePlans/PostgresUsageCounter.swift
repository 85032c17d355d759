// Usage-plan counts in the shared database, so several `serve --roles api` processes enforce one limit: each
// request is one atomic INSERT … ON CONFLICT DO UPDATE on the caller's row (refill, check the quota and the
// bucket, take a token and count the request), which PostgreSQL serialises on that row alone.
import FetchService
import Foundation
import Logging
import NIOCore
import NIOPosix
import PipelineCore
import PostgresNIO
import Synchronization

/// A `UsageCounter` over PostgreSQL (schema `picpipe_usage`). Requests go over a few connections of its own,
/// asynchronously (no thread waits on the network), opened on first use and again after one breaks.
public final class PostgresUsageCounter: UsageCounter {
    private let lanes: [ConnectionLane]
    private let next = Atomic<UInt>(0)

    /// The schema and its migrations.
    static let migrator = SchemaMigrator(
        schema: "picpipe_usage",
        migrations: [
            .init(
                "v1: one token bucket and daily count per caller",
                [
                    """
                    CREATE TABLE picpipe_usage.buckets (
                        subject TEXT PRIMARY KEY,
                        tokens DOUBLE PRECISION NOT NULL,
                        updated DOUBLE PRECISION NOT NULL,
                        day BIGINT NOT NULL,
                        used BIGINT NOT NULL,
                        admitted BOOLEAN NOT NULL)
                    """
                ])
        ])

    /// Creates the schema if needed (through `pool`, once, at start) and opens nothing else yet.
    /// - Parameters:
    ///   - pool: the process's pool, for the migration.
    ///   - connections: the connections requests are spread over.
    public init(pool: PostgresConnectionPool, connections: Int = 4, logger: Logger = Logger(label: "picpipe.usage"))
        throws
    {
        try Self.migrator.migrate(pool)
        // The migration connected: its way is the one that works (for `sslmode=allow`, plain or encrypted).
        let configuration = pool.connectionConfiguration
        lanes = (0..<max(1, connections)).map {
            ConnectionLane(configuration: configuration, url: pool.url.description, id: $0, logger: logger)
        }
    }

    /// The statement: `$1` subject, `$2` bucket size, `$3` rate, `$4` daily quota, `$5` now (seconds since 1970),
    /// `$6` today (days since 1970), `$7` the tokens a new caller is left with after its first request. The SET
    /// expressions read the row as it was, so refill, checks and take are one step under the row's lock.
    static let take: String = {
        let refilled = "(CASE WHEN $3 > 0 THEN LEAST($2, b.tokens + GREATEST(0, $5 - b.updated) * $3) ELSE $2 END)"
        let usedToday = "(CASE WHEN b.day = $6 THEN b.used ELSE 0 END)"
        let admitted = "(NOT ($4 > 0 AND \(usedToday) >= $4) AND NOT ($3 > 0 AND \(refilled) < 1))"
        return """
            INSERT INTO picpipe_usage.buckets AS b (subject, tokens, updated, day, used, admitted)
            VALUES ($1, $7, $5, $6, 1, TRUE)
            ON CONFLICT (subject) DO UPDATE SET
                tokens = \(refilled) - CASE WHEN \(admitted) AND $3 > 0 THEN 1 ELSE 0 END,
                updated = GREATEST(b.updated, $5),
                day = $6,
                used = \(usedToday) + CASE WHEN \(admitted) THEN 1 ELSE 0 END,
                admitted = \(admitted)
            RETURNING tokens, used, admitted
            """
    }()

    public func take(subject: String, plan: UsagePlan, now: Date) async throws -> UsageDecision {
        let size = plan.bucketSize
        let today = Int64((now.timeIntervalSince1970 / 86_400).rounded(.down))
        var binds = PostgresBindings(capacity: 7)
        binds.append(subject)
        binds.append(size)
        binds.append(plan.rate)
        binds.append(Int64(plan.dailyQuota))
        binds.append(now.timeIntervalSince1970)
        binds.append(today)
        binds.append(plan.rate > 0 ? size - 1 : size)
        let lane = lanes[Int(next.wrappingAdd(1, ordering: .relaxed).oldValue % UInt(lanes.count))]
        let rows = try await lane.query(PostgresQuery(unsafeSQL: Self.take, binds: binds))
        guard let row = rows.first else {
            throw DatabaseError.statementFailed(sql: "take usage", reason: "no row returned for \(subject)")
        }
        let (tokens, used, admitted) = try row.decode((Double, Int64, Bool).self)
        let state = UsageState(tokens: tokens, updated: now, day: Int(today), used: Int(used))
        return state.decision(admitted: admitted, plan: plan, now: now)
    }
}

/// One connection, opened when first needed and again after it closes; queries on it are queued by PostgresNIO.
private actor ConnectionLane {
    private let configuration: PostgresConnection.Configuration
    private let url: String
    private let id: Int
    private let logger: Logger
    private var connection: PostgresConnection?
    private var connecting: Task<PostgresConnection, any Error>?

    init(configuration: PostgresConnection.Configuration, url: String, id: Int, logger: Logger) {
        self.configuration = configuration
        self.url = url
        self.id = id
        self.logger = logger
    }

    deinit {
        // A connection must be closed before it goes; the close keeps it until it completes.
        guard let connection else { return }
        let closed: EventLoopFuture<Void> = connection.close()
        closed.whenComplete { _ in _ = connection }
    }

    /// Runs one statement and returns its rows.
    nonisolated func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        let connection = try await open()
        do {
            var rows: [PostgresRow] = []
            for try await row in try await connection.query(query, logger: logger) { rows.append(row) }
            return rows
        } catch {
            throw DatabaseError.statementFailed(sql: "take usage", reason: PostgresConnectionPool.reason(error))
        }
    }

    private func open() async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        if let connecting { return try await connecting.value }
        let (configuration, id, logger) = (self.configuration, self.id, self.logger)
        let task = Task {
            try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: id, logger: logger)
        }
        connecting = task
        defer { connecting = nil }
        do {
            let opened = try await task.value
            connection = opened
            return opened
        } catch {
            throw DatabaseError.unreachable(url: url, reason: PostgresConnectionPool.reason(error))
        }
    }
}
