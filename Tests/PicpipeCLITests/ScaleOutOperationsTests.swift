// Operating a scaled-out installation: the database restarted mid-run, reserved concurrency across processes, the
// queue gauges of an API-only process.
import Foundation
import PipelineCore
import PostgresBackend
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI.ScaleOutTests {
    /// A PostgreSQL server of the test's own (`scripts/test-postgres.sh start`), so restarting it disturbs no other
    /// test; stopped and removed by `stop()`.
    struct OwnServer {
        let url: String
        let folder: String

        static func start() throws -> OwnServer {
            let output = try Self.script(["start"])
            var values: [String: String] = [:]
            for line in output.split(separator: "\n") where line.hasPrefix("export ") {
                let pair = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2 { values[pair[0]] = pair[1] }
            }
            guard let url = values["PICPIPE_TEST_DATABASE_URL"], let folder = values["PICPIPE_TEST_POSTGRES_DIR"] else {
                throw ServeTestError.timedOut("scripts/test-postgres.sh start printed no URL: \(output)")
            }
            return OwnServer(url: url, folder: folder)
        }

        func restart() throws { _ = try Self.script(["restart", folder]) }
        func stop() { _ = try? Self.script(["stop", folder]) }

        /// Runs scripts/test-postgres.sh; its standard output, or an error with its standard error. Through
        /// `system(3)` and files: the server it starts would inherit a pipe and keep it open, and Foundation's
        /// `Process` did not see the script exit once that server ran.
        static func script(_ arguments: [String]) throws -> String {
            let folder = try PicpipeProcess.temporaryFolder("picpipe-pg-script")
            defer { try? FileManager.default.removeItem(at: folder) }
            let outputPath = folder.appendingPathComponent("stdout").path
            let errorsPath = folder.appendingPathComponent("stderr").path
            let scriptPath = PicpipeProcess.packageRoot.appendingPathComponent("scripts/test-postgres.sh").path
            let command = ([scriptPath] + arguments).map { "'" + $0 + "'" }.joined(separator: " ")
            let status = system("/bin/bash \(command) > '\(outputPath)' 2> '\(errorsPath)' < /dev/null")
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            guard status == 0 else {
                let problems = (try? String(contentsOfFile: errorsPath, encoding: .utf8)) ?? ""
                throw ServeTestError.timedOut(
                    "scripts/test-postgres.sh \(arguments[0]) failed (\(status)): \(problems)")
            }
            return text
        }
    }

    /// Writes `count` distinct pictures into `staging` and returns their names.
    static func pictures(_ count: Int, seed: Int, prefix: String, into staging: URL) throws -> [String] {
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        return try (0..<count).map { n in
            let name = prefix + String(format: "-%03d.jpg", n)
            try PicpipeCLI.ServeCommandTests.picture(seed + n).write(to: staging.appendingPathComponent(name))
            return name
        }
    }

    /// Every file ended with every thumbnail, one metadata row and one success per function; nothing dead.
    static func expectAllDoneOnce(_ names: [String], store: URL, database: String) async throws {
        let events = try await Self.events(store, database: database)
        let created = events.filter { $0.eventName.hasPrefix("ObjectCreated") }
        #expect(created.count == names.count * 2, "one invocation per file and function")
        #expect(created.allSatisfy { $0.state == "succeeded" })
        var perFunction: [String: Int] = [:]
        for line in created { perFunction["\(line.sourceName ?? line.key)/\(line.function)", default: 0] += 1 }
        #expect(perFunction.values.allSatisfy { $0 == 1 })
        #expect(events.filter { $0.state == "dead" }.isEmpty)
        #expect(StoreView.files(store, "failed").isEmpty)
        let query = try await Self.cli(
            ["query", "--store", store.path, "--json", "--limit", "100000"], database: database)
        #expect(query.stdout.split(separator: "\n").count == names.count)
        let thumbnails = StoreView.files(store, "thumbnails")
        #expect(
            thumbnails.filter { $0.hasSuffix(".jpg") }.count == names.count * Self.sizes.split(separator: ",").count)
        #expect(thumbnails.allSatisfy { !$0.contains(".picpipe-tmp") })
    }

    // It found a defect: an outcome whose write the restart cut stayed `running` for ever (the heartbeat renewed
    // every lease of a live process). Outcomes are now retried and only running claims renewed.
    @Test func aDatabaseRestartMidRunLosesNothingAndIsLoggedOnce() async throws {
        let server = try OwnServer.start()
        defer { server.stop() }
        let database = server.url
        let work = try PicpipeProcess.temporaryFolder("picpipe-pg-restart")
        defer { try? FileManager.default.removeItem(at: work) }
        let store = work.appendingPathComponent("store")
        let uploads = store.appendingPathComponent("uploads")
        let staging = work.appendingPathComponent("staging")
        let before = try Self.pictures(40, seed: 7000, prefix: "before", into: staging)
        let after = try Self.pictures(40, seed: 7100, prefix: "after", into: staging)
        let environment = [
            "PICPIPE_DATABASE_URL": database, "PICPIPE_THUMBNAIL_SIZES": Self.sizes,
            // An outcome whose write the restart cut is re-run when its lease (timeout + 30 s) expires.
            "PICPIPE_FUNCTIONS_THUMBNAIL_TIMEOUT": "10", "PICPIPE_FUNCTIONS_METADATA_TIMEOUT": "10",
            // An upload whose journal write the restart refused stays in uploads/ for the next rescan.
            "PICPIPE_WATCHER_RESCAN_INTERVAL": "2",
        ]
        let all = try await ServeProcess(store: store, environment: environment)
        let worker = try await ServeProcess(store: store, environment: environment, arguments: ["--roles", "worker"])
        defer {
            for process in [all, worker] { process.kill() }
        }
        try Self.drop(before, from: staging, into: uploads)
        try await ServeProcess.eventually("some processed before the restart") {
            try await Self.processed(store, database: database).count >= 5
        }
        try server.restart()
        try Self.drop(after, from: staging, into: uploads)
        try await ServeProcess.eventually("every file processed after the restart", within: 300) {
            try await Self.processed(store, database: database).isSuperset(of: before + after)
        }
        try await Self.expectAllDoneOnce(before + after, store: store, database: database)
        for process in [all, worker] {
            let log = process.log
            let lost = log.components(separatedBy: "database unreachable").count - 1
            #expect(lost == 1, "the lost connection is logged once, not on every call:\n\(log)")
            #expect(log.contains("database reachable again"))
            #expect(process.process.isRunning)
        }
        for process in [all, worker] { await process.stop() }
    }

    /// Right after the database server restarted every beat is old, and a process that starts then has seen no
    /// outage of its own: nobody is taken for dead until the server has been up for 10 s. Until session 28 a worker
    /// started as the database came back re-queued the live workers' claims at its start, ran them twice and counted
    /// a crash attempt for each (with max_retries 0: dead-lettered pictures that then succeeded).
    @Test func aProcessStartingRightAfterADatabaseRestartJudgesNobodyYet() async throws {
        let server = try OwnServer.start()
        defer { server.stop() }
        let url = try DatabaseURL(parsing: server.url)
        let worker = try PostgresInvocationJournal(pool: PostgresConnectionPool(url: url, maxConnections: 2))
        let hex = String(repeating: "ab", count: 32)
        let record = S3EventRecord(
            name: .objectCreatedPut, bucket: "store", key: "originals/ab/\(hex).jpg", size: 1, eTag: hex, sequence: 0)
        _ = try worker.append(record, functions: ["a"], type: .event, deduplicate: false)
        _ = try #require(try worker.claim(function: "a", now: Date()))
        worker.abandon()  // its beats stop, as every process's do while the database is away
        let admin = try PostgresConnectionPool(url: url, maxConnections: 1)
        _ = try admin.execute(
            "UPDATE picpipe_journal.processes SET beat_at = extract(epoch FROM clock_timestamp()) - 60")
        try server.restart()
        let other = try PostgresInvocationJournal(pool: PostgresConnectionPool(url: url, maxConnections: 2))
        defer { other.abandon() }
        #expect(try other.recoverRunning() == 0, "the server has just started: no beat says anything yet")
        #expect(try other.invocations(state: .running, function: "a", limit: 10).count == 1)
        // Once the server has been up for 10 s, a process that stayed silent is judged.
        var recovered = 0
        for _ in 0..<60 where recovered == 0 {
            try await Task.sleep(for: .milliseconds(500))
            recovered = try other.recoverExpiredLeases(now: Date())
        }
        #expect(recovered == 1)
    }

    @Test func reservedConcurrencyCapsAFunctionAcrossWorkerProcesses() async throws {
        let (database, dropDatabase) = try ScratchDatabase.create()
        defer { dropDatabase() }
        let work = try PicpipeProcess.temporaryFolder("picpipe-reserved")
        defer { try? FileManager.default.removeItem(at: work) }
        let store = work.appendingPathComponent("store")
        let staging = work.appendingPathComponent("staging")
        let names = try Self.pictures(30, seed: 7300, prefix: "capped", into: staging)
        // Two workers of each function in each of two processes, but at most one thumbnail at a time in all.
        let environment = [
            "PICPIPE_DATABASE_URL": database, "PICPIPE_THUMBNAIL_SIZES": Self.sizes,
            "PICPIPE_FUNCTIONS_THUMBNAIL_CONCURRENCY": "2", "PICPIPE_FUNCTIONS_METADATA_CONCURRENCY": "2",
            "PICPIPE_FUNCTIONS_THUMBNAIL_RESERVED_CONCURRENCY": "1",
        ]
        let watcher = try await ServeProcess(store: store, environment: environment, arguments: ["--roles", "watcher"])
        let workers = [
            try await ServeProcess(store: store, environment: environment, arguments: ["--roles", "worker"]),
            try await ServeProcess(store: store, environment: environment, arguments: ["--roles", "worker"]),
        ]
        defer {
            for process in [watcher] + workers { process.kill() }
        }
        let pool = try PostgresConnectionPool(url: DatabaseURL(parsing: database), maxConnections: 1)
        try Self.drop(names, from: staging, into: store.appendingPathComponent("uploads"))
        // The database's own view while the queue drains: never two thumbnails running at once.
        var mostRunning = 0
        var heldBack = false
        try await ServeProcess.eventually("every file processed", within: 300) {
            let row = try pool.run(
                """
                SELECT COUNT(*) FILTER (WHERE state = 'running') AS running,
                    COUNT(*) FILTER (WHERE state IN ('queued', 'retrying')) AS waiting
                FROM picpipe_journal.invocations WHERE function = 'thumbnail'
                """
            ).first
            let running = (try? row?["running"].decode(Int.self)) ?? 0
            let waiting = (try? row?["waiting"].decode(Int.self)) ?? 0
            mostRunning = max(mostRunning, running)
            if running == 1, waiting > 0 { heldBack = true }
            return try await Self.processed(store, database: database).isSuperset(of: names)
        }
        #expect(mostRunning == 1, "reserved_concurrency 1 across two processes of two workers each")
        #expect(heldBack, "thumbnails waited while one ran")
        try await Self.expectAllDoneOnce(names, store: store, database: database)
        // The waits are counted as throttles, as with SQLite.
        let statistics = try await JSONSerialization.jsonObject(
            with: Data(try Self.cli(["stats", "--store", store.path, "--json"], database: database).stdout.utf8))
        let thumbnail = ((statistics as? [[String: Any]]) ?? []).first { $0["function"] as? String == "thumbnail" }
        #expect((thumbnail?["throttles"] as? Int ?? 0) > 0)
        for process in [watcher] + workers { await process.stop() }
    }

    @Test func anAPIOnlyProcessShowsItsRolesAndTheSharedQueueOnMetrics() async throws {
        let (database, dropDatabase) = try ScratchDatabase.create()
        defer { dropDatabase() }
        let work = try PicpipeProcess.temporaryFolder("picpipe-pg-metrics")
        defer { try? FileManager.default.removeItem(at: work) }
        let store = work.appendingPathComponent("store")
        let staging = work.appendingPathComponent("staging")
        let names = try Self.pictures(5, seed: 7400, prefix: "queued", into: staging)
        let environment = ["PICPIPE_DATABASE_URL": database, "PICPIPE_THUMBNAIL_SIZES": Self.sizes]
        // A watcher and an API, no worker: what is dropped stays queued.
        let watcher = try await ServeProcess(store: store, environment: environment, arguments: ["--roles", "watcher"])
        let api = try await ServeProcess(store: store, environment: environment, arguments: ["--roles", "api"])
        defer {
            for process in [watcher, api] { process.kill() }
        }
        try Self.drop(names, from: staging, into: store.appendingPathComponent("uploads"))
        try await ServeProcess.eventually("five events journaled") {
            try await Self.events(store, database: database).filter { $0.function == "thumbnail" }.count == 5
        }
        try await ServeProcess.eventually("http listening") { api.log.contains("http listening") }
        let port = try #require(PicpipeCLI.ServeHTTPTests.port(in: api.log))
        let (body, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains("picpipe_process_roles{roles=\"api\"} 1"), "\(text)")
        #expect(text.contains("picpipe_queue_depth{function=\"thumbnail\"} 5"), "\(text)")
        #expect(text.contains("picpipe_queue_depth{function=\"metadata\"} 5"), "\(text)")
        let oldest = text.split(separator: "\n").first {
            $0.hasPrefix("picpipe_oldest_queued_age_seconds{function=\"thumbnail\"}")
        }
        #expect((oldest?.split(separator: " ").last).flatMap { Double($0) }.map { $0 > 0 } == true, "\(text)")
        #expect(text.contains("picpipe_journal_readable 1"), "\(text)")

        // A worker process with --listen answers /healthz and /metrics (and nothing else): until session 27 it
        // opened no listener, and the README's `--listen` for workers was ignored.
        let worker = try await ServeProcess(
            store: store, environment: environment,
            arguments: ["--roles", "worker:thumbnail", "--listen", "127.0.0.1:0"])
        defer { worker.kill() }
        try await ServeProcess.eventually("operations listening") { worker.log.contains("operations listening") }
        // The start line names the one function whose workers run here (until session 36 only all three).
        let start = try #require(worker.log.split(separator: "\n").first { $0.contains("serving") })
        #expect(start.contains("workers=thumbnail ") && start.contains("roles=worker:thumbnail"), "\(start)")
        let line = try #require(worker.log.split(separator: "\n").first { $0.contains("operations listening") })
        let workerPort = try #require(
            line.range(of: "127.0.0.1:").flatMap { Int(line[$0.upperBound...].prefix { $0.isNumber }) })
        let base = "http://127.0.0.1:\(workerPort)"
        let (healthBody, health) = try await URLSession.shared.data(from: URL(string: "\(base)/healthz")!)
        #expect((health as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: healthBody, as: UTF8.self).contains("\"readable\":true"))
        let (workerMetrics, _) = try await URLSession.shared.data(from: URL(string: "\(base)/metrics")!)
        #expect(
            String(decoding: workerMetrics, as: UTF8.self).contains(
                "picpipe_process_roles{roles=\"worker:thumbnail\"} 1"))
        let (_, images) = try await URLSession.shared.data(from: URL(string: "\(base)/images")!)
        #expect((images as? HTTPURLResponse)?.statusCode == 404)
        for process in [watcher, api, worker] { await process.stop() }
    }
}

extension PicpipeCLI.ScaleOutTests {
    /// A watcher whose lock session ended (a database restart ends every session) and whose lock another process
    /// took first stands by and takes over again once it is free. Until session 27 it stopped, and every other role
    /// of its process with it.
    @Test func aWatcherThatLostItsLockStandsByInsteadOfStopping() async throws {
        let (database, dropDatabase) = try ScratchDatabase.create()
        defer { dropDatabase() }
        let work = try PicpipeProcess.temporaryFolder("picpipe-pg-lock")
        defer { try? FileManager.default.removeItem(at: work) }
        let store = work.appendingPathComponent("store")
        let staging = work.appendingPathComponent("staging")
        let names = try Self.pictures(1, seed: 7600, prefix: "after", into: staging)
        let environment = ["PICPIPE_DATABASE_URL": database, "PICPIPE_THUMBNAIL_SIZES": Self.sizes]
        let serve = try await ServeProcess(store: store, environment: environment)
        defer { serve.kill() }
        try await ServeProcess.eventually("watcher active") { serve.log.contains("watcher active") }

        // Another session takes the lock the moment serve's session ends.
        let rival = try PostgresConnectionPool(url: DatabaseURL(parsing: database), maxConnections: 1)
        let lockName = "picpipe.watcher:" + StoreLayout(root: store).uploads.standardizedFileURL.path
        try rival.withConnection { connection in
            _ = try connection.run(
                """
                SELECT pg_terminate_backend(pid) FROM pg_locks
                WHERE locktype = 'advisory' AND granted
                    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """)
            var taken = false
            for _ in 0..<200 where !taken {
                taken =
                    try connection.execute(
                        "SELECT 1 WHERE pg_try_advisory_lock(hashtext($1))", [.text(lockName)]) == 1
                if !taken { usleep(10_000) }
            }
            try #require(taken)
        }
        try await ServeProcess.eventually("standing by") { serve.log.contains("this watcher stands by again") }
        #expect(serve.process.isRunning, "\(serve.log)")

        // The rival lets go: serve watches again, and a dropped picture is processed.
        try rival.withConnection { connection in
            _ = try connection.run("SELECT pg_advisory_unlock_all()")
        }
        try await ServeProcess.eventually("watcher active again") {
            serve.log.components(separatedBy: "watcher active").count - 1 >= 2
        }
        try Self.drop(names, from: staging, into: store.appendingPathComponent("uploads"))
        try await ServeProcess.eventually("processed after the takeover") {
            try await Self.processed(store, database: database).isSuperset(of: names)
        }
        await serve.stop()
    }
}
