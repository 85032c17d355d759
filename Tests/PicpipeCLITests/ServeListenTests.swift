// `picpipe serve` on an address that is taken: one line naming the address and --listen, before "serving", exit 1.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
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

        @Test func aPortInUseIsRefusedBeforeServing() throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let (fd, port) = try Self.occupiedPort()
            defer { close(fd) }
            let run = try PicpipeProcess.run(
                ["serve", "--store", work.appendingPathComponent("store").path, "--listen", "127.0.0.1:\(port)"],
                timeout: 120)
            #expect(run.status == 1)
            #expect(run.stderr.contains("127.0.0.1:\(port)"))
            #expect(run.stderr.contains("--listen"))
            #expect(run.stderr.contains("Address already in use"))
            #expect(!run.stderr.contains("serving"))
            #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("store").path))
        }
    }
}
