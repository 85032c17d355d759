// Usage plans across processes: the counts live in PostgreSQL when a database is configured, so two
// `serve --roles api` processes give one caller one burst between them, and concurrent takes from two counters
// never admit more than the bucket holds.
import FetchService
import Foundation
import PipelineCore
import PostgresBackend
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized, .enabled(if: ScratchDatabase.enabled, "needs PICPIPE_TEST_DATABASE_URL (scripts/test-postgres.sh)"))
    struct SharedUsagePlanTests {
        static let key = "shared-key-0123456789ab"

        @Test func twoAPIProcessesShareOneBurst() async throws {
            let (database, dropDatabase) = try ScratchDatabase.create()
            defer { dropDatabase() }
            let root = try PicpipeProcess.temporaryFolder("usage-shared")
            defer { try? FileManager.default.removeItem(at: root) }
            let config = root.appendingPathComponent("picpipe.yaml")
            // A burst of 4, then one request per 100 s: the 5th request, to either process, waits about 100 s.
            try """
            http:
              protect_reads: true
            auth:
              usage_plan: {rate: 0.01, burst: 4}
              api_keys:
                - {name: shared, key: \(Self.key), scopes: [images:read]}
            """.write(to: config, atomically: true, encoding: .utf8)
            let store = root.appendingPathComponent("store")
            let environment = ["PICPIPE_DATABASE_URL": database, "PICPIPE_CONFIG": config.path]
            var processes: [ServeProcess] = []
            defer { for process in processes { process.kill() } }
            var bases: [String] = []
            for _ in 0..<2 {
                let serve = try await ServeProcess(store: store, environment: environment, arguments: ["--roles", "api"])
                processes.append(serve)
                try await ServeProcess.eventually("http listening") {
                    serve.log.contains("http listening") || !serve.process.isRunning
                }
                let port = try #require(ServeHTTPTests.port(in: serve.log), "\(serve.log)")
                bases.append("http://127.0.0.1:\(port)")
            }

            // Alternating between the processes, the remaining count falls by one each time: one bucket.
            var remaining: [String] = []
            for n in 0..<4 {
                let answer = try await HTTPCall.send("GET", "\(bases[n % 2])/images", headers: HTTPCall.bearer(Self.key))
                #expect(answer.status == 200, "\(answer.text)")
                #expect(answer.header("X-RateLimit-Limit") == "4")
                remaining.append(answer.header("X-RateLimit-Remaining") ?? "")
            }
            #expect(remaining == ["3", "2", "1", "0"])
            // Each process has seen only 2 requests, yet both refuse now.
            for base in bases {
                let refused = try await HTTPCall.send("GET", "\(base)/images", headers: HTTPCall.bearer(Self.key))
                #expect(refused.status == 429, "\(refused.text)")
                let retryAfter = try #require(refused.header("Retry-After").flatMap { Int($0) })
                #expect((90...100).contains(retryAfter), "Retry-After \(retryAfter)")
            }
            // The deferred SIGKILL ends them: a graceful stop would wait for the test client's idle connections.
        }

        @Test func concurrentTakesFromTwoCountersAdmitTheBucketOnce() async throws {
            let (database, dropDatabase) = try ScratchDatabase.create()
            defer { dropDatabase() }
            let url = try DatabaseURL(parsing: database)
            let first = try PostgresUsageCounter(pool: PostgresConnectionPool(url: url, maxConnections: 2))
            let second = try PostgresUsageCounter(pool: PostgresConnectionPool(url: url, maxConnections: 2))
            let plan = UsagePlan(rate: 0.001, burst: 10)
            let now = Date()
            let decisions = try await withThrowingTaskGroup(of: UsageDecision.self) { group in
                for n in 0..<60 {
                    let counter = n % 2 == 0 ? first : second
                    group.addTask { try await counter.take(subject: "key:race", plan: plan, now: now) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(decisions.filter(\.allowed).count == 10)
            #expect(Set(decisions.filter(\.allowed).map(\.remaining)) == Set(0..<10))
            #expect(decisions.filter { !$0.allowed }.allSatisfy { $0.reason == "rate" && $0.retryAfter == 1000 })

            // A daily quota counts across both counters and starts again the next UTC day.
            let quota = UsagePlan(dailyQuota: 3)
            var admitted: [Bool] = []
            for n in 0..<5 {
                let counter = n % 2 == 0 ? first : second
                admitted.append(try await counter.take(subject: "key:quota", plan: quota, now: now).allowed)
            }
            #expect(admitted == [true, true, true, false, false])
            let refused = try await first.take(subject: "key:quota", plan: quota, now: now)
            #expect(refused.reason == "quota")
            let midnight = 86_400 - Int(now.timeIntervalSince1970) % 86_400
            #expect(abs((refused.retryAfter ?? 0) - midnight) <= 1)
            let tomorrow = try await second.take(subject: "key:quota", plan: quota, now: now.addingTimeInterval(86_400))
            #expect(tomorrow.allowed && tomorrow.remaining == 2)
        }
    }
}
