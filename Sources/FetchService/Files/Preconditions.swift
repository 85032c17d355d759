// The preconditions of RFC 9110 §13 that answer 412: If-Match, If-Unmodified-Since, and If-None-Match on a method
// that changes state (a GET's If-None-Match is a 304, `FileResponder.Conditions`).
import Foundation
import HTTPTypes

/// What a request's If-Match, If-Unmodified-Since and If-None-Match require of the representation it acts on.
struct Preconditions: Sendable {
    /// The If-Match value.
    var ifMatch: String?
    /// The If-Unmodified-Since date (seconds since 1970); a value that is no HTTP date is ignored, as RFC 9110 says.
    var unmodifiedSince: Int?
    /// The If-None-Match value.
    var ifNoneMatch: String?

    /// The preconditions of a request's fields.
    init(_ headers: HTTPFields) {
        ifMatch = headers[.ifMatch]
        unmodifiedSince = headers[.ifUnmodifiedSince].flatMap(HTTPDate.parse)
        ifNoneMatch = headers[.ifNoneMatch]
    }

    /// Whether the request states none of them.
    var isEmpty: Bool { ifMatch == nil && unmodifiedSince == nil && ifNoneMatch == nil }

    /// The current representation, as the preconditions compare it.
    struct State: Sendable {
        /// Its strong entity tag, quoted.
        var eTag: String
        /// Its Last-Modified (seconds since 1970), when known.
        var modified: Int?
    }

    /// A precondition that did not hold, with what it was compared to.
    enum Failure: Equatable, Sendable {
        /// If-Match names no tag of the current representation (or there is none).
        case ifMatch(current: String?)
        /// The representation was modified after the If-Unmodified-Since date (seconds since 1970).
        case ifUnmodifiedSince(modified: Int)
        /// If-None-Match names the current representation (`*`: there is one).
        case ifNoneMatch(current: String)
        /// The target kept changing while its preconditions were checked (a conditional write lost every race).
        case changing
    }

    /// The first precondition that fails for `state` (`nil`: the target does not exist), in RFC 9110 §13.2.2's order:
    /// If-Match, else If-Unmodified-Since; then, for a method that changes state, If-None-Match (for GET and HEAD a
    /// matching If-None-Match is a 304, which the caller answers).
    /// - Parameter changesState: PUT or DELETE.
    func failure(_ state: State?, changesState: Bool) -> Failure? {
        if let ifMatch {
            guard let state, Self.strongMatch(ifMatch, eTag: state.eTag) else { return .ifMatch(current: state?.eTag) }
        } else if let unmodifiedSince, let modified = state?.modified, modified > unmodifiedSince {
            // A target without a date (or none at all) ignores the field (RFC 9110 §13.1.4).
            return .ifUnmodifiedSince(modified: modified)
        }
        if changesState, let ifNoneMatch, let state, FileResponder.matches(ifNoneMatch, eTag: state.eTag) {
            return .ifNoneMatch(current: state.eTag)
        }
        return nil
    }

    /// Whether an If-Match value names the entity tag: `*`, or a listed tag equal to it by the strong comparison
    /// (RFC 9110 §8.8.3.2: a weak tag never matches).
    static func strongMatch(_ ifMatch: String, eTag: String) -> Bool {
        guard !eTag.hasPrefix("W/") else { return false }
        return ifMatch.split(separator: ",").contains { candidate in
            let tag = candidate.trimmingCharacters(in: .whitespaces)
            return tag == "*" || tag == eTag
        }
    }
}

extension APIError {
    /// 412: a precondition (If-Match, If-Unmodified-Since, If-None-Match) did not hold; nothing was done.
    /// - Parameter target: what the request acts on (`'doc'`, `the file`), for the message.
    static func preconditionFailed(_ failure: Preconditions.Failure, target: String) -> APIError {
        let reason: String
        switch failure {
        case .ifMatch(let current?):
            reason = "If-Match does not name the current ETag of \(target), \(current)"
        case .ifMatch(nil):
            reason = "If-Match needs \(target) to exist, and it does not"
        case .ifUnmodifiedSince(let modified):
            reason =
                "\(target) was modified after the If-Unmodified-Since date (Last-Modified: \(HTTPDate.format(modified)))"
        case .ifNoneMatch(let current):
            reason = "If-None-Match matches \(target), which exists (ETag \(current))"
        case .changing:
            reason = "\(target) kept changing while the preconditions were checked; send the request again"
        }
        return APIError(
            .preconditionFailed, code: "precondition_failed", message: "\(reason); nothing was done")
    }
}
