// A database out of reach is said in the system's words, not as the driver's dump of its error values; each
// session names the process that holds it.
import Foundation
import Testing

@testable import PostgresBackend

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite struct PostgresOutageWordsTests {
        /// A port nobody listens on: "Connection refused" (until session 33 the log said "the connection failed:
        /// Connection errors: SingleConnectionFailure(target: [IPv4]127.0.0.1/127.0.0.1:…, error: connection reset
        /// (error set): Connection refused) (errno: 111))", brackets unbalanced).
        @Test func aRefusedConnectionReadsAsTheSystemSaysIt() throws {
            let port = try Self.closedPort()
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

        /// A loopback port that was free a moment ago and is closed now.
        static func closedPort() throws -> Int {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
                }
            }
            guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
            return Int(UInt16(bigEndian: address.sin_port))
        }
    }
}
