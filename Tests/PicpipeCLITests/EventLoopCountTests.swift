// `http.event_loops` (`PICPIPE_EVENT_LOOPS`): serve starts exactly that many event-loop threads, whatever the number
// of cores, and a count out of range is refused with the setting's name.
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension PicpipeCLI {
    struct EventLoopCountTests {
        /// The threads of SwiftNIO's shared event-loop group in a process (SwiftNIO names them `NIO-SGLTN-…`).
        static func eventLoopThreads(of pid: Int32) throws -> Int {
            let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
            return tasks.filter { task in
                let name = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8)) ?? ""
                return name.hasPrefix("NIO-SGLTN-")
            }.count
        }

        @Test(arguments: [1, 3])
        func serveStartsTheConfiguredEventLoops(count: Int) async throws {
            try await ServeHardeningTests.withServe(environment: ["PICPIPE_EVENT_LOOPS": String(count)]) {
                serve, _, base in
                #expect(try Self.eventLoopThreads(of: serve.process.processIdentifier) == count, "\(serve.log)")
                let (_, response) = try await URLSession.shared.data(from: URL(string: base + "/healthz")!)
                #expect((response as? HTTPURLResponse)?.statusCode == 200)
            }
        }

        @Test func aCountOutOfRangeIsRefusedWithTheSetting() async throws {
            let result = try await PicpipeProcess.run(["config"], environment: ["PICPIPE_EVENT_LOOPS": "0"])
            #expect(result.status != 0)
            #expect(result.stderr.contains("http.event_loops"), "\(result.stderr)")
        }
    }
}
