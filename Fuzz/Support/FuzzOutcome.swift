// What one fuzz input did to a harness: the verdict the regression tests assert and the replay tool prints.

/// The result of running one input through a harness.
package enum FuzzOutcome: Sendable, Equatable, CustomStringConvertible {
    /// The code under test accepted the input and every invariant the harness checks held.
    case accepted(String)
    /// The code under test refused the input with an error value (the clean failure hostile bytes should get).
    case refused(String)
    /// The code returned, but something it promised does not hold (a thumbnail larger than its box, a range past
    /// the end of the file): a bug as real as a crash, so the fuzzer stops on it.
    case invariantBroken(String)

    package var description: String {
        switch self {
        case .accepted(let detail): return "accepted: \(detail)"
        case .refused(let reason): return "refused: \(reason)"
        case .invariantBroken(let problem): return "INVARIANT BROKEN: \(problem)"
        }
    }
}
