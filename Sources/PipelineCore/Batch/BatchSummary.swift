// What a batch reports: per-file outcomes, progress, and the closing summary.

/// The outcome of one file.
public enum BatchOutcome: String, Sendable, Codable {
    /// Something new was stored (original, thumbnails or metadata).
    case ok
    /// Everything was already in the store.
    case skipped
    /// The file could not be processed; it went to `failed/`.
    case failed
}

/// Counters while a batch runs, for a progress display.
public struct BatchProgress: Sendable {
    /// Files finished so far.
    public var done: Int
    /// Files in the batch.
    public var total: Int
    /// Of those finished: stored, skipped, failed.
    public var ok: Int
    public var skipped: Int
    public var failed: Int
    /// Seconds since the batch started.
    public var elapsed: Double
    /// The file just finished, with its outcome and, when failed, the reason.
    public var lastFile: String
    public var lastOutcome: BatchOutcome
    public var lastError: String?

    /// - Parameters: see the properties (`picpipe thumbnails` shows its progress as a batch's).
    public init(
        done: Int, total: Int, ok: Int, skipped: Int, failed: Int, elapsed: Double, lastFile: String,
        lastOutcome: BatchOutcome, lastError: String? = nil
    ) {
        self.done = done
        self.total = total
        self.ok = ok
        self.skipped = skipped
        self.failed = failed
        self.elapsed = elapsed
        self.lastFile = lastFile
        self.lastOutcome = lastOutcome
        self.lastError = lastError
    }

    /// Files per second so far.
    public var rate: Double { elapsed > 0 ? Double(done) / elapsed : 0 }
    /// Estimated seconds left.
    public var eta: Double? { rate > 0 ? Double(total - done) / rate : nil }
}

/// The thumbnails a batch made in one format: how many, and their bytes.
public struct BatchOutputTotal: Sendable, Codable, Equatable {
    public var thumbnails: Int = 0
    public var bytes: Int = 0

    public init(thumbnails: Int = 0, bytes: Int = 0) {
        self.thumbnails = thumbnails
        self.bytes = bytes
    }

    /// The totals of the thumbnails a thumbnail function's result lists as made now (`format` and `bytes`).
    static func made(in result: FunctionResult) -> [String: BatchOutputTotal] {
        guard case .array(let entries)? = result["thumbnails"] else { return [:] }
        var totals: [String: BatchOutputTotal] = [:]
        for case .object(let entry) in entries {
            guard case .string(let format)? = entry["format"], case .int(let bytes)? = entry["bytes"] else { continue }
            totals[format, default: BatchOutputTotal()].thumbnails += 1
            totals[format, default: BatchOutputTotal()].bytes += bytes
        }
        return totals
    }

    /// Adds `other`'s counts by format.
    static func merge(_ other: [String: BatchOutputTotal], into totals: inout [String: BatchOutputTotal]) {
        for (format, total) in other {
            totals[format, default: BatchOutputTotal()].thumbnails += total.thumbnails
            totals[format, default: BatchOutputTotal()].bytes += total.bytes
        }
    }
}

/// The closing summary of a batch (`--json` prints it).
public struct BatchSummary: Sendable, Codable {
    /// A failed file and why.
    public struct Failure: Sendable, Codable {
        public var file: String
        public var error: String

        /// - Parameters: see the properties.
        public init(file: String, error: String) {
            self.file = file
            self.error = error
        }
    }

    public var ok: Int
    public var failed: Int
    public var skipped: Int
    public var total: Int
    public var seconds: Double
    public var imagesPerSecond: Double
    public var failures: [Failure]
    /// The store the batch wrote to.
    public var store: String
    /// Whether the batch was stopped (Ctrl-C) before every file was done.
    public var interrupted: Bool = false
    /// The thumbnails made by this run, by format (`jpeg`, `webp`, `avif`, `png`): count and bytes, so formats
    /// can be compared (`batch --also-formats webp,avif --json`).
    public var outputs: [String: BatchOutputTotal] = [:]

    enum CodingKeys: String, CodingKey {
        case ok, failed, skipped, total, seconds
        case imagesPerSecond = "images_per_second"
        case failures, store, interrupted, outputs
    }
}
