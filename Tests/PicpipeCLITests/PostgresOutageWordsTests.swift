// A database out of reach is said in the system's words, not as the driver's dump of its error values; each
// session names the process that holds it.
import Foundation
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
