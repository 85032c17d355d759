// Usage counts in this process's memory: right for one `serve`; several API processes need a shared counter.
import Foundation
import Locking
import PipelineCore

/// Token buckets and daily counts under one lock (a take is a few arithmetic operations).
public final class InProcessUsageCounter: UsageCounter {
    private let states = Locked<[String: UsageState]>([:])

    /// An empty counter.
    public init() {}

    public func take(subject: String, plan: UsagePlan, now: Date) async throws -> UsageDecision {
        // One lookup: the state is changed in place.
        states.withLock { $0[subject, default: UsageState(plan: plan, now: now)].take(plan: plan, now: now) }
    }
}
