// The slowest an upload may arrive (`http.min_upload_rate`): after a grace period its average rate must stay above
// the minimum, or it is cut. A body trickled a byte at a time, just within the idle timeout, would otherwise hold an
// upload slot (and a file descriptor) for as long as the client likes.

/// The average-rate check of one body, as its bytes arrive.
package struct UploadPace: Sendable {
    /// The slowest average rate, bytes per second (0: no minimum).
    package let minimum: Int
    /// When the body's first byte was awaited.
    private let start = ContinuousClock.now
    /// The bytes counted so far.
    package private(set) var received = 0

    /// How long a body may arrive at any rate before the minimum applies (TCP slow start, a phone waking up).
    package static let grace: Duration = .seconds(10)

    /// - Parameter minimum: `http.min_upload_rate`.
    package init(minimum: Int) {
        self.minimum = minimum
    }

    /// Counts `bytes` more.
    /// - Returns: the seconds taken when the average has fallen under the minimum after the grace period, else nil.
    package mutating func count(_ bytes: Int) -> Double? {
        received += bytes
        return Self.verdict(received: received, elapsed: ContinuousClock.now - start, minimum: minimum)
    }

    /// The rule: `received` bytes `elapsed` after the body was first awaited are too slow when the grace period is
    /// over and they average under `minimum` bytes/s.
    /// - Returns: the seconds taken when they are too slow, else nil (and always nil without a minimum).
    package static func verdict(received: Int, elapsed: Duration, minimum: Int) -> Double? {
        guard minimum > 0, elapsed > grace else { return nil }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Double(received) < Double(minimum) * seconds ? seconds : nil
    }

    /// How long after the body was first awaited `received` bytes keep the average at `minimum` (> 0) if no more
    /// come: the moment a body that stopped is too slow (a check on arrival alone never comes for it).
    package static func allowance(received: Int, minimum: Int) -> Duration {
        max(grace, .seconds(Double(received) / Double(minimum)))
    }
}

/// A body was cut by the connection for averaging under `http.min_upload_rate` (`ExpectContinue.bodyWanted`'s
/// timed check): the error its reader meets instead of its next bytes. Routes answer it as their "too slow"
/// (408 `upload_too_slow`, S3's `RequestTimeout`).
package struct BodyTooSlow: Error {
    /// The body's bytes that arrived.
    package var received: Int
    /// The seconds since the body began (its first byte, or the route's asking for it if that came first).
    package var seconds: Double
    /// `http.min_upload_rate`.
    package var minimum: Int
}
