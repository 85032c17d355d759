// A function's Lambda-style settings.

/// How the runtime runs one function: the settings a Lambda function has.
public struct FunctionConfiguration: Codable, Sendable, Hashable {
    /// Seconds an invocation may run before it is cancelled and counted as an error.
    public var timeout: Double
    /// Memory bound in MiB; it bounds the pixels the function may decode.
    public var memoryMB: Int
    /// Reserved workers: invocations of this function that may run at once in this process (each worker process
    /// of a PostgreSQL installation runs this many).
    public var concurrency: Int
    /// The most invocations of this function running at once across every process of the installation (Lambda's
    /// reserved concurrency as a cap; `nil`: no cap beyond each process's workers). With PostgreSQL a claim counts
    /// the function's live claims in the database; with SQLite (one serve) it caps the workers.
    public var reservedConcurrency: Int?
    /// Retries after a failed asynchronous invocation (0-2), with backoff.
    public var maxRetries: Int
    /// Seconds after which a queued event goes to the dead-letter instead of running.
    public var maxEventAge: Double
    /// Where a finally failed event goes: `failed` (the dead-letter folder and the journal) or `none` (journal only).
    public var onFailure: String

    /// - Parameters: see the properties; defaults as AWS Lambda's where they exist.
    public init(
        timeout: Double = 30, memoryMB: Int = 1024, concurrency: Int = 1, maxRetries: Int = 2,
        maxEventAge: Double = 6 * 3600, onFailure: String = "failed", reservedConcurrency: Int? = nil
    ) {
        self.reservedConcurrency = reservedConcurrency
        self.timeout = timeout
        self.memoryMB = memoryMB
        self.concurrency = concurrency
        self.maxRetries = maxRetries
        self.maxEventAge = maxEventAge
        self.onFailure = onFailure
    }

    enum CodingKeys: String, CodingKey {
        case timeout
        case memoryMB = "memory_mb"
        case concurrency
        case maxRetries = "max_retries"
        case maxEventAge = "max_event_age"
        case onFailure = "on_failure"
        case reservedConcurrency = "reserved_concurrency"
    }

    /// Writes every key, `reserved_concurrency` too when it is not set (the configuration reference lists the
    /// keys by encoding the defaults).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(timeout, forKey: .timeout)
        try container.encode(memoryMB, forKey: .memoryMB)
        try container.encode(concurrency, forKey: .concurrency)
        try container.encode(maxRetries, forKey: .maxRetries)
        try container.encode(maxEventAge, forKey: .maxEventAge)
        try container.encode(onFailure, forKey: .onFailure)
        try container.encode(reservedConcurrency, forKey: .reservedConcurrency)
    }

    /// The workers one process runs: its `concurrency`, no more than the reserved concurrency.
    public var workersPerProcess: Int { max(1, min(concurrency, reservedConcurrency ?? concurrency)) }

    /// Decodes a partial configuration: every missing key keeps its default, so a config file names only
    /// what it changes.
    public init(from decoder: any Decoder) throws {
        let defaults = FunctionConfiguration()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            timeout: try container.decodeIfPresent(Double.self, forKey: .timeout) ?? defaults.timeout,
            memoryMB: try container.decodeIfPresent(Int.self, forKey: .memoryMB) ?? defaults.memoryMB,
            concurrency: try container.decodeIfPresent(Int.self, forKey: .concurrency) ?? defaults.concurrency,
            maxRetries: try container.decodeIfPresent(Int.self, forKey: .maxRetries) ?? defaults.maxRetries,
            maxEventAge: try container.decodeIfPresent(Double.self, forKey: .maxEventAge) ?? defaults.maxEventAge,
            onFailure: try container.decodeIfPresent(String.self, forKey: .onFailure) ?? defaults.onFailure,
            reservedConcurrency: try container.decodeIfPresent(Int.self, forKey: .reservedConcurrency))
    }

    /// The most pixels a decode may hold within the memory bound: a decoded RGBA pixel costs 4 bytes and
    /// the resize needs about as much again, so 8 bytes of the budget per pixel.
    public var maxPixels: Int { max(1, memoryMB) * 1024 * 1024 / 8 }
}
