// ISO 8601 UTC timestamps, as S3 event records and the journal write them; the formatters are made once (making
// one loads ICU data), not per event.
import Foundation
import Locking

/// Formats instants the way S3 does (`2026-11-26T19:35:42.123Z`).
public enum Timestamp {
    /// `ISO8601DateFormatter` is a class without `Sendable`; the mutex makes each use exclusive.
    private static let formatters = Locked(Formatters())

    private struct Formatters {
        let milliseconds: ISO8601DateFormatter = {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return formatter
        }()
        let seconds = ISO8601DateFormatter()
    }

    /// `date` in UTC, with milliseconds unless `fractional` is false.
    public static func string(_ date: Date, fractional: Bool = true) -> String {
        formatters.withLock { fractional ? $0.milliseconds.string(from: date) : $0.seconds.string(from: date) }
    }
}
