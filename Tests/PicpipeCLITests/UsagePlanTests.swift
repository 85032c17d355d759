// Usage plans through the real `serve`: a key's burst, then 429 with Retry-After and X-RateLimit-*, counts in
// /metrics; a daily quota; a rate and a quota, whose headers report the quota once it binds; a key with its own plan
// beside one under the default plan.
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct UsagePlanTests {
        static let slowKey = "slow-key-0123456789ab"
        static let quotaKey = "quota-key-0123456789a"
        static let freeKey = "free-key-0123456789ab"
        static let bothKey = "both-key-0123456789ab"

        @Test func burstThenTooManyRequestsWithRetryAfter() async throws {
            let root = try PicpipeProcess.temporaryFolder("usage")
            defer { try? FileManager.default.removeItem(at: root) }
            // One request per 100 s after a burst of 3: the 4th waits about 100 s.
            let (serve, base) = try await OIDCAuthTests.serve(
                in: root,
                config: """
                    http:
                      protect_reads: true
                    auth:
                      usage_plan: {rate: 0.01, burst: 3}
                      api_keys:
                        - {name: slow, key: \(Self.slowKey), scopes: [images:read]}
                        - {name: quota, key: \(Self.quotaKey), scopes: [images:read], usage_plan: {daily_quota: 2}}
                        - {name: free, key: \(Self.freeKey), scopes: [admin], usage_plan: {rate: 0}}
                        - {name: both, key: \(Self.bothKey), scopes: [images:read],
                           usage_plan: {rate: 0.01, burst: 3, daily_quota: 2}}
                    """)
            do {
                var remaining: [String] = []
                for _ in 0..<3 {
                    let answer = try await HTTPCall.send(
                        "GET", "\(base)/images", headers: HTTPCall.bearer(Self.slowKey))
                    #expect(answer.status == 200)
                    #expect(answer.header("X-RateLimit-Limit") == "3")
                    remaining.append(answer.header("X-RateLimit-Remaining") ?? "")
                }
                #expect(remaining == ["2", "1", "0"])
                let refused = try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(Self.slowKey))
                #expect(refused.status == 429, "\(refused.text)")
                #expect(refused.text.contains("too_many_requests"))
                let retryAfter = try #require(refused.header("Retry-After").flatMap { Int($0) })
                #expect((90...100).contains(retryAfter), "Retry-After \(retryAfter)")
                #expect(refused.header("X-RateLimit-Limit") == "3")
                #expect(refused.header("X-RateLimit-Remaining") == "0")
                #expect(refused.header("X-RateLimit-Reset").flatMap { Int($0) }.map { $0 >= 250 && $0 <= 300 } == true)

                // A daily quota of 2: the third is refused until the next UTC day.
                for _ in 0..<2 {
                    #expect(
                        try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(Self.quotaKey)).status
                            == 200)
                }
                let overQuota = try await HTTPCall.send(
                    "GET", "\(base)/images", headers: HTTPCall.bearer(Self.quotaKey))
                #expect(overQuota.status == 429)
                #expect(overQuota.text.contains("daily quota of 2"))
                let untilMidnight = 86_400 - Int(Date().timeIntervalSince1970) % 86_400
                let quotaRetry = try #require(overQuota.header("Retry-After").flatMap { Int($0) })
                #expect(abs(quotaRetry - untilMidnight) <= 5, "Retry-After \(quotaRetry), midnight in \(untilMidnight)")

                // A burst of 3 and a quota of 2: the quota runs out first, and the headers say so from the first
                // answer (until session 34 they showed the bucket, Remaining 2 and 1, and then the 429).
                var both: [[String]] = []
                for _ in 0..<3 {
                    let answer = try await HTTPCall.send(
                        "GET", "\(base)/images", headers: HTTPCall.bearer(Self.bothKey))
                    both.append([
                        String(answer.status), answer.header("X-RateLimit-Limit") ?? "",
                        answer.header("X-RateLimit-Remaining") ?? "",
                    ])
                    let reset = answer.header("X-RateLimit-Reset").flatMap { Int($0) } ?? 0
                    #expect(abs(reset - untilMidnight) <= 5, "Reset \(reset), midnight in \(untilMidnight)")
                }
                #expect(both == [["200", "2", "1"], ["200", "2", "0"], ["429", "2", "0"]], "\(both)")

                // A key whose own plan is unlimited is not counted at all.
                for _ in 0..<6 {
                    let answer = try await HTTPCall.send(
                        "GET", "\(base)/images", headers: HTTPCall.bearer(Self.freeKey))
                    #expect(answer.status == 200)
                    #expect(answer.header("X-RateLimit-Limit") == nil)
                }
                let metrics = try await HTTPCall.send("GET", "\(base)/metrics", headers: HTTPCall.bearer(Self.freeKey))
                #expect(
                    metrics.text.contains("picpipe_usage_requests_total{subject=\"key:slow\"} 4"),
                    "\(metrics.text.suffix(3000))")
                #expect(metrics.text.contains("picpipe_usage_throttled_total{subject=\"key:slow\",reason=\"rate\"} 1"))
                #expect(
                    metrics.text.contains("picpipe_usage_throttled_total{subject=\"key:quota\",reason=\"quota\"} 1"))
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()
        }

        /// A token's subject is limited as a key is: its own bucket (`token:SUB`), its 429, its line in /metrics.
        @Test func tokenSubjectsHaveTheirOwnBucket() async throws {
            guard let python = OIDCIssuerProcess.python() else { return }
            let root = try PicpipeProcess.temporaryFolder("usage-token")
            defer { try? FileManager.default.removeItem(at: root) }
            let issuer = try await OIDCIssuerProcess(python: python, folder: root)
            defer { issuer.stop() }
            let (serve, base) = try await OIDCAuthTests.serve(
                in: root,
                config: """
                    http:
                      protect_reads: true
                    auth:
                      usage_plan: {rate: 0.01, burst: 2}
                      api_keys:
                        - {name: free, key: \(Self.freeKey), scopes: [admin], usage_plan: {rate: 0}}
                      oidc:
                        issuer: \(issuer.issuer)
                        audience: picpipe-api
                    """)
            do {
                let carol = try await issuer.mint(claims: ["scope": "images:read", "sub": "carol"])
                let dave = try await issuer.mint(kid: "ec-1", claims: ["scope": "images:read", "sub": "dave"])
                for _ in 0..<2 {
                    #expect(
                        try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(carol)).status == 200)
                }
                let refused = try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(carol))
                #expect(refused.status == 429, "\(refused.text)")
                #expect(refused.text.contains("token:carol"), "\(refused.text)")
                #expect(refused.header("Retry-After").flatMap { Int($0) }.map { (90...100).contains($0) } == true)
                // Another subject's bucket is whole.
                let other = try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(dave))
                #expect(other.status == 200)
                #expect(other.header("X-RateLimit-Remaining") == "1")
                let metrics = try await HTTPCall.send("GET", "\(base)/metrics", headers: HTTPCall.bearer(Self.freeKey))
                #expect(
                    metrics.text.contains("picpipe_usage_requests_total{subject=\"token:carol\"} 3"),
                    "\(metrics.text.suffix(3000))")
                #expect(
                    metrics.text.contains("picpipe_usage_throttled_total{subject=\"token:carol\",reason=\"rate\"} 1"))
                #expect(metrics.text.contains("picpipe_usage_requests_total{subject=\"token:dave\"} 1"))
            } catch {
                await serve.stop()
                throw error
            }
            await serve.stop()
        }
    }
}
