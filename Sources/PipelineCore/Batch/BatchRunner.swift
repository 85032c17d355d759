// `picpipe batch`: ingest each file, then run every function on it synchronously, N files at a time.
import Foundation
import Logging

/// Runs a batch of files through ingest and the functions, the way `serve` would, but synchronously.
///
/// One bad file is a failure record (reported, copied to `failed/` with its `.error.json`), never the end
/// of the batch. Functions run in order; a function that fails stops the later ones for that file, and an
/// original stored by this run for a file that then failed is removed again, so the store keeps only
/// pictures that could be processed.
public struct BatchRunner: Sendable {
    /// The store.
    public let layout: StoreLayout
    /// The functions, in the order they run (thumbnail first: its full decode validates the picture).
    public let functions: [any PipelineFunction]
    /// Settings per function name; missing names use the defaults.
    public let configurations: [String: FunctionConfiguration]
    /// The largest input accepted.
    public let maxFileBytes: Int
    /// Where diagnostics go.
    public let logger: Logger
    /// Runs on the write thread before each original is written: tests hold the write back with it, to show that
    /// everything which must wait for the original does.
    var beforeOriginalWrite: (@Sendable () -> Void)?
    /// Where a failure for lack of space is told (once a run): the process's, or a test's own.
    var health = StoreHealth.shared

    /// - Parameters: see the properties.
    public init(
        layout: StoreLayout, functions: [any PipelineFunction], configurations: [String: FunctionConfiguration] = [:],
        maxFileBytes: Int, logger: Logger
    ) {
        self.layout = layout
        self.functions = functions
        self.configurations = configurations
        self.maxFileBytes = maxFileBytes
        self.logger = logger
    }

    /// Processes `inputs`, `jobs` files at a time, calling `progress` after each file.
    ///
    /// Files with the same content count the same way in every run: the first copy to reach the store does the
    /// work and gets the outcome, every other copy is `skipped` (or `failed` with the same reason).
    /// - Parameters:
    ///   - unreadable: what the walk could not read (`BatchInput.Discovery.unreadable`): failed before the run starts,
    ///     each reported through `progress` first and counted in the summary, with no dead letter (a folder holds no
    ///     bytes to keep, and nothing would remove its record once it is readable).
    ///   - shouldStop: asked before each new file is started; once it says `true` (Ctrl-C), no new file starts, the
    ///     running ones finish, and the summary says `interrupted`.
    ///   - hardStop: what a second Ctrl-C stops at once (`BatchHardStop.stopNow()`): every store write of the run
    ///     goes through it, and it knows the originals stored for files not finished.
    public func run(
        _ inputs: [BatchInput], unreadable: [BatchSummary.Failure] = [], jobs: Int,
        shouldStop: @escaping @Sendable () -> Bool = { false }, hardStop: BatchHardStop = BatchHardStop(),
        progress: @escaping @Sendable (BatchProgress) -> Void
    ) async throws -> BatchSummary {
        try layout.createFolders()
        // Every area a batch writes, failed/ too (until session 29 a killed batch's half-copied refusal there stayed).
        for area in [layout.originals, layout.thumbnails, layout.failed] { AtomicFile.sweepTemporaries(in: area) }
        let start = ContinuousClock.now
        var counters = BatchProgress(
            done: 0, total: inputs.count + unreadable.count, ok: 0, skipped: 0, failed: 0, elapsed: 0, lastFile: "",
            lastOutcome: .ok)
        var failures: [BatchSummary.Failure] = []
        hardStop.attach(total: counters.total) { unfinished in
            await self.takeBack(unfinished.original, sequence: unfinished.sequence, file: unfinished.file)
        }
        for failure in unreadable {
            counters.done += 1
            counters.failed += 1
            failures.append(failure)
            counters.lastFile = failure.file
            counters.lastOutcome = .failed
            counters.lastError = failure.error
            hardStop.progress(done: counters.done)
            progress(counters)
        }
        let duplicates = BatchDuplicates()
        var outputs: [String: BatchOutputTotal] = [:]
        let lanes = BatchLanes(jobs)
        // Twice the lanes: while one file waits for the disk, another has its lane.
        let inFlight = 2 * max(1, jobs)
        // One input buffer for each file in flight, reused from file to file.
        let buffers = InputBuffers(keeping: inFlight)
        await withTaskGroup(of: (String, BatchOutcome, String?, [String: BatchOutputTotal]).self) { group in
            var next = 0
            func addNext() {
                guard next < inputs.count, !shouldStop() else { return }
                let input = inputs[next]
                next += 1
                let sequence = Int64(next)
                group.addTask {
                    await lanes.holding {
                        await self.process(
                            input, sequence: sequence, duplicates: duplicates, lanes: lanes, buffers: buffers,
                            hardStop: hardStop)
                    }
                }
                // Overlap the next file's read with this one's decode.
                if next < inputs.count { InputFile.prefetch(inputs[next].path) }
            }
            for _ in 0..<inFlight { addNext() }
            while let (file, outcome, error, made) = await group.next() {
                counters.done += 1
                BatchOutputTotal.merge(made, into: &outputs)
                switch outcome {
                case .ok: counters.ok += 1
                case .skipped: counters.skipped += 1
                case .failed:
                    counters.failed += 1
                    failures.append(.init(file: file, error: error ?? "unknown error"))
                }
                counters.elapsed = Self.seconds(since: start)
                counters.lastFile = file
                counters.lastOutcome = outcome
                counters.lastError = error
                hardStop.progress(done: counters.done)
                progress(counters)
                addNext()
            }
        }
        let seconds = Self.seconds(since: start)
        return BatchSummary(
            ok: counters.ok, failed: counters.failed, skipped: counters.skipped, total: counters.total,
            seconds: seconds, imagesPerSecond: seconds > 0 ? Double(counters.ok + counters.skipped) / seconds : 0,
            failures: failures.sorted { $0.file < $1.file }, store: layout.root.path,
            interrupted: counters.done < counters.total, outputs: outputs)
    }

    /// One file: read, ingest, run each function; on failure, the dead letter. Called holding one of `lanes`.
    func process(
        _ input: BatchInput, sequence: Int64, duplicates: BatchDuplicates, lanes: BatchLanes, buffers: InputBuffers,
        hardStop: BatchHardStop = BatchHardStop()
    ) async -> (
        String, BatchOutcome, String?, [String: BatchOutputTotal]
    ) {
        let file = input.path
        var bytes: Data?
        var ingested: IngestedOriginal?
        var originalWrite: Task<Bool, any Error>?
        var owner = false
        do {
            // One pass over the bytes: hashed as they are read (the size is checked before any is read).
            let (data, hash) = try InputFile.read(file, maxBytes: maxFileBytes, hashing: true, buffers: buffers)
            bytes = data
            let originals = try layout.handles(for: FunctionRole(write: [.originals]), function: "ingest")
                .handle(.originals, .write)
            let original = try OriginalIngest.prepare(data, name: file, maxBytes: maxFileBytes, hash: hash)
            ingested = original
            if await duplicates.claim(original.hash, file: file) != nil {
                // A copy of a file already in this batch: its outcome is the first copy's, awaited without a lane
                // (the first copy may need one to finish).
                switch try await lanes.away({ await duplicates.outcome(of: original.hash) }) {
                case .succeeded: return (file, .skipped, nil, [:])
                case .failed(let reason, let noSpace): throw SameContentFailed(reason: reason, noSpace: noSpace)
                }
            }
            owner = true
            // The original goes to disk beside the functions' work, which reads it from memory. Nothing that names
            // the picture comes before it is durable: the first function's outputs wait for it (`BatchOutputWriter`),
            // the next functions start after it.
            let hold = beforeOriginalWrite
            let write = Task {
                try await StoreWriteThreads.shared.run {
                    hold?()
                    return try hardStop.write {
                        let stored = try OriginalIngest.store(data, as: original, into: originals)
                        if stored { hardStop.stored(original, sequence: sequence, file: file) }
                        return stored
                    }
                }
            }
            originalWrite = write
            let record = S3EventRecord(
                name: .objectCreatedPut, bucket: layout.root.lastPathComponent, key: original.key, size: original.size,
                eTag: original.hash.hex, sequence: sequence, sourceName: file)
            var changed = false
            var made: [String: BatchOutputTotal] = [:]
            // batch reports each file's outcome itself: the functions' own lines would say it twice.
            var functionLogger = logger
            functionLogger.logLevel = .critical
            for (position, function) in functions.filter({ $0.subscriptions.contains(record.eventName.family) })
                .enumerated()
            {
                if position > 0 { _ = try await write.value }
                let configuration = configurations[function.name] ?? FunctionConfiguration()
                let context = FunctionContext(
                    configuration: configuration, store: layout.handles(for: function.role, function: function.name),
                    // batch runs no timeout (a big picture on a busy machine is not an error): a deadline far off.
                    logger: functionLogger, deadline: .now + .seconds(365 * 86_400),
                    invocationID: "batch-\(sequence)-\(function.name)", preloadedOriginal: data,
                    outputWriter: BatchOutputWriter(original: write, lanes: lanes, hardStop: hardStop),
                    // The original is this run's, maybe not on disk yet: gone, it was deleted by a serve beside.
                    missingOriginalWasDeleted: true)
                let result = try await function.handle(record, context: context)
                if result["changed"] != .bool(false) { changed = true }
                BatchOutputTotal.merge(BatchOutputTotal.made(in: result), into: &made)
            }
            if try await write.value { changed = true }
            hardStop.finished(original.hash)
            await duplicates.finish(original.hash, .succeeded)
            // An earlier run's dead letter of this file is stale now (until session 27 it stayed in failed/).
            if let failed = try? layout.handles(for: FunctionRole(write: [.failed]), function: "batch").handle(
                .failed, .write)
            {
                DeadLetter.clear(file: file, name: file, stage: "batch", sha256: original.hash.hex, in: failed)
            }
            return (file, changed ? .ok : .skipped, nil, made)
        } catch {
            // A write that found the disk full, the store's files' or a database's (SQLite's SQLITE_FULL, which no
            // store write reports: until session 31 the user saw only SQLite's own error, without the run's one line
            // that the disk is full and what to do).
            let disk = health.recordFailure(error, path: layout.databases.path)
            let noSpace = (error as? SameContentFailed)?.noSpace ?? (disk?.label == "full")
            let reason =
                noSpace && disk != nil && !(error is StoreError)
                ? "a database in \(layout.databases.path) could not be written: No space left on device"
                : Self.reason(error, file: file)
            if owner, let ingested {
                await duplicates.finish(ingested.hash, .failed(reason: reason, noSpace: noSpace))
            }
            if let ingested, let originalWrite, (try? await originalWrite.value) == true {
                // The picture could not be processed: do not keep the original this run stored, nor what the
                // functions made of it before one failed (until session 27 a 128 px thumbnail written before the
                // 256 px one failed on a full disk stayed behind): the clean-up of an HTTP DELETE.
                await takeBack(ingested, sequence: sequence, file: file)
                hardStop.finished(ingested.hash)
            }
            // No dead letter for a file that failed for lack of space: its input is still where it was, the run
            // says it failed and the next run takes it, and a copy in failed/ would take the room its roll-back has
            // just freed, so every file after it failed too (until session 31 it was copied there, and a full disk
            // held more copies of failed inputs than pictures).
            if noSpace { return (file, .failed, reason, [:]) }
            let letter = DeadLetter(file: file, error: reason, stage: "batch", sha256: ingested?.hash.hex)
            do {
                let failed = try layout.handles(for: FunctionRole(write: [.failed]), function: "batch").handle(
                    .failed, .write)
                try letter.store(bytes: bytes, name: file, in: failed)
            } catch {
                logger.error("could not record the failure of \(file) in failed/: \(error)")
            }
            return (file, .failed, reason, [:])
        }
    }

    /// Removes an original this run stored for a file that failed (or was cut short by a second Ctrl-C), then what
    /// its functions made. Best effort: the file is reported failed (or the run ends) whatever happens here.
    func takeBack(_ original: IngestedOriginal, sequence: Int64, file: String) async {
        try? layout.handles(for: FunctionRole(write: [.originals]), function: "ingest")
            .handle(.originals, .write).remove(original.relativePath)
        await cleanUp(original, sequence: sequence, file: file)
    }

    /// Runs the `ObjectRemoved` functions for an original this run stored and then removed: nothing of a failed
    /// file stays (thumbnails, a metadata row). Best effort: the file is reported failed whatever happens here.
    private func cleanUp(_ original: IngestedOriginal, sequence: Int64, file: String) async {
        let record = S3EventRecord(
            name: .objectRemovedDelete, bucket: layout.root.lastPathComponent, key: original.key, size: original.size,
            eTag: original.hash.hex, sequence: sequence, sourceName: file)
        var quiet = logger
        quiet.logLevel = .critical
        for function in functions where function.subscriptions.contains(record.eventName.family) {
            let context = FunctionContext(
                configuration: configurations[function.name] ?? FunctionConfiguration(),
                store: layout.handles(for: function.role, function: function.name), logger: quiet,
                deadline: .now + .seconds(365 * 86_400), invocationID: "batch-\(sequence)-\(function.name)-removed")
            do {
                _ = try await function.handle(record, context: context)
            } catch {
                logger.error("could not clean up after \(file) failed: \(Self.reason(error, file: file))")
            }
        }
    }

    /// The reason alone: the file is named beside it, so a leading `FILE: ` or a trailing `: FILE` goes.
    public static func reason(_ error: any Error, file: String) -> String {
        let text = String(describing: error)
        if text.hasPrefix(file + ": ") { return String(text.dropFirst(file.count + 2)) }
        if text.hasSuffix(": " + file) { return String(text.dropLast(file.count + 2)) }
        // `open failed for in/x.jpg: …` after `in/x.jpg: ` named the file twice (until session 27).
        if let range = text.range(of: " for " + file + ": ") { return text.replacingCharacters(in: range, with: ": ") }
        return text
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// A copy of a file whose content already failed in this batch: the same reason.
struct SameContentFailed: Error, CustomStringConvertible {
    var reason: String
    /// The first copy failed for lack of space (this one then keeps no dead letter either).
    var noSpace = false
    var description: String { reason }
}
