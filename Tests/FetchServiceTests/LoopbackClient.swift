// A raw HTTP/1.1 client over a loopback socket: it sends paths exactly as written (`%2e%2e`, NUL bytes), can
// stop mid-body, and parses the answer. Blocking socket calls run on a Dispatch queue, off the cooperative pool.
import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP answer.
struct HTTPAnswer: Sendable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers[name.lowercased()] }
    var text: String { String(decoding: body, as: UTF8.self) }
    /// The error code of a JSON error body.
    var errorCode: String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let error = object["error"] as? [String: Any]
        else { return nil }
        return error["code"] as? String
    }
    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
}

/// Sends requests to 127.0.0.1:port, one connection each.
struct LoopbackClient: Sendable {
    let port: Int

    /// Sends a request and reads the whole answer.
    func send(
        _ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8]? = nil
    ) async throws -> HTTPAnswer {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let framed = headers.contains { ["content-length", "transfer-encoding"].contains($0.0.lowercased()) }
        if let body, !framed {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        let request = Array(head.utf8) + (body ?? [])
        return try await raw(request, isHead: method == "HEAD")
    }

    /// Sends bytes as they are, then reads until the server closes; with `abort`, closes right after sending.
    func raw(_ bytes: [UInt8], isHead: Bool = false, abort: Bool = false) async throws -> HTTPAnswer {
        let received = try await conversation([(bytes, 0)], abort: abort)
        if abort { return HTTPAnswer(status: 0, headers: [:], body: []) }
        return try Self.parse(received, isHead: isHead)
    }

    /// On one connection: sends each part after waiting its delay (seconds), then reads every byte until the server
    /// closes (a part the server refuses to take ends the sending). With `abort`, closes right after sending; with
    /// `halfClose`, shuts its sending side after the last part (`shutdown(SHUT_WR)`, as `nc -N` does) and reads on.
    func conversation(
        _ parts: [(bytes: [UInt8], delay: Double)], abort: Bool = false, halfClose: Bool = false,
        receiveTimeout: Int = 60
    ) async throws -> [UInt8] {
        let port = self.port
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        try Self.exchange(
                            parts, port: port, abort: abort, halfClose: halfClose, receiveTimeout: receiveTimeout)
                    })
            }
        }
    }

    /// A socket connected to 127.0.0.1:port whose reads give up after `receiveTimeout` (the caller closes it), with
    /// a receive buffer of `receiveBuffer` bytes when given (set before connecting, so the window follows it).
    static func connect(
        port: Int, receiveTimeout: timeval = timeval(tv_sec: 60, tv_usec: 0), receiveBuffer: Int32? = nil
    ) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError.socket }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var timeout = receiveTimeout
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw ClientError.connect
        }
        return fd
    }

    private static func exchange(
        _ parts: [(bytes: [UInt8], delay: Double)], port: Int, abort: Bool, halfClose: Bool, receiveTimeout: Int
    ) throws -> [UInt8] {
        let fd = try connect(port: port, receiveTimeout: timeval(tv_sec: receiveTimeout, tv_usec: 0))
        defer { close(fd) }
        sending: for (bytes, delay) in parts {
            if delay > 0 { usleep(useconds_t(delay * 1_000_000)) }
            var offset = 0
            while offset < bytes.count {
                let sent = bytes.withUnsafeBytes {
                    Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                }
                if sent <= 0 { break sending }
                offset += sent
            }
        }
        if abort { return [] }
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, 0) }
            if count <= 0 { break }
            received.append(contentsOf: chunk[0..<count])
        }
        return received
    }

    static func parse(_ bytes: [UInt8], isHead: Bool) throws -> HTTPAnswer {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard
            let end = (0...(max(0, bytes.count - 4))).first(where: {
                Array(bytes[$0..<min(bytes.count, $0 + 4)]) == separator
            })
        else { throw ClientError.malformed }
        let head = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw ClientError.malformed }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            // A field sent twice (`Vary: Accept` and `Vary: Origin`) reads as one list, as RFC 9110 §5.3 combines them.
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
        var body = Array(bytes[(end + 4)...])
        if isHead { body = [] }
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
        return HTTPAnswer(status: status, headers: headers, body: body)
    }

    static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            var lineEnd = index
            while lineEnd + 1 < bytes.count, !(bytes[lineEnd] == 13 && bytes[lineEnd + 1] == 10) { lineEnd += 1 }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText, radix: 16), size > 0 else { break }
            let start = lineEnd + 2
            guard start + size <= bytes.count else { break }
            out.append(contentsOf: bytes[start..<(start + size)])
            index = start + size + 2
        }
        return out
    }

    enum ClientError: Error { case socket, connect, malformed }
}
