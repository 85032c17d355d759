// `picpipe serve` on an address that is taken (by another program, or by another serve listening once per event
// loop): one line naming the address and --listen, before "serving", exit 1.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct ServeListenTests {
        /// A TCP socket listening on a free loopback port, and the port.
        static func occupiedPort() throws -> (socket: Int32, port: Int) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            try #require(fd >= 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            try #require(bound == 0)
            try #require(listen(fd, 1) == 0)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            return (fd, Int(UInt16(bigEndian: address.sin_port)))
        }

        /// A value of --listen or --aws-listen that is no HOST:PORT is a usage error (exit 2), as the same value in
        /// PICPIPE_LISTEN or http.listen is: until session 36 the options' exited 1. A port in use stays exit 1.
        @Test func aListenOptionThatIsNoAddressIsAUsageError() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store").path
            for (option, value) in [("--listen", "18650"), ("--listen", "127.0.0.1:99999"), ("--aws-listen", "9000")] {
                let run = try await PicpipeProcess.run(["serve", "--store", store, option, value], timeout: 120)
                #expect(run.status == 2, "\(option) \(value): \(run.stderr)")
                #expect(run.stderr.contains("\(option) \(value)"), "\(run.stderr)")
                #expect(!FileManager.default.fileExists(atPath: store))
            }
        }

        @Test func aPortInUseIsRefusedBeforeServing() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let (fd, port) = try Self.occupiedPort()
            defer { close(fd) }
            let run = try await PicpipeProcess.run(
                ["serve", "--store", work.appendingPathComponent("store").path, "--listen", "127.0.0.1:\(port)"],
                timeout: 120)
            #expect(run.status == 1)
            #expect(run.stderr.contains("127.0.0.1:\(port)"))
            #expect(run.stderr.contains("--listen"))
            #expect(run.stderr.contains("Address already in use"))
            #expect(!run.stderr.contains("serving"))
            #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("store").path))
        }

        @Test func aSecondServeOnTheSamePortIsRefusedNotJoined() async throws {
            // With several event loops serve listens once per loop (SO_REUSEPORT): another serve must still find
            // the port taken, not share its connections.
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let first = try await ServeProcess(
                store: work.appendingPathComponent("first"), environment: ["PICPIPE_EVENT_LOOPS": "3"])
            defer { first.kill() }
            try await ServeProcess.eventually("http listening") { first.log.contains("http listening") }
            let port = try #require(ServeHTTPTests.port(in: first.log))
            let second = try await PicpipeProcess.run(
                ["serve", "--store", work.appendingPathComponent("second").path, "--listen", "127.0.0.1:\(port)"],
                environment: ["PICPIPE_EVENT_LOOPS": "3"], timeout: 120)
            #expect(second.status == 1)
            #expect(second.stderr.contains("127.0.0.1:\(port)") && second.stderr.contains("Address already in use"))
            // The first one still answers, on each of its listeners (connections spread over them by the kernel).
            for _ in 0..<12 {
                let (data, response) = try await URLSession.shared.data(
                    from: URL(string: "http://127.0.0.1:\(port)/healthz")!)
                #expect((response as? HTTPURLResponse)?.statusCode == 200 && !data.isEmpty)
            }
            await first.stop()
        }
    }
}
