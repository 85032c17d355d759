// Throw-away databases on a server the tests and benchmarks are given ($PICPIPE_TEST_DATABASE_URL).
import Foundation

/// A database created for one test and dropped after it, on the server a URL names.
public enum ScratchDatabase {
    /// Why a PostgreSQL test cannot run.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// The test server's URL, `nil` when PostgreSQL tests should be skipped (no URL and `CI` is not `true`).
    /// - Throws: when `CI=true` and no URL is set: in CI a missing database is a failure, not a skip.
    public static func serverURL(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> String?
    {
        if let url = environment["PICPIPE_TEST_DATABASE_URL"], !url.isEmpty { return url }
        if environment["CI"] == "true" {
            throw Unavailable(
                description:
                    "PICPIPE_TEST_DATABASE_URL is not set but CI=true: start one with "
                    + "`eval \"$(scripts/test-postgres.sh start)\"` (.ci/run does)")
        }
        return nil
    }

    /// Whether PostgreSQL tests run here (a URL is set, or CI requires them and they will fail without one).
    public static var enabled: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["PICPIPE_TEST_DATABASE_URL"].map { !$0.isEmpty } ?? false || environment["CI"] == "true"
    }

    /// Creates a fresh database on the test server, runs `body` with its URL, then drops it.
    public static func with<T>(_ body: (String) throws -> T) throws -> T {
        let (url, drop) = try create()
        defer { drop() }
        return try body(url)
    }

    /// Creates a fresh database; returns its URL and the closure that drops it.
    public static func create() throws -> (url: String, drop: @Sendable () -> Void) {
        guard let server = try serverURL() else {
            throw Unavailable(description: "PICPIPE_TEST_DATABASE_URL is not set")
        }
        let admin = try PostgresConnectionPool(url: DatabaseURL(parsing: server), maxConnections: 1)
        let name = "picpipe_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try admin.execute("CREATE DATABASE \(name)")
        var components = URLComponents(string: server)
        components?.path = "/" + name
        let url = components?.string ?? server
        return (url, { _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") })
    }
}
