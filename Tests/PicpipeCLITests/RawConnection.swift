// A plain TCP connection to a local server, for the tests that misbehave on purpose (trickled bodies, bodies far
// over the limit) where an HTTP client library would not.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking socket to 127.0.0.1:PORT with a receive timeout.
final class RawConnection {
    private let fd: Int32

    enum Failure: Error { case socket, connect }

    init(port: Int, receiveTimeout: Int = 30) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.socket }
        var timeout = timeval(tv_sec: receiveTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure.connect
        }
    }

    deinit { close(fd) }

    /// Sends all of `bytes`; false when the connection broke (reset, closed by the server).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    /// Sends text.
    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Closes the sending side (`shutdown(SHUT_WR)`, as `nc -N` does); the answer can still be read.
    func closeSending() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads until the server closes, the timeout passes or `until` holds for what was read.
    func receive(until done: ([UInt8]) -> Bool = { _ in false }) -> (bytes: [UInt8], closed: Bool) {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, 0) }
            if count == 0 { return (received, true) }
            if count < 0 { return (received, errno == ECONNRESET) }
            received.append(contentsOf: chunk[0..<count])
            if done(received) { return (received, false) }
        }
    }

    /// Reads what has arrived without waiting; `closed` when the server has closed (or reset) the connection.
    func receiveAvailable() -> (bytes: [UInt8], closed: Bool) {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, Int32(MSG_DONTWAIT)) }
            if count == 0 { return (received, true) }
            if count < 0 { return (received, errno != EAGAIN && errno != EWOULDBLOCK) }
            received.append(contentsOf: chunk[0..<count])
        }
    }

    /// The status code of an HTTP answer's first line.
    static func status(_ bytes: [UInt8]) -> Int? {
        let text = String(decoding: bytes.prefix(64), as: UTF8.self)
        let parts = text.split(separator: " ")
        return parts.count >= 2 ? Int(parts[1]) : nil
    }
}
