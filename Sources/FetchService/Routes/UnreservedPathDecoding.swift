// Percent-encoded unreserved characters in a request's path, decoded before routing: RFC 3986 §6.2.2.2 makes
// `/images/c%61t` and `/images/cat` one resource (nginx serves both; until session 29 the first was 400 `invalid_id`,
// `/thumbnails/%32%35%36` 404). Only ALPHA, DIGIT, `-`, `.`, `_` and `~` are decoded: an encoded `/` (`%2F`), `%25`,
// NUL and every other reserved or control byte stay as they came, so `a%2Fb` is still one segment the id rules
// refuse, and `%2e%2e` becomes the `..` they refuse too.
import PipelineCore

/// Decoding of percent-encoded unreserved characters in a path.
enum UnreservedPathDecoding {
    /// The path with its percent-encoded unreserved characters decoded, up to its query (which is left as it is);
    /// `nil` when it has none.
    static func decoded(_ path: String) -> String? {
        let bytes = Array(path.utf8)
        let end = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.count
        guard bytes[..<end].contains(UInt8(ascii: "%")) else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        var changed = false
        while index < end {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < end, let high = HexDigit.value(bytes[index + 1]),
                let low = HexDigit.value(bytes[index + 2]), isUnreserved(high << 4 | low)
            {
                result.append(high << 4 | low)
                index += 3
                changed = true
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        guard changed else { return nil }
        result.append(contentsOf: bytes[end...])
        return String(decoding: result, as: UTF8.self)
    }

    /// RFC 3986's unreserved characters.
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
