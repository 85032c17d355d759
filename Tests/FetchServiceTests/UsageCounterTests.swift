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
}
