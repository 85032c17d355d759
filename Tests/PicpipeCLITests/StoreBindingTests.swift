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
    }
}
