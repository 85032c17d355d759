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
        guard minimum > 0 else { return nil }
        let elapsed = ContinuousClock.now - start
        guard elapsed > Self.grace else { return nil }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Double(received) < Double(minimum) * seconds ? seconds : nil
    }
}
