// Making the configured thumbnails the stored pictures lack (a size added to the configuration, a new quality or
// format), through the thumbnail function as the HTTP API makes a missing one: its timeout, memory bound, journal.
import Foundation
import PipelineCore

/// Gives every original of the store the configured thumbnails it lacks, `jobs` originals at a time, each a
/// RequestResponse call of the thumbnail function (journaled as a thumbnail request, as a GET that makes one is). A
/// call that fails leaves the original as it is: a picture refused now (a lowered pixel limit) stays in the store.
public struct ThumbnailBackfill: Sendable {
    /// Where the function runs.
    public let runtime: FunctionRuntime
    /// What the store holds and lacks.
    public let inventory: ThumbnailInventory
    /// Originals worked on at once.
    public let jobs: Int

    /// - Parameters: see the properties.
    public init(runtime: FunctionRuntime, inventory: ThumbnailInventory, jobs: Int) {
        self.runtime = runtime
        self.inventory = inventory
        self.jobs = max(1, jobs)
    }

    /// An original that lacks thumbnails, with what it lacks.
    public struct Work: Sendable {
        public var original: StoredOriginal
        public var missing: [ThumbnailRecipe]
    }

    /// Where a run stands, after each original.
    public struct Progress: Sendable {
        public var done = 0
        public var total = 0
        public var failed = 0
        public var elapsed: Double = 0
        /// The original just finished, and why it failed when it did.
        public var lastKey = ""
        public var lastError: String?
    }

    /// What a run did.
    public struct Summary: Sendable, Codable, Equatable {
        /// Originals looked at, and those that had every configured thumbnail already.
        public var checked = 0
        public var complete = 0
        /// Originals given thumbnails now, and how many thumbnails that was.
        public var made = 0
        public var thumbnails = 0
        /// Originals whose thumbnails could not be made (each in `failures`), and originals deleted meanwhile.
        public var failed = 0
        public var gone = 0
        public var failures: [Failure] = []
        /// Originals not started because the run was interrupted.
        public var notStarted = 0
        public var interrupted = false
        public var seconds: Double = 0

        /// An original whose thumbnails could not be made, and why.
        public struct Failure: Sendable, Codable, Equatable {
            public var key: String
            public var error: String
        }

        public init() {}

        enum CodingKeys: String, CodingKey {
            case checked, complete, made, thumbnails, failed, gone, failures, interrupted, seconds
            case notStarted = "not_started"
        }
    }

    /// The originals of `originals` that lack a configured thumbnail, with what each lacks.
    public func work(in originals: [StoredOriginal]) -> [Work] {
        originals.compactMap { original in
            let missing = inventory.missing(for: original.hash)
            return missing.isEmpty ? nil : Work(original: original, missing: missing)
        }
    }

    /// Makes what `work` lacks, `jobs` at a time; once `shouldStop` says so no original is started, the running ones
    /// finish, and the summary says `interrupted`.
    /// - Parameters:
    ///   - checked: how many originals were looked at (the summary's `checked`; those not in `work` are complete).
    public func run(
        _ work: [Work], checked: Int, shouldStop: @escaping @Sendable () -> Bool = { false },
        progress: @escaping @Sendable (Progress) -> Void = { _ in }
    ) async -> Summary {
        let clock = ContinuousClock()
        let start = clock.now
        var summary = Summary()
        summary.checked = checked
        summary.complete = checked - work.count
        var state = Progress(total: work.count)
        await withTaskGroup(of: (StoredOriginal, Outcome).self) { group in
            var next = 0
            func startNext() {
                guard next < work.count, !shouldStop() else { return }
                let original = work[next].original
                next += 1
                group.addTask { (original, await self.make(original)) }
            }
            for _ in 0..<jobs { startNext() }
            while let (original, outcome) = await group.next() {
                state.done += 1
                state.lastKey = original.key
                state.lastError = nil
                switch outcome {
                case .made(let count):
                    summary.made += 1
                    summary.thumbnails += count
                case .gone:
                    summary.gone += 1
                case .failed(let reason):
                    summary.failed += 1
                    summary.failures.append(.init(key: original.key, error: reason))
                    state.failed += 1
                    state.lastError = reason
                }
                let elapsed = start.duration(to: clock.now)
                state.elapsed = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                progress(state)
                startNext()
            }
            summary.notStarted = work.count - next
        }
        summary.interrupted = summary.notStarted > 0
        summary.seconds = state.elapsed
        return summary
    }

    private enum Outcome: Sendable {
        case made(Int)
        case gone
        case failed(String)
    }

    /// One RequestResponse call of the thumbnail function for `original`.
    private func make(_ original: StoredOriginal) async -> Outcome {
        let record = S3EventRecord(
            name: .objectCreatedPut, bucket: runtime.layout.root.lastPathComponent, key: original.key,
            size: original.bytes, eTag: original.hash.hex, sequence: 0)
        let response: InvocationResponse
        do {
            response = try await runtime.invoke(
                function: "thumbnail", record: record, type: .requestResponse,
                options: InvocationOptions(journaledAs: .thumbnailRequested))
        } catch {
            return .failed(String(describing: error))
        }
        guard case .object(let payload)? = response.payload else { return .failed("the function answered nothing") }
        if payload["skipped"] != nil || payload["errorType"] == .string("NoSuchKey") { return .gone }
        if response.failed {
            guard case .string(let message)? = payload["errorMessage"] else {
                return .failed("the thumbnail function failed")
            }
            // The function names the file first; the summary names it already.
            return .failed(
                message.hasPrefix(original.key + ": ") ? String(message.dropFirst(original.key.count + 2)) : message)
        }
        guard case .array(let entries)? = payload["thumbnails"] else { return .made(0) }
        return .made(
            entries.filter {
                if case .object(let entry) = $0, entry["created"] == .bool(true) { return true }
                return false
            }.count)
    }
}
