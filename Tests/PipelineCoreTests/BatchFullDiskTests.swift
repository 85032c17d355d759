// A batch file that fails for lack of space, in a store file or in a database: the run's one line that the disk is
// full, no dead letter (the input is still where it was), nothing of it in the store.
import Foundation
import GRDB
import Logging
import Testing

@testable import PipelineCore

/// Fails the way the metadata function does when SQLite finds the disk full at its commit.
struct DatabaseFullFunction: PipelineFunction {
    let name = "metadata"
    let role = FunctionRole(read: [.originals], write: [.metadata])
    let subscriptions: Set<String> = ["ObjectCreated"]

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        throw DatabaseError(resultCode: .SQLITE_FULL, message: "database or disk is full", sql: "COMMIT TRANSACTION")
    }
}

@Suite struct BatchFullDiskTests {
    /// SQLite's SQLITE_FULL is the full disk too: the run says so (once, through `StoreHealth`), the file's reason
    /// says which write found no space instead of SQLite's own text, and neither the file nor a copy of it keeps a
    /// dead letter (until session 31 both were copied into failed/, and the raw SQLite error was all the user saw).
    @Test func aDatabaseFoundFullIsAFullDiskAndLeavesNoDeadLetter() async throws {
        let (layout, inputs, work) = try BatchOverlapTests.inputs(1)
        defer { try? FileManager.default.removeItem(at: work) }
        let copy = work.appendingPathComponent("in/copy.jpg")
        try FileManager.default.copyItem(atPath: inputs[0].path, toPath: copy.path)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var runner = BatchRunner(
            layout: layout, functions: [DatabaseFullFunction()], maxFileBytes: 1 << 20, logger: logger)
        let health = StoreHealth()
        runner.health = health
        let summary = try await runner.run(inputs + [BatchInput(path: copy.path)], jobs: 1, progress: { _ in })
        #expect(summary.failed == 2)
        #expect(health.condition.label == "full")
        for failure in summary.failures {
            #expect(
                failure.error == "a database in \(layout.databases.path) could not be written: No space left on device",
                "\(failure.file)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: layout.failed.path).isEmpty)
        #expect(
            try FileManager.default.subpathsOfDirectory(atPath: layout.originals.path).allSatisfy {
                !$0.hasSuffix(".jpg")
            })
    }
}
