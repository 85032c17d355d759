// Usage plans applied to requests: the caller's plan, one take from the counter, the X-RateLimit-* headers, 429
// with Retry-After past the limit, and counts in /metrics.
import Foundation
import HTTPTypes
import Hummingbird
import Locking
import PipelineCore
import Prometheus

/// Applies `auth.usage_plan` (and each API key's own plan) to identified callers; anonymous requests are not
/// counted (they can only reach what needs no credentials).
public struct UsageLimiter: Sendable {
    private var defaultPlan: UsagePlan
    private var keyPlans: [String: UsagePlan]
    private let counter: any UsageCounter
    private let metrics: UsageMetrics

    /// - Parameters:
    ///   - auth: the plans.
    ///   - counter: where the counts live.
    ///   - registry: where the counts are shown (`picpipe_usage_*`).
    public init(auth: AuthSettings, counter: any UsageCounter = InProcessUsageCounter(), registry: PrometheusCollectorRegistry) {
        defaultPlan = auth.usagePlan
        keyPlans = Self.keyPlans(of: auth)
        self.counter = counter
        metrics = UsageMetrics(registry: registry)
    }

    /// The same counts and metrics under the plans of `auth` (a reload: what callers used so far still counts).
    public func withPlans(of auth: AuthSettings) -> UsageLimiter {
        var next = self
        next.defaultPlan = auth.usagePlan
        next.keyPlans = Self.keyPlans(of: auth)
        return next
    }

    /// Each scoped key's own plan, by key name.
    private static func keyPlans(of auth: AuthSettings) -> [String: UsagePlan] {
        var plans: [String: UsagePlan] = [:]
        for key in auth.apiKeys { if let plan = key.usagePlan { plans[key.name] = plan } }
        return plans
    }

    static let limitHeader = HTTPField.Name("X-RateLimit-Limit")!
    static let remainingHeader = HTTPField.Name("X-RateLimit-Remaining")!
    static let resetHeader = HTTPField.Name("X-RateLimit-Reset")!

    /// Whether any plan limits anything (else nothing is counted and no header added).
    public var isActive: Bool { defaultPlan.isLimited || keyPlans.values.contains(where: \.isLimited) }

    /// The caller's plan.
    func plan(for caller: Caller) -> UsagePlan {
        caller.planName.flatMap { keyPlans[$0] } ?? defaultPlan
    }

    /// Takes one request of the caller.
    /// - Returns: the headers to add to the answer (none when the caller's plan limits nothing).
    /// - Throws: `APIError` 429 with `Retry-After` and the headers, past the limit.
    func admit(_ caller: Caller?, now: Date = Date()) async throws -> HTTPFields {
        guard let caller else { return [:] }
        let plan = plan(for: caller)
        guard plan.isLimited else { return [:] }
        let decision = try await counter.take(subject: caller.subject, plan: plan, now: now)
        var headers = HTTPFields()
        headers[Self.limitHeader] = String(decision.limit)
        headers[Self.remainingHeader] = String(decision.remaining)
        headers[Self.resetHeader] = String(decision.reset)
        metrics.record(subject: caller.subject, refusal: decision.allowed ? nil : decision.reason)
        guard decision.allowed else {
            let wait = decision.retryAfter ?? 1
            headers[.retryAfter] = String(wait)
            let what =
                decision.reason == "quota"
                ? "the daily quota of \(plan.dailyQuota) requests is used up"
                : "over the rate of \(plan.rate) requests a second (burst \(Int(plan.bucketSize)))"
            throw APIError(
                .tooManyRequests, code: "too_many_requests",
                message: "\(caller.subject): \(what); retry in \(wait) s", headers: headers)
        }
        return headers
    }
}

/// `picpipe_usage_requests_total{subject}` and `picpipe_usage_throttled_total{subject,reason}`.
final class UsageMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    /// Each subject's counters, made on its first request: a request costs one lookup by its subject.
    private let subjects = Locked<[String: SubjectCounters]>([:])

    /// One subject's instruments.
    private struct SubjectCounters: Sendable {
        let requests: Counter
        let rate: Counter
        let quota: Counter
    }

    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    func record(subject: String, refusal: String?) {
        let counters = subjects.withLock { subjects in
            if let counters = subjects[subject] { return counters }
            let made = SubjectCounters(
                requests: counter("requests", subject: subject, reason: nil),
                rate: counter("throttled", subject: subject, reason: "rate"),
                quota: counter("throttled", subject: subject, reason: "quota"))
            subjects[subject] = made
            return made
        }
        counters.requests.increment()
        switch refusal {
        case "rate"?: counters.rate.increment()
        case "quota"?: counters.quota.increment()
        default: break
        }
    }

    private func counter(_ name: String, subject: String, reason: String?) -> Counter {
        var labels = [("subject", subject)]
        if let reason { labels.append(("reason", reason)) }
        return registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "picpipe", metricName: "usage_\(name)", unitName: "total",
                helpText: name == "requests"
                    ? "Requests counted against usage plans, by caller (key:NAME or token:SUB)."
                    : "Requests refused with 429 by usage plans, by caller and reason (rate or quota)."),
            labels: labels)
    }
}
