// An origin for import tests on 127.0.0.1: each path answers with bytes a test writes out in full (a body cut short,
// broken chunked framing, no answer at all, something that is not HTTP), over TLS with a self-signed certificate if
// asked, and the request heads it received are kept, so the importer meets exactly what a broken or hostile server
// sends.
import Foundation
import Locking
import NIOCore
import NIOPosix
import NIOSSL

/// A loopback origin answering scripted bytes.
final class ScriptedOrigin: Sendable {
    /// What a path answers.
    enum Reply: Sendable {
        /// These bytes, then the connection closes (none: closed without an answer).
        case send([UInt8])
        /// Nothing, the connection left open until the origin closes.
        case silence
    }

    /// The port it listens on.
    let port: Int
    private let channel: any Channel
    private let heads: Locked<[String]>
    /// What each path answers: set once the port is known, before any request can come.
    private let routes: Locked<[String: Reply]>

    /// The request heads received, in order.
    var requestHeads: [String] { heads.withLock { $0 } }

    /// The URL of `path` on it.
    func url(_ path: String, scheme: String = "http") -> String { "\(scheme)://127.0.0.1:\(port)\(path)" }

    /// Runs `body` with an origin serving `routes` (any other path answers 404), closed after it.
    /// - Parameter tls: whether it speaks TLS, with a self-signed certificate for 127.0.0.1 and localhost (trusted by
    ///   no one).
    static func with<T: Sendable>(
        _ routes: [String: Reply], tls: Bool = false, _ body: (ScriptedOrigin) async throws -> T
    ) async throws -> T {
        try await with(routes: { _ in routes }, tls: tls, body)
    }

    /// As `with`, for replies that name the origin's own port (an OIDC discovery document names its issuer).
    static func with<T: Sendable>(
        routes: (_ port: Int) -> [String: Reply], tls: Bool = false, _ body: (ScriptedOrigin) async throws -> T
    ) async throws -> T {
        let origin = try await ScriptedOrigin(tls: tls)
        origin.routes.withLock { $0 = routes(origin.port) }
        do {
            let value = try await body(origin)
            try? await origin.channel.close()
            return value
        } catch {
            try? await origin.channel.close()
            throw error
        }
    }

    /// An answer with `Content-Length` and `Connection: close`.
    static func answer(_ status: String, type: String = "image/jpeg", body: [UInt8]) -> [UInt8] {
        Array(
            "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
                .utf8)
            + body
    }

    private init(tls: Bool) async throws {
        let heads = Locked<[String]>([])
        let routes = Locked<[String: Reply]>([:])
        let context =
            try tls
            ? NIOSSLContext(
                configuration: .makeServerConfiguration(
                    certificateChain: [
                        .certificate(NIOSSLCertificate(bytes: Array(Self.certificate.utf8), format: .pem))
                    ],
                    privateKey: .privateKey(NIOSSLPrivateKey(bytes: Array(Self.privateKey.utf8), format: .pem))))
            : nil
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    if let context {
                        try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    }
                    try child.pipeline.syncOperations.addHandler(Answerer(routes: routes, heads: heads))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        self.heads = heads
        self.routes = routes
    }

    /// Reads one request head, answers its path's reply and closes.
    private final class Answerer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let routes: Locked<[String: Reply]>
        let heads: Locked<[String]>
        var buffer = ByteBuffer()
        var answered = false

        init(routes: Locked<[String: Reply]>, heads: Locked<[String]>) {
            self.routes = routes
            self.heads = heads
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var chunk = unwrapInboundIn(data)
            guard !answered else { return }
            buffer.writeBuffer(&chunk)
            let channel = context.channel
            if buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == 0x16 {
                // A TLS handshake sent to plain HTTP: answered 400 at once, as nginx does on a plain port.
                answered = true
                let refusal = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: refusal))).whenComplete { _ in
                    channel.close(promise: nil)
                }
                return
            }
            let text = String(decoding: buffer.readableBytesView, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { return }
            answered = true
            let head = String(text[..<end.lowerBound])
            heads.withLock { $0.append(head) }
            let path = head.split(separator: " ", maxSplits: 2).dropFirst().first.map(String.init) ?? "/"
            let reply =
                routes.withLock { $0[path] }
                ?? .send(ScriptedOrigin.answer("404 Not Found", type: "text/plain", body: []))
            guard case .send(let bytes) = reply else { return }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes))).whenComplete { _ in
                channel.close(promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    /// A self-signed certificate for localhost and 127.0.0.1, valid for a century (its own authority: trusted by no
    /// one); `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500`.
    static let certificate = """
        -----BEGIN CERTIFICATE-----
        MIIBrzCCAVWgAwIBAgIUegpbjLAsNzXp6cDE+lDeQA+aVOswCgYIKoZIzj0EAwIw
        HjEcMBoGA1UEAwwTcGljcGlwZSB0ZXN0IG9yaWdpbjAgFw0yNjEyMDcwMTIzMjBa
        GA8yMTI2MTExMzAxMjMyMFowHjEcMBoGA1UEAwwTcGljcGlwZSB0ZXN0IG9yaWdp
        bjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABD9kUcpCduvJOpFrPyTT1UocYFbp
        zSixQaGRQG/fAVWgfaZA9tOjExPhSwNDfK49/An11A4LTWFx8CVcPDMokY+jbzBt
        MB0GA1UdDgQWBBSNHqYSgaVcPjidLNT+Xzy7u35k9jAfBgNVHSMEGDAWgBSNHqYS
        gaVcPjidLNT+Xzy7u35k9jAPBgNVHRMBAf8EBTADAQH/MBoGA1UdEQQTMBGCCWxv
        Y2FsaG9zdIcEfwAAATAKBggqhkjOPQQDAgNIADBFAiEAiI8taox9zonZnY+jZZzC
        EQ1hgfJ82w+4uP5Y3JWt2GECIE5qFoMamWRXsjRmciRzW3HZSuERCa2YLbTpE04H
        W9Jo
        -----END CERTIFICATE-----
        """

    /// The certificate's key (a test fixture, guarding nothing).
    static let privateKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg7w/CHpomCcepijDu
        E4OnYUYYm82GkS/JPLTk9aAwZ+KhRANCAAQ/ZFHKQnbryTqRaz8k09VKHGBW6c0o
        sUGhkUBv3wFVoH2mQPbToxMT4UsDQ3yuPfwJ9dQOC01hcfAlXDwzKJGP
        -----END PRIVATE KEY-----
        """
}
