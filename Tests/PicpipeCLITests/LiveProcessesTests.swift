// The journal's `processes` table names the processes still running: a command or serve that exits cleanly takes its
// row along; a process that crashes leaves it (taken for dead once its beat is old). Until session 34 every CLI run
// and every stopped serve left a row that looked alive for 10 s and stayed for a day.
import Foundation
import PostgresBackend
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(
        .serialized, .enabled(if: ScratchDatabase.enabled, "needs PICPIPE_TEST_DATABASE_URL (scripts/test-postgres.sh)")
    )
    struct LiveProcessesTests {
        /// The pids of the rows in `picpipe_journal.processes`.
        static func registeredPIDs(_ pool: PostgresConnectionPool) throws -> [Int] {
            try pool.run("SELECT pid FROM picpipe_journal.processes ORDER BY pid").map {
                try $0["pid"].decode(Int.self)
            }
        }

        @Test func aCleanExitTakesItsProcessRowAlongAndACrashLeavesIt() async throws {
            let (database, dropDatabase) = try ScratchDatabase.create()
            defer { dropDatabase() }
            let root = try PicpipeProcess.temporaryFolder("live-processes")
            defer { try? FileManager.default.removeItem(at: root) }
            let store = root.appendingPathComponent("store")
            let picture = root.appendingPathComponent("a.jpg")
            try BatchCommandTests.picture(.jpeg, seed: 11).write(to: picture)
            let environment = ["PICPIPE_DATABASE_URL": database]
            let filled = try await PicpipeProcess.run(
                ["batch", picture.path, "--store", store.path, "-q"], environment: environment)
            try #require(filled.status == 0, "\(filled.stderr)")
            let original = try #require(StoreView.files(store, "originals").first)
            let pool = try PostgresConnectionPool(url: DatabaseURL(parsing: database), maxConnections: 1)

            // A worker registers at its start and leaves when SIGTERM has stopped it.
            let worker = try await ServeProcess(
                store: store, environment: environment, arguments: ["--roles", "worker"])
            defer { worker.kill() }
            let workerPID = Int(worker.process.processIdentifier)
            try await ServeProcess.eventually("the worker's row") { try Self.registeredPIDs(pool) == [workerPID] }
            worker.signal(SIGTERM)
            #expect(await worker.waitForExit() == 0)
            let afterStop = try Self.registeredPIDs(pool)
            #expect(afterStop == [], "the stopped worker's row is gone")

            // A synchronous call registers while it runs (it owns a running invocation) and leaves as it exits.
            let call = try await PicpipeProcess.run(
                ["invoke", "thumbnail", "--key", "originals/\(original)", "--store", store.path],
                environment: environment)
            #expect(call.status == 0, "\(call.stdout)\(call.stderr)")
            // Reading and queueing commands leave nothing either.
            for command in [["events"], ["stats"], ["replay", "--failed"]] {
                let output = try await PicpipeProcess.run(command + ["--store", store.path], environment: environment)
                #expect(output.status == 0, "\(command): \(output.stderr)")
            }
            let afterCommands = try Self.registeredPIDs(pool)
            #expect(afterCommands == [], "no row of a command that has exited")

            // A crashed worker's row stays: the others take it for dead once its beat is old.
            let crashed = try await ServeProcess(
                store: store, environment: environment, arguments: ["--roles", "worker"])
            defer { crashed.kill() }
            let crashedPID = Int(crashed.process.processIdentifier)
            try await ServeProcess.eventually("the second worker's row") {
                try Self.registeredPIDs(pool).contains(crashedPID)
            }
            crashed.signal(SIGKILL)
            _ = await crashed.waitForExit()
            #expect(try Self.registeredPIDs(pool).contains(crashedPID))
            await crashed.stop()
            await worker.stop()
        }
    }
}
