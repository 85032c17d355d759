// A statement cut off by the server ending its session (a restart, a shutdown, an administrator's terminate) is an
// outage a caller answers with 503, not a failed statement: until session 31 a PUT or DELETE cut off by a
// PostgreSQL restart answered 500 `internal_error`.
import Dispatch
import Foundation
import PipelineCore
import PostgresBackend
import PostgresNIO
import Testing

@Suite(.enabled(if: ScratchDatabase.enabled, "needs PICPIPE_TEST_DATABASE_URL (scripts/test-postgres.sh)"))
struct PostgresLostSessionTests {
    @Test func aStatementWhoseSessionIsTerminatedMayPassIfRetried() async throws {
        let (url, drop) = try ScratchDatabase.create()
        defer { drop() }
        let pool = try PostgresConnectionPool(url: DatabaseURL(parsing: url), maxConnections: 1)
        let admin = try PostgresConnectionPool(url: DatabaseURL(parsing: url), maxConnections: 1)
        let pid = try #require(try pool.run("SELECT pg_backend_pid() AS pid").first?["pid"].decode(Int.self))
        // A long statement on the pool's one session, ended from another session while it runs.
        let outcome: Result<Void, any Error> = await withCheckedContinuation { done in
            DispatchQueue.global().async {
                done.resume(returning: Result { _ = try pool.run("SELECT pg_sleep(30)") })
            }
            DispatchQueue.global().async {
                for _ in 0..<300 {
                    let running = try? admin.run(
                        "SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1::int AND query LIKE 'SELECT pg_sleep%'",
                        [.integer(Int64(pid))]
                    ).first?["n"].decode(Int.self)
                    if running == 1 { break }
                    Thread.sleep(forTimeInterval: 0.02)
                }
                _ = try? admin.run("SELECT pg_terminate_backend($1::int)", [.integer(Int64(pid))])
            }
        }
        guard case .failure(let error) = outcome else {
            Issue.record("the statement of a terminated session succeeded")
            return
        }
        #expect(TransientFailures.mayPass(error), "\(error)")
        #expect("\(error)".contains("cannot connect to the database"), "\(error)")
        // The pool opens a new session for the next statement.
        #expect(try pool.run("SELECT 1 AS one").first?["one"].decode(Int.self) == 1)
    }
}
