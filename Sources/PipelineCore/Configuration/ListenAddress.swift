// `HOST:PORT` for --listen / http.listen / PICPIPE_LISTEN, and the rule that only loopback is open without a key.
// In the core so `picpipe config` refuses what `serve` would (until session 33 port 65536 passed the check).
import Foundation

/// Where the HTTP server listens.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// A host name or an IP address (IPv6 without brackets).
    public var host: String
    /// The TCP port (0: any free port).
    public var port: Int

    /// Parses `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (loopback).
    /// - Throws: `ListenAddressError.invalid` with the reason.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let hostPart: Substring
        let portPart: Substring
        if trimmed.hasPrefix("["), let close = trimmed.firstIndex(of: "]") {
            hostPart = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            let rest = trimmed[trimmed.index(after: close)...]
            guard rest.hasPrefix(":") else { throw ListenAddressError.invalid(text, reason: "expected [HOST]:PORT") }
            portPart = rest.dropFirst()
        } else {
            guard let colon = trimmed.lastIndex(of: ":") else {
                throw ListenAddressError.invalid(text, reason: "expected HOST:PORT")
            }
            hostPart = trimmed[..<colon]
            portPart = trimmed[trimmed.index(after: colon)...]
        }
        guard let port = Int(portPart), (0...65535).contains(port) else {
            throw ListenAddressError.invalid(text, reason: "the port must be a number from 0 to 65535")
        }
        // A name or an address, as a resolver takes it: `host name:8080` was taken and then refused as an exposed
        // address "without an API key", which hid that it is no host.
        guard hostPart.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._:%".contains($0)) }) else {
            throw ListenAddressError.invalid(
                text, reason: "'\(hostPart)' is not a host name or an IP address (letters, digits, '-', '.', ':')")
        }
        self.host = hostPart.isEmpty ? "127.0.0.1" : String(hostPart)
        self.port = port
    }

    /// - Parameters: see the properties.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Whether the host is a loopback address (127.0.0.0/8, ::1, localhost): only this machine can connect.
    public var isLoopback: Bool {
        let lower = host.lowercased()
        if lower == "localhost" || lower == "::1" || lower == "0:0:0:0:0:0:0:1" { return true }
        let parts = lower.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Refuses a non-loopback address when no API key is configured: writes would be open to the network.
    /// - Throws: `ListenAddressError.openWithoutKey`.
    public func checkExposure(apiKeys: [String]) throws {
        if !isLoopback && apiKeys.isEmpty { throw ListenAddressError.openWithoutKey(self) }
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Why a listen address is refused.
public enum ListenAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not `HOST:PORT`.
    case invalid(String, reason: String)
    /// A non-loopback address without any API key configured.
    case openWithoutKey(ListenAddress)

    public var description: String {
        switch self {
        case .invalid(let text, let reason): return "listen address '\(text)': \(reason)"
        case .openWithoutKey(let address):
            return "refusing to listen on \(address) without an API key: anyone on the network could upload and "
                + "delete; set http.api_keys or PICPIPE_API_KEYS, or listen on 127.0.0.1"
        }
    }
}
