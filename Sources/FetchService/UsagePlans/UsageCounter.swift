// Where usage plans keep their counts: a token bucket and a daily count per caller. The seam a shared database
// implements so the limits hold across several API processes.
import Foundation
import PipelineCore

/// What one request's admission found.
public struct UsageDecision: Sendable, Equatable {
    /// Whether the request may go on.
    public var allowed: Bool
    /// The limit the headers report, the one closest to running out: the bucket's size, or the daily quota when
    /// only a quota is set or when fewer of the day's requests are left than tokens in the bucket.
    public var limit: Int
    /// Requests left under that limit now.
    public var remaining: Int
    /// Seconds until that limit is whole again (the bucket full, or the next UTC day).
    public var reset: Int
    /// For a refusal: seconds until a request would be admitted.
    public var retryAfter: Int?
    /// For a refusal: `rate` (the bucket is empty) or `quota` (the daily quota is used up).
    public var reason: String?

    /// - Parameters: see the properties.
    public init(allowed: Bool, limit: Int, remaining: Int, reset: Int, retryAfter: Int? = nil, reason: String? = nil) {
        self.allowed = allowed
        self.limit = limit
        self.remaining = remaining
        self.reset = reset
        self.retryAfter = retryAfter
        self.reason = reason
    }
}

/// Counts requests against usage plans.
///
/// An implementation takes one request atomically: a refill of the subject's bucket by the time passed, a check
/// of the bucket and of the day's count, and, when admitted, one token less and one more in the day's count.
/// The in-process one (`InProcessUsageCounter`) holds for one `serve`; a shared-database one holds across several.
public protocol UsageCounter: Sendable {
    /// Admits or refuses one request of `subject` under `plan` at `now`.
    func take(subject: String, plan: UsagePlan, now: Date) async throws -> UsageDecision
}

extension UsagePlan {
    /// The bucket's size: `burst`, else the rate rounded up, at least 1.
    public var bucketSize: Double { burst > 0 ? Double(burst) : max(1, rate.rounded(.up)) }
}

/// The arithmetic every `UsageCounter` shares, on the state one subject has.
public struct UsageState: Sendable, Equatable {
    /// Tokens in the bucket.
    public var tokens: Double
    /// When `tokens` was computed.
    public var updated: Date
    /// The UTC day (days since 1970) `used` counts.
    public var day: Int
    /// Requests admitted on that day.
    public var used: Int

    /// A full bucket and nothing used.
    public init(plan: UsagePlan, now: Date) {
        tokens = plan.bucketSize
        updated = now
        day = Self.day(of: now)
        used = 0
    }

    /// - Parameters: see the properties.
    public init(tokens: Double, updated: Date, day: Int, used: Int) {
        self.tokens = tokens
        self.updated = updated
        self.day = day
        self.used = used
    }

    static func day(of date: Date) -> Int { Int((date.timeIntervalSince1970 / 86_400).rounded(.down)) }

    /// Takes one request: refills, checks the quota then the bucket, and counts it when admitted.
    public mutating func take(plan: UsagePlan, now: Date) -> UsageDecision {
        let size = plan.bucketSize
        if plan.rate > 0 {
            tokens = min(size, tokens + max(0, now.timeIntervalSince(updated)) * plan.rate)
        } else {
            tokens = size
        }
        updated = now
        let today = Self.day(of: now)
        if today != day {
            day = today
            used = 0
        }
        let quotaUsed = plan.dailyQuota > 0 && used >= plan.dailyQuota
        let admitted = !quotaUsed && !(plan.rate > 0 && tokens < 1)
        if admitted {
            used += 1
            if plan.rate > 0 { tokens -= 1 }
        }
        return decision(admitted: admitted, plan: plan, now: now)
    }

    /// The decision a take reached, from the state it left (a shared counter computes that state in the database).
    /// - Parameter admitted: whether the take admitted the request.
    public func decision(admitted: Bool, plan: UsagePlan, now: Date) -> UsageDecision {
        let size = plan.bucketSize
        let toMidnight = max(1, Int((Double(day + 1) * 86_400 - now.timeIntervalSince1970).rounded(.up)))
        if !admitted {
            if plan.dailyQuota > 0, used >= plan.dailyQuota {
                return UsageDecision(
                    allowed: false, limit: plan.dailyQuota, remaining: 0, reset: toMidnight, retryAfter: toMidnight,
                    reason: "quota")
            }
            let wait = max(1, Int(((1 - tokens) / plan.rate).rounded(.up)))
            return UsageDecision(
                allowed: false, limit: Int(size), remaining: 0,
                reset: Int(((size - tokens) / plan.rate).rounded(.up)), retryAfter: wait, reason: "rate")
        }
        let inBucket = Int(tokens.rounded(.down))
        // With a rate and a quota, the headers describe the one that runs out first: the quota once it leaves no more
        // requests than the bucket (a tie is the quota's, whose wait is the longer). Until session 34 they described
        // the bucket until the quota refused, so the day's last request said one more was left.
        if plan.rate > 0, plan.dailyQuota == 0 || plan.dailyQuota - used > inBucket {
            return UsageDecision(
                allowed: true, limit: Int(size), remaining: inBucket,
                reset: Int(((size - tokens) / plan.rate).rounded(.up)))
        }
        return UsageDecision(
            allowed: true, limit: plan.dailyQuota, remaining: plan.dailyQuota - used, reset: toMidnight)
    }
}
