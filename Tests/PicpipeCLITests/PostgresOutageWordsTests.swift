// A database out of reach is said in the system's words, not as the driver's dump of its error values; each
// session names the process that holds it.
import Foundation
import Locking
import Logging
import PostgresNIO
import Testing

@testable import PostgresBackend

extension PicpipeCLI {
    @Suite struct PostgresOutageWordsTests {
        /// A port nobody listens on: "Connection refused" (until session 33 the log said "the connection failed:
        /// Connection errors: SingleConnectionFailure(target: [IPv4]127.0.0.1/127.0.0.1:…, error: connection reset
        /// (error set): Connection refused) (errno: 111))", brackets unbalanced).
        @Test func aRefusedConnectionReadsAsTheSystemSaysIt() throws {
            let port = try PicpipeCLI.GalleryBrowserTests.freePort()
            let pool = try PostgresConnectionPool(
                url: DatabaseURL(parsing: "postgres://picpipe@127.0.0.1:\(port)/picpipe"), maxConnections: 1)
            do {
                try pool.execute("SELECT 1")
                Issue.record("a connection to a closed port succeeded")
            } catch {
                let text = "\(error)"
                #expect(text.contains("the connection failed: Connection refused"), "\(text)")
                for dump in ["SingleConnectionFailure", "errno", "Connection errors", "PSQLError"] {
                    #expect(!text.contains(dump), "\(text)")
                }
            }
        }

        /// A process that never reached its database says why and exits: no "retrying with backoff" line before
        /// it (until session 37 that line came first, and then the process exited at once).
        @Test func aDatabaseNeverReachedIsNotSaidToBeRetried() throws {
            let port = try PicpipeCLI.GalleryBrowserTests.freePort()
            let lines = Locked<[String]>([])
            let pool = try PostgresConnectionPool(
                url: DatabaseURL(parsing: "postgres://picpipe@127.0.0.1:\(port)/picpipe"), maxConnections: 1,
                logger: Logger(label: "test") { _ in LinesLogHandler(lines: lines) })
            #expect(throws: DatabaseError.self) { try pool.execute("SELECT 1") }
            #expect(throws: DatabaseError.self) { try pool.execute("SELECT 1") }
            #expect(lines.withLock { $0 }.isEmpty, "\(lines.withLock { $0 })")
        }

        /// The driver's refusals before a session starts read as sentences (until session 37 a role that needs a
        /// password, named by a URL without one, printed "authMechanismRequiresPassword").
        @Test func anAuthenticationRefusalReadsAsASentence() {
            let words = PostgresConnectionPool.words(.authMechanismRequiresPassword)
            #expect(words.hasPrefix("the server asks for a password and the URL gives none"), "\(words)")
            for code in [PSQLError.Code.unsupportedAuthMechanism, .saslError, .sslUnsupported] {
                let said = PostgresConnectionPool.words(code)
                #expect(said != "\(code)" && said.contains(" "), "\(said)")
            }
        }

        /// Each session says which picpipe process holds it (`picpipe COMMAND PID` in `pg_stat_activity`), so the
        /// connections of a scaled-out installation can be told apart (until session 33 the column was empty).
        @Test(.enabled(if: ScratchDatabase.enabled, "needs PICPIPE_TEST_DATABASE_URL (scripts/test-postgres.sh)"))
        func sessionsNameTheirProcess() throws {
            try ScratchDatabase.with { url in
                let pool = try PostgresConnectionPool(url: DatabaseURL(parsing: url), maxConnections: 1)
                let rows = try pool.withConnection { connection in
                    try connection.run("SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()")
                }
                let name = try #require(rows.first?.value("application_name", as: String.self))
                #expect(name.hasPrefix("picpipe "), "\(name)")
                #expect(name.hasSuffix(" \(getpid())"), "\(name)")
            }
        }
    }
}

/// Keeps each logged message, for a test to read.
private struct LinesLogHandler: LogHandler {
    let lines: Locked<[String]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) { lines.withLock { $0.append(event.message.description) } }
}
