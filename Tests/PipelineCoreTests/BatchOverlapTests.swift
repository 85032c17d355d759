// `batch` writes each original beside the functions' work and their outputs on the store's write threads: nothing
// that names a picture may come before its original is durable, and `-j N` must still compute N files at a time.
import Foundation
import Locking
import Logging
import Testing

@testable import PipelineCore

/// What the fake functions saw, across all files of a batch.
final class OverlapLog: Sendable {
    struct State {
        var computing = 0
        var mostComputing = 0
        var inFlight = 0
        var mostInFlight = 0
        /// For each write of outputs: whether the original was on disk, and the queue it ran on.
        var writes: [(originalOnDisk: Bool, onWriteThread: Bool)] = []
        /// For each start of the second function: whether the original was on disk.
        var laterStarts: [Bool] = []
    }
    let state = Locked(State())

    func compute(_ body: () -> Void) {
        state.withLock {
            $0.computing += 1
            $0.mostComputing = max($0.mostComputing, $0.computing)
        }
        body()
        state.withLock { $0.computing -= 1 }
    }
}

/// Works for a few milliseconds (the decode), then writes one output file through `writeOutputs`.
struct ComputeThenWriteFunction: PipelineFunction {
    let name = "first"
    let role = FunctionRole(read: [.originals], write: [.thumbnails])
    let subscriptions: Set<String> = ["ObjectCreated"]
    let log: OverlapLog
    let layout: StoreLayout
    var fails = false
    /// Whether it has outputs to write (a function that has none leaves the original's write unawaited).
    var writes = true

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        log.state.withLock {
            $0.inFlight += 1
            $0.mostInFlight = max($0.mostInFlight, $0.inFlight)
        }
        log.compute { Thread.sleep(forTimeInterval: 0.004) }
        if fails { throw FunctionError.unprocessable(file: record.s3.object.sourceName ?? "?", reason: "refused") }
        guard writes else { return [:] }
        let thumbnails = try context.store.handle(.thumbnails, .write)
        let original = layout.root.appendingPathComponent(record.s3.object.key).path
        let log = self.log
        try await context.writeOutputs {
            let onDisk = FileManager.default.fileExists(atPath: original)
            let onWriteThread = DispatchQueue.getSpecific(key: StoreWriteThreads.queueKey) != nil
            log.state.withLock { $0.writes.append((onDisk, onWriteThread)) }
            try thumbnails.write(Array("made from \(record.s3.object.key)".utf8), to: "\(record.s3.object.eTag).txt")
        }
        return [:]
    }
}

/// Notes whether the original is on disk when it starts, works a little, and ends the file's flight.
struct LaterFunction: PipelineFunction {
    let name = "second"
    let role = FunctionRole(read: [.originals])
    let subscriptions: Set<String> = ["ObjectCreated"]
    let log: OverlapLog
    let layout: StoreLayout

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        let onDisk = FileManager.default.fileExists(
            atPath: layout.root.appendingPathComponent(record.s3.object.key).path)
        log.state.withLock { $0.laterStarts.append(onDisk) }
        log.compute { Thread.sleep(forTimeInterval: 0.001) }
        log.state.withLock { $0.inFlight -= 1 }
        return [:]
    }
}

/// Removes the original from disk, as an HTTP DELETE by a serve beside the batch does, then notes what
/// `originalExists` tells the functions after it (which check it after writing and undo their work when false).
struct DeletedBesideTheBatchFunction: PipelineFunction {
    let name = "deleter"
    let role = FunctionRole(read: [.originals])
    let subscriptions: Set<String> = ["ObjectCreated"]
    let layout: StoreLayout
    let seen: Locked<[Bool]>

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        try FileManager.default.removeItem(at: layout.root.appendingPathComponent(record.s3.object.key))
        seen.withLock { $0.append(context.originalExists(record)) }
        return [:]
    }
}

@Suite struct BatchOverlapTests {
    /// A batch sweeps what a dead writer left in every area it writes, `failed/` too (until session 29 a killed
    /// batch's half-copied refusal stayed there for ever when no serve ran).
    @Test func aBatchSweepsADeadWritersLeftoversFromFailed() async throws {
        let (layout, inputs, work) = try Self.inputs(1)
        defer { try? FileManager.default.removeItem(at: work) }
        try layout.createFolders()
        let host = TemporaryOwner.current.host
        var left: [URL] = []
        for area in [layout.failed, layout.originals, layout.thumbnails] {
            let file = area.appendingPathComponent(".picpipe-tmp-\(host)-99999999-\(UUID().uuidString)")
            try Data([1]).write(to: file)
            left.append(file)
        }
        _ = try await Self.runner(layout, [LaterFunction(log: OverlapLog(), layout: layout)]).run(
            inputs, jobs: 1, progress: { _ in })
        for file in left { #expect(!FileManager.default.fileExists(atPath: file.path), "\(file.path)") }
    }

    /// A batch's function asks the disk whether the original is still there, not the bytes the batch read: a
    /// picture deleted by a serve beside the batch is gone for it too, so the thumbnail and metadata functions undo
    /// what they wrote (until session 29 it was always there for them, and the deleted picture's thumbnails and
    /// metadata row stayed for good).
    @Test func aFunctionSeesAnOriginalDeletedBesideTheBatch() async throws {
        let (layout, inputs, work) = try Self.inputs(2)
        defer { try? FileManager.default.removeItem(at: work) }
        let seen = Locked<[Bool]>([])
        _ = try await Self.runner(
            layout,
            [
                ComputeThenWriteFunction(log: OverlapLog(), layout: layout),
                DeletedBesideTheBatchFunction(layout: layout, seen: seen),
            ]
        ).run(inputs, jobs: 1, progress: { _ in })
        #expect(seen.withLock { $0 } == [false, false])
    }

    /// A store and `count` distinct files that sniff as JPEG.
    static func inputs(_ count: Int) throws -> (StoreLayout, [BatchInput], URL) {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("picpipe-overlap-\(UUID().uuidString)")
        let folder = work.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let inputs = try (0..<count).map { index -> BatchInput in
            let file = folder.appendingPathComponent("file-\(index).jpg")
            try Data([0xFF, 0xD8, 0xFF, 0xE0] + Array("picture \(index)".utf8)).write(to: file)
            return BatchInput(path: file.path)
        }
        return (StoreLayout(root: work.appendingPathComponent("store")), inputs, work)
    }

    /// A runner whose original writes are held back 20 ms each, longer than the functions compute: whatever does
    /// not wait for the original runs before it is on disk.
    static func runner(_ layout: StoreLayout, _ functions: [any PipelineFunction]) -> BatchRunner {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var runner = BatchRunner(layout: layout, functions: functions, maxFileBytes: 1 << 20, logger: logger)
        runner.beforeOriginalWrite = { Thread.sleep(forTimeInterval: 0.02) }
        return runner
    }

    @Test(arguments: [1, 2])
    func outputsFollowTheDurableOriginalAndJobsBoundTheComputing(jobs: Int) async throws {
        let (layout, inputs, work) = try Self.inputs(8)
        defer { try? FileManager.default.removeItem(at: work) }
        let log = OverlapLog()
        let summary = try await Self.runner(
            layout, [ComputeThenWriteFunction(log: log, layout: layout), LaterFunction(log: log, layout: layout)]
        ).run(inputs, jobs: jobs, progress: { _ in })
        #expect(summary.ok == 8)
        let seen = log.state.withLock { $0 }
        #expect(seen.writes.count == 8)
        #expect(seen.writes.allSatisfy { $0.originalOnDisk }, "an output was written before its original was durable")
        #expect(seen.writes.allSatisfy { $0.onWriteThread })
        #expect(seen.laterStarts == Array(repeating: true, count: 8))
        // -j N: never more than N files computing, but more in flight (one writes while another computes).
        #expect((1...jobs).contains(seen.mostComputing), "\(seen.mostComputing) computing at once")
        #expect(seen.mostInFlight > jobs)
        let outputs = try FileManager.default.contentsOfDirectory(atPath: layout.thumbnails.path)
            .filter { $0.hasSuffix(".txt") }
        #expect(outputs.count == 8)
    }

    @Test func aFunctionAfterOneWithoutOutputsStillStartsAfterTheOriginal() async throws {
        let (layout, inputs, work) = try Self.inputs(4)
        defer { try? FileManager.default.removeItem(at: work) }
        let log = OverlapLog()
        let summary = try await Self.runner(
            layout,
            [
                ComputeThenWriteFunction(log: log, layout: layout, writes: false),
                LaterFunction(log: log, layout: layout),
            ]
        ).run(inputs, jobs: 2, progress: { _ in })
        #expect(summary.ok == 4)
        let starts = log.state.withLock { $0.laterStarts }
        #expect(starts == Array(repeating: true, count: 4))
    }

    @Test func aRefusedFileLeavesNoOriginalEvenWhileItsWriteWasUnderWay() async throws {
        let (layout, inputs, work) = try Self.inputs(6)
        defer { try? FileManager.default.removeItem(at: work) }
        let log = OverlapLog()
        let summary = try await Self.runner(
            layout, [ComputeThenWriteFunction(log: log, layout: layout, fails: true)]
        ).run(inputs, jobs: 2, progress: { _ in })
        #expect(summary.failed == 6)
        // A write the runner did not wait for would land after the run: give it five times its hold.
        try await Task.sleep(for: .milliseconds(100))
        let originals = FileManager.default.enumerator(atPath: layout.originals.path)?.allObjects as? [String] ?? []
        #expect(originals.filter { $0.hasSuffix(".jpg") }.isEmpty, "\(originals)")
        let writes = log.state.withLock { $0.writes }
        #expect(writes.isEmpty)
        let failed = try FileManager.default.contentsOfDirectory(atPath: layout.failed.path)
        #expect(failed.filter { $0.hasSuffix(".error.json") }.count == 6)
    }

    @Test func anOriginalThatCannotBeWrittenGetsNoOutputs() async throws {
        let (layout, inputs, work) = try Self.inputs(1)
        defer { try? FileManager.default.removeItem(at: work) }
        // The original's shard folder is taken by a file: its write fails (as a full disk's would), after the
        // function has computed.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: inputs[0].path))
        let shard = bytes.withUnsafeBytes { ContentHash(of: $0) }.shard
        try layout.createFolders()
        try Data("in the way".utf8).write(to: layout.originals.appendingPathComponent(shard))
        let log = OverlapLog()
        let summary = try await Self.runner(
            layout, [ComputeThenWriteFunction(log: log, layout: layout), LaterFunction(log: log, layout: layout)]
        ).run(inputs, jobs: 1, progress: { _ in })
        #expect(summary.failed == 1)
        #expect(summary.failures.first?.error.contains(shard) == true, "\(summary.failures)")
        let seen = log.state.withLock { $0 }
        #expect(seen.writes.isEmpty)
        #expect(seen.laterStarts.isEmpty)
        let outputs = try FileManager.default.contentsOfDirectory(atPath: layout.thumbnails.path)
        #expect(outputs.filter { $0.hasSuffix(".txt") }.isEmpty)
    }
}
