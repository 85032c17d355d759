// `picpipe bench-queue` (hidden): the bare queue's throughput, no-op invocations through the real runtime and journal.
import ArgumentParser
import Foundation
import Logging
import PipelineCore

/// Queues `count` no-op invocations, then lets the real `FunctionRuntime` (its worker loop, timeout, metering)
/// claim, run and acknowledge them through the real journal (SQLite in a fresh store, or PostgreSQL), and prints
/// invocations per second. A benchmark, not a feature: hidden from `--help`; `scripts/bench-queue.sh` runs it.
struct BenchQueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-queue",
        abstract: "Benchmark: no-op invocations claimed, run and acknowledged per second.",
        shouldDisplay: false)

    @Option(help: "A fresh store folder (the SQLite journal lives in it; with --database only its layout is used).")
    var store: String

    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(help: "Workers of the no-op function (its concurrency).")
    var workers = 1

    @Option(help: "Invocations to queue and run.")
    var count = 2000

    /// The no-op function: it touches nothing, so the figure is the queue's own cost.
    struct NoOp: PipelineFunction {
        let name: String
        var role: FunctionRole { FunctionRole() }
        var subscriptions: Set<String> { ["ObjectCreated"] }
        func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult { [:] }
    }

    func run() async throws {
        let layout = StoreLayout(root: URL(fileURLWithPath: store))
        try StoreOptions.create(layout)
        var logger = Logger(label: "picpipe.bench")
        logger.logLevel = .warning
        let backends = try DatabaseBackends.open(url: databaseOptions.url(), layout: layout, logger: logger)
        defer { backends.close() }
        // A function name of its own per run: the rows of earlier runs in a shared database are not this run's.
        let function = "noop\(UInt32.random(in: 0...UInt32.max))"
        let runtime = FunctionRuntime(
            layout: layout, journal: backends.journal,
            functions: [
                RegisteredFunction(NoOp(name: function), configuration: FunctionConfiguration(concurrency: workers))
            ],
            settings: RuntimeSettings(), logger: logger)
        let hash = String(repeating: "ab", count: 32)
        for index in 0..<count {
            let record = S3EventRecord(
                name: .objectCreatedPut, bucket: "bench", key: "originals/ab/\(hash).jpg", size: index, eTag: hash,
                sequence: 0, sourceName: "bench-\(index).jpg")
            _ = try backends.journal.append(record, functions: [function], type: .event, deduplicate: false)
        }
        let clock = ContinuousClock()
        let before = runtime.outcomeGeneration
        let start = clock.now
        let workersTask = Task { await runtime.run() }
        while true {
            let generation = runtime.outcomeGeneration
            if generation - before >= count { break }
            await runtime.waitForOutcome(after: generation, upTo: 1)
        }
        let elapsed = start.duration(to: clock.now)
        runtime.stop()
        await workersTask.value
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let succeeded = try backends.journal.statistics(now: Date()).first { $0.function == function }?.succeeded ?? 0
        guard succeeded == count else {
            throw ValidationError("bench-queue: \(succeeded) of \(count) invocations succeeded in the journal")
        }
        let database = backends.isShared ? "postgresql" : "sqlite"
        FileHandleOutput.standardOutput.write(
            "\(database) workers=\(workers) invocations=\(count) "
                + String(format: "seconds=%.3f per_second=%.0f\n", seconds, Double(count) / seconds))
    }
}
