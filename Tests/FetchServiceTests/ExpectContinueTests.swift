// `Expect: 100-continue` over a real socket: the client holds its body back until "100 Continue" (the AWS CLI and
// curl do, for up to a second each upload), and a refusal sent before the body closes the connection (the client
// sends no body after it; the server read the next request's first bytes as that body).
import Dispatch
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.serialized)
struct ExpectContinueTests {
    /// One connection driven step by step: send, then read one answer head (and its body by Content-Length).
    final class Connection {
        let fd: Int32
        private var pending: [UInt8] = []

        init(port: Int) throws { fd = try LoopbackClient.connect(port: port) }

        deinit { close(fd) }

        func send(_ bytes: [UInt8]) {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes.withUnsafeBytes {
                    Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                }
                if sent <= 0 { return }
                offset += sent
            }
        }

        /// Reads more bytes; false at the end of the stream (or the 60 s safety timeout).
        private func fill() -> Bool {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, 0) }
            if count <= 0 { return false }
            pending.append(contentsOf: chunk[0..<count])
            return true
        }

        /// The next answer: its status line, its headers (lower-cased names) and its body; nil if the stream ended.
        func answer() -> (status: String, headers: [String: String], body: [UInt8])? {
            let separator: [UInt8] = [13, 10, 13, 10]
            var end: Int?
            while end == nil {
                end =
                    pending.count < 4
                    ? nil : (0...(pending.count - 4)).first { Array(pending[$0..<$0 + 4]) == separator }
                if end == nil, !fill() { return nil }
            }
            let lines = String(decoding: pending[0..<end!], as: UTF8.self).components(separatedBy: "\r\n")
            pending.removeFirst(end! + 4)
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                    in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            while pending.count < length { if !fill() { break } }
            let body = Array(pending.prefix(length))
            pending.removeFirst(min(length, pending.count))
            return (lines[0], headers, body)
        }

        /// Whether the server closed the connection (nothing more to read).
        func isClosedByServer() -> Bool { pending.isEmpty && !fill() }
    }

    /// Runs blocking socket work off the cooperative pool.
    static func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    static func head(_ method: String, _ target: String, _ fields: [String]) -> [UInt8] {
        Array(
            ("\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n").utf8)
    }

    @Test func anUploadGetsItsContinueAndTheConnectionStaysInStep() async throws {
        let picture = try FetchServer.picture(seed: 31)
        try await FetchServer.with { client, _ in
            let port = client.port
            let answers = try await Self.blocking { () -> [String] in
                let connection = try Connection(port: port)
                connection.send(
                    Self.head(
                        "POST", "/images",
                        ["Content-Type: image/jpeg", "Content-Length: \(picture.count)", "Expect: 100-continue"]))
                // The body is held back until the server asks for it.
                let interim = connection.answer()
                connection.send(picture)
                let final = connection.answer()
                connection.send(Self.head("GET", "/healthz", []))
                let next = connection.answer()
                return [interim?.status ?? "none", final?.status ?? "none", next?.status ?? "none"]
            }
            #expect(answers == ["HTTP/1.1 100 Continue", "HTTP/1.1 202 Accepted", "HTTP/1.1 200 OK"])
        }
    }

    @Test func aRefusalBeforeTheBodyClosesTheConnection() async throws {
        try await FetchServer.with(configure: { $0.http.apiKeys = ["k1"] }) { client, _ in
            let port = client.port
            for fields in [
                ["Content-Type: image/jpeg"],  // no key: 401
                ["Content-Type: text/plain", "Authorization: Bearer k1"],  // 415
            ] {
                let (status, connectionField, closed) = try await Self.blocking {
                    () -> (String, String?, Bool) in
                    let connection = try Connection(port: port)
                    connection.send(
                        Self.head("POST", "/images", fields + ["Content-Length: 100", "Expect: 100-continue"]))
                    let refusal = connection.answer()
                    return (refusal?.status ?? "none", refusal?.headers["connection"], connection.isClosedByServer())
                }
                #expect(status.hasPrefix("HTTP/1.1 4"), "\(fields)")
                #expect(!status.contains("100"), "\(fields)")
                // The client sends no body after a final answer, so the server cannot read on in step: it says it
                // closes, and does (it read the next request's first bytes as the body, then refused the rest).
                #expect(connectionField == "close", "\(fields)")
                #expect(closed, "\(fields)")
            }
        }
    }

    /// A request answered while a pipelined upload behind it is still arriving keeps the connection: the close after
    /// an answer given before a body's end is for that request's own body, not the next one's.
    @Test func aPipelinedUploadBehindAnAnswerIsStillRead() async throws {
        let picture = try FetchServer.picture(seed: 32)
        try await FetchServer.with { client, _ in
            let port = client.port
            let answers = try await Self.blocking { () -> [String] in
                let connection = try Connection(port: port)
                // A GET (with a field the raw path does not read, so the decoder has the connection and reads
                // ahead), and behind it an upload of which only half has come when the GET is answered.
                connection.send(
                    Self.head("GET", "/healthz", ["X-Trace: 1"])
                        + Self.head(
                            "POST", "/images", ["Content-Type: image/jpeg", "Content-Length: \(picture.count)"])
                        + picture.prefix(picture.count / 2))
                let first = connection.answer()
                connection.send(Array(picture.suffix(from: picture.count / 2)))
                let second = connection.answer()
                return [
                    first?.status ?? "none", first?.headers["connection"] ?? "-", second?.status ?? "none",
                ]
            }
            #expect(answers == ["HTTP/1.1 200 OK", "-", "HTTP/1.1 202 Accepted"])
        }
    }
}
