// Many `serve` processes on one PostgreSQL database and one store: 2 watchers (one active, one standby),
// 3 workers and 1 API; a worker killed with SIGKILL, another stopped with SIGTERM, the active watcher killed.
import Foundation
import PipelineCore
import PostgresBackend
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(
        .serialized, .enabled(if: ScratchDatabase.enabled, "needs PICPIPE_TEST_DATABASE_URL (scripts/test-postgres.sh)")
    )
    struct ScaleOutTests {
        static let sizes = "48,96"

        /// Runs a CLI command against the shared database.
        static func cli(_ arguments: [String], database: String) async throws -> PicpipeProcess.Output {
            let output = try await PicpipeProcess.run(arguments + ["--database", database], timeout: 120)
            if output.status != 0 { throw ServeTestError.timedOut("\(arguments.first ?? "") failed: \(output.stderr)") }
            return output
        }

        static func events(_ store: URL, database: String) async throws -> [EventLine] {
            try await cli(["events", "--store", store.path, "--json", "--limit", "100000"], database: database).stdout
                .split(separator: "\n").map { try JSONDecoder().decode(EventLine.self, from: Data($0.utf8)) }
        }

        /// Source names whose thumbnail and metadata invocations both succeeded.
        static func processed(_ store: URL, database: String) async throws -> Set<String> {
            var functions: [String: Set<String>] = [:]
            for line in try await events(store, database: database) where line.state == "succeeded" {
                functions[line.sourceName ?? line.key, default: []].insert(line.function)
            }
            return Set(functions.filter { $0.value.isSuperset(of: ["thumbnail", "metadata"]) }.keys)
        }

        static func drop(_ names: some Sequence<String>, from staging: URL, into uploads: URL) throws {
            for name in names {
                let target = uploads.appendingPathComponent(name)
                try FileManager.default.createDirectory(
                    at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                #expect(rename(staging.appendingPathComponent(name).path, target.path) == 0)
            }
        }

        @Test func watchersWorkersAndAnAPIShareOneDatabaseAndSurviveEachOthersDeaths() async throws {
            let (database, dropDatabase) = try ScratchDatabase.create()
            defer { dropDatabase() }
            let work = try PicpipeProcess.temporaryFolder("picpipe-scale")
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            let uploads = store.appendingPathComponent("uploads")
            let staging = work.appendingPathComponent("staging")
            // 200 different pictures, and 40 copies of some of them under other names in a subfolder.
            var names: [String] = []
            for n in 0..<200 {
                let name = String(format: "pic-%03d.jpg", n)
                names.append(name)
                let data = try PicpipeCLI.ServeCommandTests.picture(3000 + n)
                try FileManager.default.createDirectory(
                    at: staging.appendingPathComponent("copies"), withIntermediateDirectories: true)
                try data.write(to: staging.appendingPathComponent(name))
                if n % 5 == 0 {
                    let copy = "copies/copy-of-\(name)"
                    try data.write(to: staging.appendingPathComponent(copy))
                    names.append(copy)
                }
            }
            let environment = ["PICPIPE_DATABASE_URL": database, "PICPIPE_THUMBNAIL_SIZES": Self.sizes]
            func serve(_ roles: String) async throws -> ServeProcess {
                try await ServeProcess(store: store, environment: environment, arguments: ["--roles", roles])
            }
            let watcher = try await serve("watcher")
            try await ServeProcess.eventually("the first watcher active") { watcher.log.contains("watcher active") }
            let standby = try await serve("watcher")
            try await ServeProcess.eventually("the second watcher on standby") { standby.log.contains("standby") }
            var workers: [ServeProcess] = []
            for _ in 0..<3 { workers.append(try await serve("worker")) }
            let api = try await serve("api")
            defer {
                for process in [watcher, standby, api] + workers { process.kill() }
            }

            // The first half lands; one worker dies hard, another is stopped, while the queue is busy.
            let firstHalf = names.prefix(names.count / 2)
            try Self.drop(firstHalf, from: staging, into: uploads)
            try await ServeProcess.eventually("some processed") {
                try await Self.processed(store, database: database).count >= 10
            }
            workers[0].signal(SIGKILL)
            workers[1].signal(SIGTERM)
            #expect(await workers[1].waitForExit(within: 120) == 0)
            #expect(!standby.log.contains("watcher active"))

            // The active watcher dies: the standby takes over and the rest is still ingested.
            watcher.signal(SIGKILL)
            _ = await watcher.waitForExit()
            try await ServeProcess.eventually("the standby watcher active", within: 30) {
                standby.log.contains("watcher active")
            }
            try Self.drop(names.dropFirst(firstHalf.count), from: staging, into: uploads)
            try await ServeProcess.eventually("every file processed by the surviving worker", within: 300) {
                try await Self.processed(store, database: database).isSuperset(of: names)
            }

            // Every invocation ran to success exactly once: nothing dead, retried or left running.
            let events = try await Self.events(store, database: database)
            let created = events.filter { $0.eventName.hasPrefix("ObjectCreated") }
            #expect(created.count == names.count * 2)
            #expect(created.allSatisfy { $0.state == "succeeded" })
            var perFunction: [String: Int] = [:]
            for line in created { perFunction["\(line.sourceName ?? line.key)/\(line.function)", default: 0] += 1 }
            #expect(perFunction.values.allSatisfy { $0 == 1 }, "one invocation per file and function")
            #expect(events.filter { $0.state == "dead" }.isEmpty)
            let statistics = try await JSONSerialization.jsonObject(
                with: Data(try Self.cli(["stats", "--store", store.path, "--json"], database: database).stdout.utf8))
            let rows = (statistics as? [[String: Any]]) ?? []
            for row in rows {
                let function = row["function"] as? String ?? "?"
                let attempts = row["invocations"] as? Int ?? -1
                let errors = row["errors"] as? Int ?? -1
                let succeeded = row["succeeded"] as? Int ?? -1
                // Each success recorded once: successful attempts = succeeded invocations.
                #expect(attempts - errors == succeeded, "\(function): \(attempts) attempts, \(errors) errors")
                // The only errors are the attempts the SIGKILL cut (Lambda's Runtime.ExitError, since session 28),
                // each retried once by another worker; the SIGTERM's put-backs count nothing.
                let retries = row["retries"] as? Int ?? -1
                #expect(errors == retries, "\(function): \(errors) errors, \(retries) retries")
            }
            // One metadata row per distinct picture, every thumbnail, no partial file.
            let query = try await Self.cli(
                ["query", "--store", store.path, "--json", "--limit", "100000"], database: database)
            #expect(query.stdout.split(separator: "\n").count == 200)
            let thumbnails = StoreView.files(store, "thumbnails")
            #expect(thumbnails.filter { $0.hasSuffix(".jpg") }.count == 200 * Self.sizes.split(separator: ",").count)
            #expect(thumbnails.allSatisfy { !$0.contains(".picpipe-tmp") })
            let originals = StoreView.files(store, "originals")
            #expect(
                originals.count == 200,
                "not an original: \(originals.filter { $0.contains(".picpipe-tmp") || !$0.hasSuffix(".jpg") })")

            // The API process answers from the shared database.
            #expect(api.process.isRunning)
            #expect(workers[2].process.isRunning)
            for process in [standby, api, workers[2]] { await process.stop() }
        }

        @Test func sqliteModeKeepsOneServePerStoreAndRolesNeedADatabase() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-roles")
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            let refused = try await PicpipeProcess.run(
                ["serve", "--store", store.path, "--roles", "worker"], timeout: 60)
            #expect(refused.status == 2)
            #expect(refused.stderr.contains("--roles needs a shared database"))
            let unknown = try await PicpipeProcess.run(
                ["serve", "--store", store.path, "--roles", "cook", "--database", "postgres://x@127.0.0.1/x"],
                timeout: 60)
            #expect(unknown.status == 2)
            #expect(unknown.stderr.contains("unknown role 'cook'"))
        }
    }
}

extension PicpipeCLI.ScaleOutTests {
    @Test func aSQLiteStoreMovesToPostgreSQLWithTheSameAnswers() async throws {
        let (database, dropDatabase) = try ScratchDatabase.create()
        defer { dropDatabase() }
        let work = try PicpipeProcess.temporaryFolder("picpipe-migrate")
        defer { try? FileManager.default.removeItem(at: work) }
        let store = work.appendingPathComponent("store")
        let serve = try await ServeProcess(store: store)  // SQLite
        let names = (0..<50).map { String(format: "m-%02d.jpg", $0) }
        for (n, name) in names.enumerated() {
            try PicpipeCLI.ServeCommandTests.picture(5000 + n).write(
                to: store.appendingPathComponent("uploads").appendingPathComponent(name))
        }
        try await ServeProcess.eventually("all 50 processed") {
            try await StoreView.processed(store).isSuperset(of: names)
        }
        await serve.stop()
        // Ten events pruned (as serve prunes them once they are runtime.journal_retention_days old): their counts
        // move with the journal too.
        let journal = try SQLiteInvocationJournal(layout: StoreLayout(root: store))
        #expect(try journal.prune(before: Date().addingTimeInterval(60), limit: 10) == 10)
        let readings = [
            ["query", "--store", store.path, "--json", "--limit", "1000"],
            ["events", "--store", store.path, "--json", "--limit", "1000"],
            // The table (GB-s rounded): sums of doubles in another order differ in the last bits.
            ["stats", "--store", store.path],
        ]
        var sqliteAnswers: [String] = []
        for arguments in readings {
            let sqlite = try await PicpipeProcess.run(arguments, timeout: 120)
            #expect(sqlite.status == 0 && !sqlite.stdout.isEmpty)
            sqliteAnswers.append(sqlite.stdout)
        }

        let first = try await PicpipeProcess.run(
            ["db", "migrate", "--store", store.path, "--to", database], timeout: 300)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("events: 40 in SQLite, 40 copied, 40 in PostgreSQL"))
        #expect(first.stdout.contains("invocations: 80 in SQLite, 80 copied, 80 in PostgreSQL"))
        #expect(first.stdout.contains("metadata images: 50 in SQLite, 50 copied, 50 in PostgreSQL"))
        #expect(first.stdout.contains("verified: every row matches"))
        let again = try await PicpipeProcess.run(
            ["db", "migrate", "--store", store.path, "--to", database], timeout: 300)
        #expect(again.status == 0)
        #expect(again.stdout.contains("events: 40 in SQLite, 0 copied, 40 in PostgreSQL"))

        for (arguments, sqlite) in zip(readings, sqliteAnswers) {
            let postgres = try await PicpipeProcess.run(arguments + ["--database", database], timeout: 120)
            #expect(postgres.status == 0)
            #expect(sqlite == postgres.stdout, "\(arguments[0]) answers the same")
            // The store has moved: opened with SQLite again it is refused, not answered from the old files.
            let stale = try await PicpipeProcess.run(arguments, timeout: 120)
            #expect(stale.status == 2 && stale.stderr.contains("keeps its journal and metadata in PostgreSQL"))
        }
    }
}

extension PicpipeCLI.ScaleOutTests {
    /// A process that ran on the database before the move journaled events under ids SQLite uses: `db migrate`
    /// refuses, names them and copies nothing (until session 27 it kept the database's rows and dropped SQLite's,
    /// summed up as a success, so `replay 1` named another picture).
    @Test func dbMigrateRefusesADatabaseWithEventsOfItsOwn() async throws {
        let (database, dropDatabase) = try ScratchDatabase.create()
        defer { dropDatabase() }
        let work = try PicpipeProcess.temporaryFolder("picpipe-migrate-clash")
        defer { try? FileManager.default.removeItem(at: work) }
        let (store, key) = try await PicpipeCLI.InvokeCommandTests.storeWithOriginal(work)  // one SQLite event
        // While a SQLite serve runs on the store (it would journal what the copy misses), the move is refused.
        let running = try await ServeProcess(store: store)
        let busy = try await PicpipeProcess.run(["db", "migrate", "--store", store.path, "--to", database])
        await running.stop()
        #expect(busy.status == 1 && busy.stderr.contains("another serve"), "\(busy.stderr)")
        let invoked = try await PicpipeProcess.run(
            ["invoke", "metadata", "--key", key, "--store", store.path, "--database", database])
        try #require(invoked.status == 0, "\(invoked.stderr)")
        let before = try await PicpipeProcess.run(
            ["events", "--store", store.path, "--database", database, "--json"])

        let migrate = try await PicpipeProcess.run(
            ["db", "migrate", "--store", store.path, "--to", database], timeout: 300)
        #expect(migrate.status == 1, "\(migrate.stdout)")
        #expect(
            migrate.stderr.contains("already has events of its own under ids the SQLite journal uses (1: 1)"),
            "\(migrate.stderr)")
        let after = try await PicpipeProcess.run(
            ["events", "--store", store.path, "--database", database, "--json"])
        #expect(after.stdout == before.stdout)
    }
}
