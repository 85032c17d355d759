// The token bucket and daily quota arithmetic of usage plans, on the in-process counter, with explicit times.
import Foundation
import PipelineCore
import Testing

@testable import FetchService

@Suite struct UsageCounterTests {
    static let noon = Date(timeIntervalSince1970: 20_000 * 86_400 + 43_200)

    @Test func burstThenRefillAtTheRate() async throws {
        let counter = InProcessUsageCounter()
        let plan = UsagePlan(rate: 2, burst: 4)
        for index in 0..<4 {
            let decision = try await counter.take(subject: "key:a", plan: plan, now: Self.noon)
            #expect(decision.allowed)
            #expect(decision.remaining == 3 - index)
        }
        let refused = try await counter.take(subject: "key:a", plan: plan, now: Self.noon)
        #expect(!refused.allowed)
        #expect(refused.reason == "rate")
        #expect(refused.retryAfter == 1)
        #expect(refused.reset == 2)
        // Half a second later one token (2 a second) is back; another subject has its own bucket.
        #expect(try await counter.take(subject: "key:a", plan: plan, now: Self.noon.addingTimeInterval(0.5)).allowed)
        #expect(!(try await counter.take(subject: "key:a", plan: plan, now: Self.noon.addingTimeInterval(0.5)).allowed))
        #expect(try await counter.take(subject: "key:b", plan: plan, now: Self.noon).allowed)
        // The bucket never holds more than the burst.
        let later = Self.noon.addingTimeInterval(3600)
        for _ in 0..<4 { #expect(try await counter.take(subject: "key:a", plan: plan, now: later).allowed) }
        #expect(!(try await counter.take(subject: "key:a", plan: plan, now: later).allowed))
    }

    @Test func dailyQuotaResetsAtUTCMidnight() async throws {
        let counter = InProcessUsageCounter()
        let plan = UsagePlan(dailyQuota: 3)
        for index in 0..<3 {
            let decision = try await counter.take(subject: "token:alice", plan: plan, now: Self.noon)
            #expect(decision.allowed)
            #expect(decision.limit == 3)
            #expect(decision.remaining == 2 - index)
        }
        let refused = try await counter.take(subject: "token:alice", plan: plan, now: Self.noon)
        #expect(!refused.allowed)
        #expect(refused.reason == "quota")
        #expect(refused.retryAfter == 43_200)
        let lastSecond = Self.noon.addingTimeInterval(43_199)
        #expect(!(try await counter.take(subject: "token:alice", plan: plan, now: lastSecond).allowed))
        let nextDay = Self.noon.addingTimeInterval(43_200)
        let reset = try await counter.take(subject: "token:alice", plan: plan, now: nextDay)
        #expect(reset.allowed)
        #expect(reset.remaining == 2)
    }

    @Test func quotaAndRateTogether() async throws {
        let counter = InProcessUsageCounter()
        let plan = UsagePlan(rate: 100, burst: 100, dailyQuota: 5)
        for _ in 0..<5 { #expect(try await counter.take(subject: "key:c", plan: plan, now: Self.noon).allowed) }
        let refused = try await counter.take(subject: "key:c", plan: plan, now: Self.noon)
        #expect(refused.reason == "quota")
    }

    /// With a rate and a daily quota, the headers report the limit closest to running out: the bucket while it
    /// leaves fewer requests (or as many) as the quota, the quota once fewer of the day's requests are left than
    /// tokens (Limit the quota, Reset to UTC midnight). Until session 34 they showed the bucket until the quota
    /// refused, so the day's last request said one more was left. The tester's plan: rate 1, burst 3, quota 5.
    @Test func theHeadersReportTheLimitClosestToRunningOut() async throws {
        let counter = InProcessUsageCounter()
        let plan = UsagePlan(rate: 1, burst: 3, dailyQuota: 5)
        var seen: [[Int]] = []
        for offset in [0.0, 0, 0, 3.5, 3.5, 3.5] {
            let decision = try await counter.take(subject: "key:ingest", plan: plan, now: Self.noon + offset)
            seen.append([decision.allowed ? 1 : 0, decision.limit, decision.remaining, decision.reset])
        }
        #expect(
            seen == [
                [1, 3, 2, 1],  // the bucket binds: 2 tokens left, 4 of the quota
                [1, 3, 1, 2],
                [1, 3, 0, 3],  // bucket empty; 2 of the quota left
                [1, 5, 1, 43_197],  // refilled to 3, took 1: 2 tokens, 1 of the quota: the quota binds
                [1, 5, 0, 43_197],  // the day's last request says so
                [0, 5, 0, 43_197],
            ], "\(seen)")
        // A bucket as low as the quota is reported as the quota: its Reset is the longer wait.
        let tied = try await InProcessUsageCounter().take(
            subject: "key:t", plan: UsagePlan(rate: 1, burst: 2, dailyQuota: 2), now: Self.noon)
        #expect(tied.limit == 2 && tied.remaining == 1 && tied.reset == 43_200, "\(tied)")
        // A refusal by the rate while the quota has requests left reports the bucket.
        let busy = InProcessUsageCounter()
        let wide = UsagePlan(rate: 1, burst: 1, dailyQuota: 100)
        _ = try await busy.take(subject: "key:w", plan: wide, now: Self.noon)
        let refused = try await busy.take(subject: "key:w", plan: wide, now: Self.noon)
        #expect(refused.reason == "rate")
        #expect(refused.limit == 1 && refused.remaining == 0 && refused.reset == 1, "\(refused)")
    }
}
