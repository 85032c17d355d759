// Tokens already verified, so a client sending the same token on every request pays for the signature and the
// claims once a minute, not per request (API Gateway's authorizers cache their answers the same way).
import Foundation
import Locking

/// A bounded memory of verified tokens: each kept until its `exp` (plus skew) or for 60 s, whichever is sooner,
/// so a key withdrawn from the JWKS stops being honoured within a minute.
final class VerifiedTokens: Sendable {
    private struct Entry {
        let caller: Caller
        let validUntil: Double
    }

    /// The most tokens kept; past it the memory starts again (a flood of distinct tokens costs verification, never
    /// memory).
    static let capacity = 10_000
    /// The longest a verification is reused, in seconds.
    static let lifetime: Double = 60

    private let entries = Locked<[String: Entry]>([:])

    /// The caller of a token verified before and still valid at `now`.
    func caller(for token: String, now: Double) -> Caller? {
        entries.withLock { entries in
            guard let entry = entries[token] else { return nil }
            guard now <= entry.validUntil else {
                entries[token] = nil
                return nil
            }
            return entry.caller
        }
    }

    /// Remembers a verified token until `expires` (the token's `exp` plus the skew), at most `lifetime` from now.
    func remember(_ token: String, caller: Caller, expires: Double, now: Double) {
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = Entry(caller: caller, validUntil: min(expires, now + Self.lifetime))
        }
    }
}
