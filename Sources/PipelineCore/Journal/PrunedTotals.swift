// What the journal forgot when it pruned old finished work: kept per function as counts, so `stats` and `/metrics`
// go on counting from the first invocation (a Prometheus counter must never go down).

/// The counts of one function's pruned invocations and attempts.
public struct PrunedTotals: Sendable, Equatable {
    /// The function.
    public var function: String
    /// Attempts.
    public var invocations = 0
    /// Attempts that failed.
    public var errors = 0
    /// Attempts that were retries.
    public var retries = 0
    /// Invocations that waited for a busy worker.
    public var throttles = 0
    /// Invocations that succeeded (every pruned invocation did).
    public var succeeded = 0
    /// Duration × memory of the attempts, in GB-seconds.
    public var gbSeconds = 0.0
    /// Attempts at most each of `FunctionStatistics.bucketBounds` long.
    public var buckets = [Int](repeating: 0, count: FunctionStatistics.bucketBounds.count)

    /// No counts yet.
    public init(function: String) {
        self.function = function
    }

    /// These counts and `other`'s together.
    public func adding(_ other: PrunedTotals) -> PrunedTotals {
        var sum = self
        sum.invocations += other.invocations
        sum.errors += other.errors
        sum.retries += other.retries
        sum.throttles += other.throttles
        sum.succeeded += other.succeeded
        sum.gbSeconds += other.gbSeconds
        sum.buckets = zip(buckets, other.buckets).map { $0 + $1 }
        return sum
    }

    /// `statistics` of what is kept, with these counts added (percentiles stay those of what is kept).
    public func added(to statistics: FunctionStatistics) -> FunctionStatistics {
        var total = statistics
        total.invocations += invocations
        total.errors += errors
        total.retries += retries
        total.throttles += throttles
        total.succeeded += succeeded
        total.gbSeconds += gbSeconds
        total.histogram = total.histogram.enumerated().map { index, bucket in
            var bucket = bucket
            bucket.count += index < buckets.count ? buckets[index] : invocations
            return bucket
        }
        return total
    }

    /// The bucket counts as stored (`3,1,0,…`).
    public var bucketsText: String { buckets.map(String.init).joined(separator: ",") }

    /// Reads `bucketsText`; counts missing or unreadable are 0.
    public static func buckets(fromText text: String) -> [Int] {
        let read = text.split(separator: ",").map { Int($0) ?? 0 }
        return (0..<FunctionStatistics.bucketBounds.count).map { $0 < read.count ? read[$0] : 0 }
    }
}
