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
    public func run(
        _ inputs: [BatchInput], jobs: Int, progress: @escaping @Sendable (BatchProgress) -> Void
    ) async throws -> BatchSummary {
        try layout.createFolders()
        AtomicFile.sweepTemporaries(in: layout.originals)
        AtomicFile.sweepTemporaries(in: layout.thumbnails)
        let start = ContinuousClock.now
        var counters = BatchProgress(
            done: 0, total: inputs.count, ok: 0, skipped: 0, failed: 0, elapsed: 0, lastFile: "", lastOutcome: .ok)
        var failures: [BatchSummary.Failure] = []
        await withTaskGroup(of: (String, BatchOutcome, String?).self) { group in
            var next = 0
            func addNext() {
                guard next < inputs.count else { return }
                let input = inputs[next]
                next += 1
                let sequence = Int64(next)
                group.addTask { await self.process(input, sequence: sequence) }
            }
            for _ in 0..<max(1, jobs) { addNext() }
            while let (file, outcome, error) = await group.next() {
                counters.done += 1
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
                progress(counters)
                addNext()
            }
        }
        let seconds = Self.seconds(since: start)
        return BatchSummary(
            ok: counters.ok, failed: counters.failed, skipped: counters.skipped, total: inputs.count, seconds: seconds,
            imagesPerSecond: seconds > 0 ? Double(counters.ok + counters.skipped) / seconds : 0,
            failures: failures.sorted { $0.file < $1.file }, store: layout.root.path)
    }

    /// One file: read, ingest, run each function; on failure, the dead letter.
    func process(_ input: BatchInput, sequence: Int64) async -> (String, BatchOutcome, String?) {
        let file = input.path
        var bytes: Data?
        var ingested: IngestedOriginal?
        do {
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            if size > maxFileBytes { throw IngestError.tooLarge(file: file, bytes: size, limit: maxFileBytes) }
            let data = try InputFile.read(file)
            bytes = data
            let originals = layout.handles(for: FunctionRole(write: [.originals]), function: "ingest")
            let original = try OriginalIngest.ingest(
                data, name: file, maxBytes: maxFileBytes, into: originals.handle(.originals, .write))
            ingested = original
            let record = S3EventRecord(
                name: .objectCreatedPut, bucket: layout.root.lastPathComponent, key: original.key, size: original.size,
                eTag: original.hash.hex, sequence: sequence, sourceName: file)
            var changed = !original.alreadyStored
            for function in functions where function.subscriptions.contains(record.eventName.family) {
                let configuration = configurations[function.name] ?? FunctionConfiguration()
                let context = FunctionContext(
                    configuration: configuration, store: layout.handles(for: function.role, function: function.name),
                    logger: logger, deadline: .now + .seconds(configuration.timeout),
                    invocationID: "batch-\(sequence)-\(function.name)", preloadedOriginal: data)
                let result = try await function.handle(record, context: context)
                if result["changed"] != .bool(false) { changed = true }
            }
            return (file, changed ? .ok : .skipped, nil)
        } catch {
            let reason = Self.reason(error, file: file)
            if let ingested, !ingested.alreadyStored {
                // The picture could not be processed: do not keep it among the originals.
                try? layout.handles(for: FunctionRole(write: [.originals]), function: "ingest")
                    .handle(.originals, .write).remove(ingested.relativePath)
            }
            let letter = DeadLetter(file: file, error: reason, stage: "batch", sha256: ingested?.hash.hex)
            do {
                let failed = try layout.handles(for: FunctionRole(write: [.failed]), function: "batch").handle(.failed, .write)
                try letter.store(bytes: bytes, name: file, in: failed)
            } catch {
                logger.error("could not record the failure of \(file) in failed/: \(error)")
            }
            return (file, .failed, reason)
        }
    }

    /// A sentence naming the file and the reason, without repeating the file name.
    static func reason(_ error: any Error, file: String) -> String {
        let text = String(describing: error)
        return text.hasPrefix(file + ": ") ? String(text.dropFirst(file.count + 2)) : text
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
