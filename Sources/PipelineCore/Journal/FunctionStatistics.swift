// The metering values of one function, as derived from the journal.

/// Per-function metering: what `picpipe stats` prints and `/metrics` exports.
public struct FunctionStatistics: Codable, Sendable, Equatable {
    /// The function.
    public var function: String
    /// Attempts run (each retry is an invocation, as Lambda counts them).
    public var invocations: Int
    /// Attempts that failed (including timeouts).
    public var errors: Int
    /// Attempts that were retries.
    public var retries: Int
    /// Invocations that had to wait because every reserved worker was busy.
    public var throttles: Int
    /// Invocations that ended in the dead-letter.
    public var deadLettered: Int
    /// Invocations that succeeded.
    public var succeeded: Int
    /// Invocations running now.
    public var running: Int
    /// Invocations waiting (queued or retrying).
    public var queueDepth: Int
    /// Seconds since the oldest waiting invocation was queued (0 when none waits).
    public var oldestQueuedAge: Double
    /// Sum over attempts of duration (s) × memory (GB).
    public var gbSeconds: Double
    /// Duration percentiles in seconds (nil when nothing ran).
    public var p50: Double?
    /// 99th percentile duration in seconds.
    public var p99: Double?
    /// Cumulative duration histogram: attempts that took at most `le` seconds.
    public var histogram: [HistogramBucket]

    /// - Parameters: see the properties.
    public init(
        function: String, invocations: Int, errors: Int, retries: Int, throttles: Int, deadLettered: Int,
        succeeded: Int, running: Int, queueDepth: Int, oldestQueuedAge: Double, gbSeconds: Double, p50: Double?,
        p99: Double?, histogram: [HistogramBucket]
    ) {
        self.function = function
        self.invocations = invocations
        self.errors = errors
        self.retries = retries
        self.throttles = throttles
        self.deadLettered = deadLettered
        self.succeeded = succeeded
        self.running = running
        self.queueDepth = queueDepth
        self.oldestQueuedAge = oldestQueuedAge
        self.gbSeconds = gbSeconds
        self.p50 = p50
        self.p99 = p99
        self.histogram = histogram
    }

    /// One cumulative histogram bucket.
    public struct HistogramBucket: Codable, Sendable, Equatable {
        /// The upper bound in seconds; `nil` for the last bucket, which counts every attempt.
        public var le: Double?
        /// Attempts at most that long.
        public var count: Int

        /// - Parameters: see the properties.
        public init(le: Double?, count: Int) {
            self.le = le
            self.count = count
        }

        enum CodingKeys: String, CodingKey {
            case le, count
        }

        /// The last bucket's bound, as Prometheus writes it (`le="+Inf"`).
        static let unbounded = "+Inf"

        /// `{"le": 0.5, "count": 3}`; the last bucket `{"le": "+Inf", "count": 9}` (until session 29 it had no
        /// `le`).
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            if let le {
                try container.encode(le, forKey: .le)
            } else {
                try container.encode(Self.unbounded, forKey: .le)
            }
            try container.encode(count, forKey: .count)
        }

        /// Reads what `encode` writes, and a last bucket without `le` (as written before session 29).
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            count = try container.decode(Int.self, forKey: .count)
            if (try? container.decode(String.self, forKey: .le)) == Self.unbounded {
                le = nil
            } else {
                le = try container.decodeIfPresent(Double.self, forKey: .le)
            }
        }
    }

    /// The histogram's upper bounds in seconds, before the unbounded last bucket.
    public static let bucketBounds: [Double] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    enum CodingKeys: String, CodingKey {
        case function, invocations, errors, retries, throttles
        case deadLettered = "dead_lettered"
        case succeeded, running
        case queueDepth = "queue_depth"
        case oldestQueuedAge = "oldest_queued_age"
        case gbSeconds = "gb_seconds"
        case p50, p99, histogram
    }
}
