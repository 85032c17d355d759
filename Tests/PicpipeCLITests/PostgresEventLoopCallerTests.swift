// The blocking pool called from an event loop: the HTTP listener's thumbnail shortcut looks an id up in the
// PostgreSQL index there. Until session 30 a pool with no idle connection opened one with NIO's `wait()`, which traps
// on an event loop: serve on PostgreSQL crashed under a few concurrent thumbnail reads of a PUT id.
import Foundation
import NIOCore
import NIOPosix
import PostgresBackend
import PostgresNIO
import Testing

@Suite(.enabled(if: ScratchDatabase.enabled, "needs PICPIPE_TEST_DATABASE_URL (scripts/test-postgres.sh)"))
struct PostgresEventLoopCallerTests {
    @Test func aStatementFromAnEventLoopOpensItsConnectionWithoutTrapping() async throws {
        let (url, drop) = try ScratchDatabase.create()
        defer { drop() }
        let pool = try PostgresConnectionPool(url: DatabaseURL(parsing: url), maxConnections: 2)
        let answer = try await MultiThreadedEventLoopGroup.singleton.any().submit {
            try pool.run("SELECT (41 + 1)::bigint AS n").first?["n"].decode(Int.self)
        }.get()
        #expect(answer == 42)
    }
}
