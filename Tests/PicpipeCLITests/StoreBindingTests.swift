// One PostgreSQL database serves one store: a second store pointed at it is refused with a clear message (before,
// its uploads were silently taken for duplicates of the first store's pictures and got no thumbnails).
import Foundation
import PostgresBackend
import Testing

extension PicpipeCLI {
    @Suite(
        .serialized, .enabled(if: ScratchDatabase.enabled, "needs PICPIPE_TEST_DATABASE_URL (scripts/test-postgres.sh)")
    )
    struct StoreBindingTests {
        @Test func aSecondStoreIsRefusedAndTheFirstKeepsWorking() async throws {
            let (database, dropDatabase) = try ScratchDatabase.create()
            defer { dropDatabase() }
            let root = try PicpipeProcess.temporaryFolder("store-binding")
            defer { try? FileManager.default.removeItem(at: root) }
            let picture = root.appendingPathComponent("a.jpg")
            try BatchCommandTests.picture(.jpeg, seed: 7).write(to: picture)
            let first = root.appendingPathComponent("first")
            let second = root.appendingPathComponent("second")
            let environment = ["PICPIPE_DATABASE_URL": database]

            let filled = try await PicpipeProcess.run(
                ["batch", picture.path, "--store", first.path, "-q"], environment: environment)
            try #require(filled.status == 0, "\(filled.stderr)")
            let firstID = try String(contentsOf: first.appendingPathComponent("db/store-id"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)

            // The same picture into a second store on the same database: refused, nothing made.
            let refused = try await PicpipeProcess.run(
                ["batch", picture.path, "--store", second.path, "-q"], environment: environment)
            #expect(refused.status == 1)
            #expect(
                refused.stderr.contains("serves another store (id \(firstID), first opened at \(first.path)"),
                "\(refused.stderr)")
            #expect(refused.stderr.contains("the store at \(second.path)"), "\(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
            let made =
                FileManager.default.enumerator(atPath: second.appendingPathComponent("thumbnails").path)?
                .allObjects.count ?? 0
            #expect(made == 0)
            for command in [["query"], ["events"], ["stats"], ["serve", "--roles", "worker"]] {
                let run = try await PicpipeProcess.run(
                    command + ["--store", second.path], environment: environment, timeout: 60)
                #expect(run.status != 0, "\(command)")
                #expect(run.stderr.contains("serves another store"), "\(command): \(run.stderr)")
            }

            // The first store is untouched and still answers; so does a copy of it (the same store, moved).
            let query = try await PicpipeProcess.run(
                ["query", "--store", first.path, "--json"], environment: environment)
            #expect(query.status == 0, "\(query.stderr)")
            #expect(query.stdout.split(separator: "\n").count == 1, "\(query.stdout)")
            let moved = root.appendingPathComponent("moved")
            try FileManager.default.copyItem(at: first, to: moved)
            let again = try await PicpipeProcess.run(
                ["query", "--store", moved.path, "--json"], environment: environment)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stdout == query.stdout)
        }

        /// A store served by PostgreSQL is refused to every command that would open it with SQLite (a forgotten
        /// `--database`), and the reading commands read `database.url` from a configuration file: until session 27
        /// they read no file, opened empty SQLite files and answered empty tables with exit 0, and a SQLite `serve`
        /// took uploads that no PostgreSQL process saw.
        @Test func aStoreOnPostgreSQLIsNeverOpenedWithSQLite() async throws {
            let (database, dropDatabase) = try ScratchDatabase.create()
            defer { dropDatabase() }
            let root = try PicpipeProcess.temporaryFolder("store-mark")
            defer { try? FileManager.default.removeItem(at: root) }
            let picture = root.appendingPathComponent("a.jpg")
            try BatchCommandTests.picture(.jpeg, seed: 8).write(to: picture)
            let store = root.appendingPathComponent("store")
            let filled = try await PicpipeProcess.run(
                ["batch", picture.path, "--store", store.path, "--database", database, "-q"])
            try #require(filled.status == 0, "\(filled.stderr)")

            for command in [["query"], ["events"], ["stats"], ["replay", "--failed"], ["batch", picture.path]] {
                let run = try await PicpipeProcess.run(command + ["--store", store.path], timeout: 60)
                #expect(run.status == 2, "\(command): \(run.stderr)")
                #expect(
                    run.stderr.contains("keeps its journal and metadata in PostgreSQL"), "\(command): \(run.stderr)")
                #expect(!run.stderr.contains("password"), "\(run.stderr)")
            }
            let serve = try await PicpipeProcess.run(
                ["serve", "--store", store.path, "--listen", "127.0.0.1:0"], timeout: 60)
            #expect(serve.status == 2, "\(serve.stderr)")
            #expect(serve.stderr.contains("keeps its journal and metadata in PostgreSQL"), "\(serve.stderr)")
            #expect(!FileManager.default.fileExists(atPath: store.appendingPathComponent("db/events.sqlite").path))
            #expect(!FileManager.default.fileExists(atPath: store.appendingPathComponent("db/metadata.sqlite").path))

            // The URL in a configuration file is read by every reading command.
            let config = root.appendingPathComponent("picpipe.yaml")
            try "store: \(store.path)\ndatabase:\n  url: \(database)\n".write(
                to: config, atomically: true, encoding: .utf8)
            let query = try await PicpipeProcess.run(["query", "--config", config.path, "--json"])
            #expect(query.status == 0, "\(query.stderr)")
            #expect(query.stdout.split(separator: "\n").count == 1, "\(query.stdout)")
            for command in [["events"], ["stats"]] {
                let run = try await PicpipeProcess.run(command + ["--config", config.path])
                #expect(run.status == 0, "\(command): \(run.stderr)")
            }
            let fromVariable = try await PicpipeProcess.run(
                ["query", "--json"], environment: ["PICPIPE_CONFIG": config.path])
            #expect(fromVariable.stdout == query.stdout, "\(fromVariable.stderr)")
        }
    }
}
