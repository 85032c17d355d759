// A request to another server that failed, in words. AsyncHTTPClient's, SwiftNIO's and BoringSSL's errors print as
// Swift values ("HTTPClientError.remoteConnectionClosed", "handshakeFailed(NIOSSL.BoringSSLError.sslError([…]))",
// "read(descriptor:pointer:size:): Connection reset by peer (errno: 104)"); a user reads the reason instead.
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Why a connection to a source (an import's, the OIDC issuer's) or its answer failed.
enum NetworkFailure {
    /// The reason as a phrase ("connection refused", "the certificate of example.com is not trusted").
    /// - Parameters:
    ///   - error: what the HTTP client threw.
    ///   - host: the server's host, named in TLS failures.
    ///   - tls: whether the request was https (whose connect timeout covers the TLS handshake too).
    ///   - connectTimeout: what bounds the connection and its TLS handshake (`import.connect_timeout`).
    ///   - timeout: what bounds the whole request (`import.timeout`).
    static func reason(
        _ error: any Error, host: String, tls: Bool = false, connectTimeout: String, timeout: String
    ) -> String {
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout:
                // The client does not say which of the two did not finish: a source that takes the connection
                // and never answers the handshake (a plain-http port asked for https) ends here too.
                if tls { return "no connection and TLS handshake with \(host) within \(connectTimeout)" }
                return "no connection within \(connectTimeout)"
            case .tlsHandshakeTimeout: return "the TLS handshake with \(host) did not finish within \(connectTimeout)"
            case .deadlineExceeded, .readTimeout: return "no answer within \(timeout)"
            case .remoteConnectionClosed: return "the source closed the connection without answering"
            default: return words(String(describing: error).replacingOccurrences(of: "HTTPClientError.", with: ""))
            }
        case let error as IOError:
            return errnoReason(error.errnoCode)
        case let error as NIOConnectionError:
            // Each address tried failed: the first one's reason (an import connects to one checked address).
            if let first = error.connectionErrors.first {
                return reason(first.error, host: host, tls: tls, connectTimeout: connectTimeout, timeout: timeout)
            }
            return "\(host) could not be resolved"
        case ChannelError.connectTimeout:
            return "no connection within \(connectTimeout)"
        case let error as NIOSSLError:
            return tlsReason(error, host: host)
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return "the certificate of \(host) is not valid for that name"
        case let error as HTTPParserError:
            if error == .headerOverflow { return "the answer's header is too large" }
            return "the answer is not HTTP"
        default:
            return String(describing: error)
        }
    }

    private static func tlsReason(_ error: NIOSSLError, host: String) -> String {
        switch error {
        case .handshakeFailed(let inner):
            // BoringSSL's reason names (CERTIFICATE_VERIFY_FAILED, WRONG_VERSION_NUMBER) are in its description only.
            let text = String(describing: inner)
            if text.contains("CERTIFICATE_VERIFY_FAILED") {
                return "the certificate of \(host) is not trusted (not signed by an authority trusted here, or out "
                    + "of date)"
            }
            if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") {
                return "the TLS handshake with \(host) failed: the source does not speak TLS on this port"
            }
            return "the TLS handshake with \(host) failed"
        case .uncleanShutdown:
            return "the source closed the connection without ending TLS"
        default:
            return "TLS with \(host) failed"
        }
    }

    private static func errnoReason(_ code: Int32) -> String {
        switch code {
        case ECONNREFUSED: return "connection refused"
        case ECONNRESET: return "the source reset the connection"
        case EPIPE: return "the source closed the connection while the request was sent"
        case ETIMEDOUT: return "the connection timed out"
        case EHOSTUNREACH: return "the host is unreachable"
        case ENETUNREACH: return "the network is unreachable"
        default:
            let text = String(cString: strerror(code))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
    }

    /// `bodyLengthMismatch` as "body length mismatch".
    private static func words(_ name: String) -> String {
        var text = ""
        for character in name {
            if character.isUppercase, !text.isEmpty { text.append(" ") }
            text.append(Character(character.lowercased()))
        }
        return text
    }
}
