// A small blocking pool of PostgreSQL connections for the synchronous protocols (InvocationJournal, MetadataStore,
// ImageIndex): callers wait on a future of the pool's own event loop, never on the cooperative thread pool.
import Foundation
import Locking
import Logging
import NIOPosix
import PostgresNIO
import Synchronization

/// A value bound to a statement's `$n` placeholder.
public enum SQLValue: Sendable {
    case text(String?)
    case integer(Int64?)
    case real(Double?)
    case bool(Bool?)
    case texts([String])
    case integers([Int64])

    /// A non-optional integer.
    static func int(_ value: Int?) -> SQLValue { .integer(value.map(Int64.init)) }
}

/// Connections to one database, opened on demand up to `maxConnections`, reused, and dropped when they fail.
///
/// The protocols it serves are synchronous (SQLite answers in-process), so a call blocks its thread until the
/// server answers, as a SQLite call blocks on its file. The connections run on the pool's own event loop thread,
/// and `PostgresClient`'s pool is not used because its background `run()` would need the cooperative pool that
/// blocked callers may be occupying; here no blocked caller waits on anything but that event loop.
public final class PostgresConnectionPool: Sendable {
    /// The database, password redacted when printed.
    public let url: DatabaseURL
    /// The ways to connect, in order (two for `sslmode=allow`: plain, then TLS when the server refuses plain).
    private let configurations: [PostgresConnection.Configuration]
    /// The index into `configurations` that last connected: tried first.
    private let lastConnected = Atomic<Int>(0)
    private let group: MultiThreadedEventLoopGroup
    /// Idle connections, each with the connection epoch it was opened in (see `ConnectionProblems`).
    private let idle = Locked<[(PostgresConnection, Int)]>([])
    private let permits: DispatchSemaphore
    private let nextID = Atomic<Int>(1)
    private let logger: Logger
    private let problems: ConnectionProblems
    /// How long a caller waits for a free connection.
    let acquireTimeout: Double = 60

    /// Opens nothing yet: the first statement connects.
    /// - Parameters:
    ///   - url: the database.
    ///   - maxConnections: the most connections open at once.
    ///   - settings: server settings for this pool's sessions (startup parameters, e.g. `synchronous_commit`).
    public convenience init(
        url: DatabaseURL, maxConnections: Int = 8, settings: [(String, String)] = [],
        logger: Logger = Logger(label: "picpipe.database")
    ) throws {
        try self.init(
            url: url, maxConnections: maxConnections, settings: settings, logger: logger,
            problems: ConnectionProblems())
    }

    private init(
        url: DatabaseURL, maxConnections: Int, settings: [(String, String)], logger: Logger,
        problems: ConnectionProblems
    ) throws {
        self.url = url
        configurations = try url.connectionConfigurations().map { configuration in
            var configuration = configuration
            configuration.options.additionalStartupParameters += [("application_name", Self.applicationName)] + settings
            return configuration
        }
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.permits = DispatchSemaphore(value: max(1, maxConnections))
        self.logger = logger
        self.problems = problems
    }

    /// What `pg_stat_activity` shows for this process's sessions: `picpipe serve 4242` (the command and the pid),
    /// so an operator tells the processes of a scaled-out installation apart (until session 33 the column was empty).
    static let applicationName: String = {
        let arguments = ProcessInfo.processInfo.arguments
        let command = arguments.dropFirst().first { !$0.hasPrefix("-") } ?? ""
        let name = "picpipe \(command.prefix(20)) \(getpid())"
        // PostgreSQL keeps 63 bytes of printable ASCII.
        return String(name.unicodeScalars.filter { $0.isASCII && $0.value >= 32 && $0.value < 127 }.prefix(63))
    }()

    /// A second pool to the same database whose sessions use other settings; a lost database is still logged once
    /// for both.
    public func sibling(maxConnections: Int, settings: [(String, String)]) throws -> PostgresConnectionPool {
        try PostgresConnectionPool(
            url: url, maxConnections: maxConnections, settings: settings, logger: logger, problems: problems)
    }

    deinit {
        // A connection must be closed before it goes: each close keeps its connection until it completes, and
        // the event loop stops after the last one.
        let group = self.group
        let closes = idle.withLock { $0 }.map { connection, _ in
            let closed: EventLoopFuture<Void> = connection.close()
            return closed.always { _ in _ = connection }
        }
        EventLoopFuture.andAllComplete(closes, on: group.next()).whenComplete { _ in
            group.shutdownGracefully { _ in }
        }
    }

    /// Opens a connection outside the pool (a listener, a lock holder that must keep its session).
    func connect() throws -> PostgresConnection {
        try connectCounted().connection
    }

    /// Opens a connection; returns it with the epoch it belongs to.
    private func connectCounted() throws -> (connection: PostgresConnection, epoch: Int) {
        let epoch = problems.epoch
        do {
            let connection = try connectAnyWay()
            return (connection, problems.recovered(logger: logger, url: url))
        } catch {
            let failure = DatabaseError.unreachable(url: url.description, reason: Self.reason(error))
            problems.failed(failure, epoch: epoch, logger: logger)
            throw failure
        }
    }

    /// Connects the way that last worked; a server that refuses it (an error it sent, not a lost network) is
    /// asked the other way (`sslmode=allow`: plain, then encrypted). Refused both ways, the encrypted way's
    /// reason is thrown (the plain one only says "no encryption").
    private func connectAnyWay() throws -> PostgresConnection {
        let first = lastConnected.load(ordering: .relaxed)
        var refusals: [Int: any Error] = [:]
        for index in [first] + configurations.indices.filter({ $0 != first }) {
            do {
                // Not `wait()`: a caller on an event loop (the thumbnail shortcut's index lookup) would trap.
                let connection = try PostgresConnection.wait(
                    for: PostgresConnection.connect(
                        on: group.next(), configuration: configurations[index],
                        id: nextID.add(1, ordering: .relaxed).oldValue, logger: logger))
                lastConnected.store(index, ordering: .relaxed)
                return connection
            } catch let error as PSQLError where error.code == .server {
                refusals[index] = error
            }
        }
        throw refusals.max { $0.key < $1.key }?.value
            ?? DatabaseError.unreachable(url: url.description, reason: "no way to connect")
    }

    /// The settings of the way to connect that last worked (for connections kept outside the pool).
    public var connectionConfiguration: PostgresConnection.Configuration {
        configurations[lastConnected.load(ordering: .relaxed)]
    }

    /// Runs `body` with a connection of the pool (autocommit: each statement is its own transaction).
    public func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let (connection, epoch) = try checkOut()
        defer { permits.signal() }
        do {
            let value = try body(connection)
            idle.withLock { $0.append((connection, epoch)) }
            return value
        } catch {
            checkIn(connection, epoch: epoch, after: error)
            throw naming(error)
        }
    }

    /// A connection's `unreachable` (which knows no URL) with this pool's URL.
    private func naming(_ error: any Error) -> any Error {
        guard case DatabaseError.unreachable("", let reason) = error else { return error }
        return DatabaseError.unreachable(url: url.description, reason: reason)
    }

    /// Runs an async `body` with one connection of the pool kept for its whole run: a session-level advisory lock
    /// is taken and released on the same session. The connection's permit is held meanwhile, so a pool for such
    /// sessions should be its own (`sibling`), sized for them.
    public func withSession<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let (connection, epoch) = try checkOut()
        defer { permits.signal() }
        do {
            let value = try await body(connection)
            idle.withLock { $0.append((connection, epoch)) }
            return value
        } catch {
            checkIn(connection, epoch: epoch, after: error)
            throw naming(error)
        }
    }

    /// Takes a permit and an idle connection (or opens one). The caller signals the permit when it is done.
    private func checkOut() throws -> (PostgresConnection, Int) {
        guard permits.wait(timeout: .now() + acquireTimeout) == .success else {
            throw DatabaseError.poolExhausted(url: url.description, waited: acquireTimeout)
        }
        let reused = idle.withLock { $0.popLast() }
        if let (open, openEpoch) = reused, !open.isClosed { return (open, openEpoch) }
        if let (_, closedEpoch) = reused {
            // The server ended the session (a restart, a cut connection): say so once, forget the others.
            problems.failed(
                DatabaseError.unreachable(url: url.description, reason: "the server closed the connection"),
                epoch: closedEpoch, logger: logger)
            dropIdle()
        }
        do {
            return try connectCounted()
        } catch {
            permits.signal()
            throw error
        }
    }

    /// Gives back a connection whose work failed.
    ///
    /// A statement error leaves the session usable; a broken connection is dropped and the next call opens a new
    /// one. The pool's other idle connections went with the same server (a restart ends every session), so they
    /// are dropped too rather than each failing a caller in turn.
    private func checkIn(_ connection: PostgresConnection, epoch: Int, after error: any Error) {
        // A session the server ended may not be marked closed yet: it is not given to the next caller either.
        var ended: String?
        if case DatabaseError.unreachable(_, let reason) = error { ended = reason }
        if ended != nil, !connection.isClosed {
            let closed: EventLoopFuture<Void> = connection.close()
            closed.whenComplete { _ in _ = connection }
        }
        if connection.isClosed || ended != nil {
            problems.failed(
                DatabaseError.unreachable(url: url.description, reason: ended ?? Self.reason(error)), epoch: epoch,
                logger: logger)
            dropIdle()
        } else {
            idle.withLock { $0.append((connection, epoch)) }
        }
    }

    /// Closes and forgets every idle connection.
    private func dropIdle() {
        let dropped = idle.withLock { idle -> [(PostgresConnection, Int)] in
            defer { idle.removeAll() }
            return idle
        }
        for (connection, _) in dropped {
            let closed: EventLoopFuture<Void> = connection.close()
            closed.whenComplete { _ in _ = connection }
        }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try withConnection { connection in
            try connection.run("BEGIN")
            do {
                let value = try body(connection)
                try connection.run("COMMIT")
                return value
            } catch {
                _ = try? connection.run("ROLLBACK")
                throw error
            }
        }
    }

    /// Runs one statement on a pooled connection and returns its rows.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue] = []) throws -> [PostgresRandomAccessRow] {
        try withConnection { try $0.run(sql, values) }
    }

    /// Runs one statement and returns how many rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ values: [SQLValue] = []) throws -> Int {
        try withConnection { try $0.execute(sql, values) }
    }

    /// A driver error as a sentence: the server's message when there is one.
    static func reason(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.description }
        if let error = error as? PSQLError {
            if let underlying = error.underlying, let tls = tlsReason(underlying) { return tls }
            if let message = error.serverInfo?[.message] {
                let code = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return message + code
            }
            let what = words(error.code)
            guard let underlying = error.underlying else { return what }
            return what + ": " + socketReason(underlying)
        }
        return socketReason(error)
    }

    /// A client error's code in words (its description is "Generic description to prevent accidental leakage").
    static func words(_ code: PSQLError.Code) -> String {
        switch code {
        case .serverClosedConnection: return "the server closed the connection"
        case .clientClosedConnection: return "the connection was closed"
        case .connectionError: return "the connection failed"
        case .uncleanShutdown: return "the connection broke off"
        case .poolClosed: return "the connection pool is closed"
        case .queryCancelled: return "the statement was cancelled"
        // Until session 37 these printed as the driver's names ("authMechanismRequiresPassword").
        case .authMechanismRequiresPassword:
            return "the server asks for a password and the URL gives none (postgres://USER:PASSWORD@HOST/DB)"
        case .unsupportedAuthMechanism:
            return "the server asks for an authentication method picpipe's driver does not support (use scram-sha-256, "
                + "md5, password or trust in pg_hba.conf)"
        case .saslError: return "the password exchange (SCRAM) failed: is the password right?"
        case .sslUnsupported: return "the server does not accept encrypted connections (sslmode=require asked for one)"
        default: return "\(code)"
        }
    }

    /// A socket's error as the system says it ("Connection refused"), not NIO's dump of it ("connection reset
    /// (error set): Connection refused) (errno: 111)"); a connect that failed for each address says the first
    /// address's reason, and a driver error its own words (until session 33 those two printed as
    /// "Connection errors: SingleConnectionFailure(target: …)" and "PSQLError – Generic description …").
    static func socketReason(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? NIOConnectionError {
            guard let first = error.connectionErrors.first else { return "\(error.host) could not be resolved" }
            return socketReason(first.error)
        }
        if error is PSQLError { return reason(error) }
        return "\(error)"
    }
}

extension PostgresConnectionPool {
    /// A refused server certificate in words a user can act on (TLS's own say "Couldn't find <none> in certificate"
    /// for an address, or an error number); nil for other failures.
    static func tlsReason(_ error: any Error) -> String? {
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            return "the server's certificate does not name the URL's host (sslmode=verify-full checks it: connect by "
                + "a name the certificate holds, or use sslmode=verify-ca)"
        }
        if case NIOSSLError.handshakeFailed(let inner) = error, "\(inner)".contains("CERTIFICATE_VERIFY_FAILED") {
            return "the server's certificate is not signed by an authority trusted here (give the authority's "
                + "certificate with sslrootcert=FILE; without it the system's are used)"
        }
        return nil
    }
}

extension PostgresConnection {
    /// Runs one statement (extended protocol, values bound as parameters) and returns all its rows.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue] = []) throws -> [PostgresRandomAccessRow] {
        try result(sql, values).rows.map { $0.makeRandomAccess() }
    }

    /// Runs one statement and returns how many rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ values: [SQLValue] = []) throws -> Int {
        try result(sql, values).metadata.rows ?? 0
    }

    private func result(_ sql: String, _ values: [SQLValue]) throws -> PostgresQueryResult {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .text(let text): bindings.append(text)
            case .integer(let number): bindings.append(number)
            case .real(let number): bindings.append(number)
            case .bool(let flag): bindings.append(flag)
            case .texts(let list): bindings.append(list)
            case .integers(let list): bindings.append(list)
            }
        }
        guard !isClosed else {
            throw DatabaseError.unreachable(url: "", reason: "the server closed the connection")
        }
        do {
            return try Self.wait(for: query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: Self.quiet))
        } catch let error as DatabaseError {
            let _: EventLoopFuture<Void> = close()
            throw error.mayPassIfRetried ? error : DatabaseError.statementFailed(sql: sql, reason: error.description)
        } catch let error as PSQLError where Self.endsSession(error) {
            // The server went away under the statement (a restart, a shutdown, a cut network): an outage a caller
            // answers with 503 and the pool reports once, not a failed statement (until session 31 a PUT or DELETE
            // cut off by a restart answered 500).
            throw DatabaseError.unreachable(url: "", reason: PostgresConnectionPool.reason(error))
        } catch {
            throw DatabaseError.statementFailed(sql: sql, reason: PostgresConnectionPool.reason(error))
        }
    }

    /// Whether a statement's error is its session's end: the connection closed or broke, or the server said it is
    /// shutting down or cannot take connections now (SQLSTATE class 08, 57P01-57P03).
    static func endsSession(_ error: PSQLError) -> Bool {
        if [.serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown, .poolClosed]
            .contains(error.code)
        {
            return true
        }
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
    }

    /// How long a statement may take before its connection counts as lost (a server that vanished without
    /// closing the socket would otherwise hold the caller for ever).
    static let statementTimeout: Double = 120

    /// Waits for a future on a thread that is not the event loop's, at most `statementTimeout`.
    static func wait<T: Sendable>(for future: EventLoopFuture<T>) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let outcome = Locked<Result<T, any Error>?>(nil)
        future.whenComplete { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        guard done.wait(timeout: .now() + statementTimeout) == .success, let result = outcome.withLock({ $0 }) else {
            throw DatabaseError.unreachable(url: "", reason: "no answer within \(Int(statementTimeout)) s")
        }
        return try result.get()
    }

    private static let quiet = Logger(label: "picpipe.database.statement", factory: { _ in SwiftLogNoOpLogHandler() })
}

extension PostgresRandomAccessRow {
    /// The column's value, `nil` when NULL or of another type.
    func value<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) -> T? {
        guard contains(column), self[column].bytes != nil else { return nil }
        return try? self[column].decode(T.self)
    }
}

/// Logs a lost database once, and once more when it is back, instead of on every failed call.
///
/// Connections belong to an epoch, which ends when the database is found gone and is back again. A connection of
/// an ended epoch that fails later (one a caller held across a server restart) is the same outage, already
/// logged: only a failure in the current epoch is news.
final class ConnectionProblems: Sendable {
    private struct State {
        var down = false
        var epoch = 0
        /// Whether a connection was ever opened: a process that never reached its database says so and exits
        /// (until session 37 it first logged "retrying with backoff", and then exited).
        var reachedOnce = false
    }
    private let state = Locked(State())

    /// The current epoch.
    var epoch: Int { state.withLock { $0.epoch } }

    func failed(_ error: DatabaseError, epoch: Int, logger: Logger) {
        let first = state.withLock { state -> Bool in
            guard state.reachedOnce, !state.down, epoch == state.epoch else { return false }
            state.down = true
            return true
        }
        if first { logger.error("database unreachable; retrying with backoff", metadata: ["error": "\(error)"]) }
    }

    /// A connection was opened: the epoch it belongs to (a new one when the database was down).
    func recovered(logger: Logger, url: DatabaseURL) -> Int {
        let (was, epoch) = state.withLock { state -> (Bool, Int) in
            let was = state.down
            state.reachedOnce = true
            if was {
                state.down = false
                state.epoch += 1
            }
            return (was, state.epoch)
        }
        if was { logger.notice("database reachable again", metadata: ["database": "\(url)"]) }
        return epoch
    }
}
