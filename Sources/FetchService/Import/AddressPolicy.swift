// Which addresses an import may connect to: public ones only, unless the allow-list says otherwise. Checked on
// the addresses a name resolves to, before each connection and again on every redirect.
import PipelineCore

/// Refuses loopback, private, link-local, CGNAT, multicast, reserved and documentation ranges, and IPv6 forms
/// that embed an IPv4 address (mapped, compatible, NAT64, 6to4) when that address is refused.
public struct AddressPolicy: Sendable {
    private let allowed: [AddressRange]

    /// - Parameter allow: ranges allowed although they would be refused (`import.allow`).
    public init(allow: [String]) {
        allowed = allow.compactMap(AddressRange.init(parsing:))
    }

    private static func ranges(_ list: [(String, String)]) -> [(AddressRange, String)] {
        list.compactMap { text, reason in AddressRange(parsing: text).map { ($0, reason) } }
    }

    static let refusedIPv4 = ranges([
        ("0.0.0.0/8", "this network"), ("10.0.0.0/8", "private"), ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"), ("169.254.0.0/16", "link-local (cloud metadata lives here)"),
        ("172.16.0.0/12", "private"), ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"), ("192.88.99.0/24", "6to4 relay"), ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"), ("198.51.100.0/24", "documentation"), ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"), ("240.0.0.0/4", "reserved"),
    ])

    static let refusedIPv6 = ranges([
        ("::/128", "unspecified"), ("::1/128", "loopback"), ("100::/64", "discard"),
        ("2001:db8::/32", "documentation"), ("2001::/32", "Teredo"), ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"), ("fec0::/10", "site-local"), ("ff00::/8", "multicast"),
    ])

    /// Why an import may not connect to this address, or `nil` when it may.
    public func refusal(for address: IPAddress) -> String? {
        if allowed.contains(where: { $0.contains(address) }) { return nil }
        return Self.refusal(address)
    }

    static func refusal(_ address: IPAddress) -> String? {
        if address.isIPv4 {
            return refusedIPv4.first { $0.0.contains(address) }.map { "\(address) is \($0.1)" }
        }
        if let embedded = embeddedIPv4(address) {
            if let reason = refusal(embedded) { return "\(address) embeds \(reason)" }
            return nil
        }
        return refusedIPv6.first { $0.0.contains(address) }.map { "\(address) is \($0.1)" }
    }

    /// The IPv4 address an IPv6 address carries: `::ffff:a.b.c.d` (mapped), `::a.b.c.d` (compatible),
    /// `64:ff9b::a.b.c.d` and `64:ff9b:1::/48` (NAT64), `2002:AABB:CCDD::/16` (6to4).
    static func embeddedIPv4(_ address: IPAddress) -> IPAddress? {
        let b = address.bytes
        guard b.count == 16 else { return nil }
        let zeros10 = b[0..<10].allSatisfy { $0 == 0 }
        if zeros10 && b[10] == 0xFF && b[11] == 0xFF { return IPAddress(bytes: Array(b[12..<16])) }
        if zeros10 && b[10] == 0 && b[11] == 0 && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1) {
            return IPAddress(bytes: Array(b[12..<16]))
        }
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B {
            return IPAddress(bytes: Array(b[12..<16]))
        }
        if b[0] == 0x20 && b[1] == 0x02 { return IPAddress(bytes: Array(b[2..<6])) }
        return nil
    }
}
