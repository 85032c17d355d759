// SHA-256 content addresses: the identity of every original and the key of every derivative.
import Crypto

/// The SHA-256 of a file's bytes, as 64 lowercase hex digits.
public struct ContentHash: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    /// 64 lowercase hex digits.
    public let hex: String

    /// Hashes bytes (BoringSSL's SHA-256, accelerated with SHA extensions where the CPU has them).
    public init(of bytes: UnsafeRawBufferPointer) {
        self.init(digest: SHA256.hash(data: bytes))
    }

    /// The hash a SHA-256 computed elsewhere (e.g. while the bytes were read) gives.
    init(digest: SHA256.Digest) {
        var out = ""
        out.reserveCapacity(64)
        for byte in digest {
            out.append(Self.hexDigits[Int(byte >> 4)])
            out.append(Self.hexDigits[Int(byte & 0x0F)])
        }
        hex = out
    }

    /// Accepts an existing hex digest; `nil` unless it is exactly 64 hex digits (any case).
    public init?(hex: String) {
        let lower = hex.lowercased()
        guard lower.utf8.count == 64, lower.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else { return nil }
        self.hex = lower
    }

    /// The two-digit fan-out folder (`ab` for `abcdef…`), so no folder grows past 256 entries per level.
    public var shard: String { String(hex.prefix(2)) }

    public var description: String { hex }

    public static func < (lhs: ContentHash, rhs: ContentHash) -> Bool { lhs.hex < rhs.hex }

    private static let hexDigits = Array("0123456789abcdef")
}
