// IP addresses as bytes and ranges of them (CIDR), for the import allow-list and the ranges it refuses.
#if canImport(Glibc)
    import Glibc
#endif

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address.
public struct IPAddress: Sendable, Equatable, CustomStringConvertible {
    /// The address in network order.
    public let bytes: [UInt8]

    /// - Parameter bytes: 4 or 16 bytes.
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Parses `192.0.2.1` or `2001:db8::1` (with or without brackets).
    public init?(_ text: String) {
        var text = Substring(text)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        var v4 = in_addr()
        if inet_pton(AF_INET, String(text), &v4) == 1 {
            bytes = withUnsafeBytes(of: v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, String(text), &v6) == 1 {
            bytes = withUnsafeBytes(of: v6) { Array($0) }
            return
        }
        return nil
    }

    public var isIPv4: Bool { bytes.count == 4 }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var result = ""
        bytes.withUnsafeBytes { raw in
            if inet_ntop(isIPv4 ? AF_INET : AF_INET6, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil {
                result = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
        return result
    }
}

/// A CIDR range: `10.0.0.0/8`, `fd00::/8`, or one address.
public struct AddressRange: Sendable, Equatable {
    /// The first address.
    public let base: IPAddress
    /// The prefix length in bits.
    public let prefix: Int

    /// Parses `ADDRESS/BITS` or `ADDRESS`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let base = IPAddress(String(parts[0])) else { return nil }
        let bits = base.bytes.count * 8
        let prefix = parts.count == 2 ? Int(parts[1]) : bits
        guard let prefix, (0...bits).contains(prefix) else { return nil }
        self.base = base
        self.prefix = prefix
    }

    /// Whether the address is in the range (an IPv4 range never holds an IPv6 address, mapped or not).
    public func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == base.bytes.count else { return false }
        var remaining = prefix
        for index in base.bytes.indices where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address.bytes[index] & mask != base.bytes[index] & mask { return false }
            remaining -= bits
        }
        return true
    }
}
