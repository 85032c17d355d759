// The head of a plain GET or HEAD read straight from a connection's bytes, for the raw-bytes shortcut: a request
// line and a few well-known header fields, nothing else. Whatever is not plain in exactly this strict sense (another
// method or version, an unknown or repeated field, a body, a folded line, a bare LF, a head past the limits, an
// incomplete head) is not read here at all: those bytes go to the HTTP decoder, which answers them as it always did.
import HTTPTypes
import NIOCore

/// A complete plain request head at the start of a buffer.
struct PlainRequestHead {
    /// The request, as the HTTP/1 codec would give it (Host as the authority; the other fields kept).
    var request: HTTPRequest
    /// The head's length in bytes, its final empty line included.
    var length: Int

    /// The fields a plain thumbnail request may carry (what browsers, curl, wrk and CDNs send for an image), each at
    /// most once. Credentials, cookies and anything that could describe a body are not among them.
    private static let allowed: [(name: [UInt8], field: HTTPField.Name)] = {
        let fields: [(String, HTTPField.Name)] = [
            ("host", HTTPField.Name("Host")!), ("user-agent", .userAgent), ("accept", .accept),
            ("accept-encoding", .acceptEncoding), ("accept-language", .acceptLanguage), ("connection", .connection),
            ("if-none-match", .ifNoneMatch), ("range", .range), ("if-range", .ifRange),
            ("cache-control", .cacheControl), ("pragma", HTTPField.Name("Pragma")!), ("referer", .referer),
            ("sec-fetch-dest", HTTPField.Name("Sec-Fetch-Dest")!), ("sec-fetch-mode", HTTPField.Name("Sec-Fetch-Mode")!),
            ("sec-fetch-site", HTTPField.Name("Sec-Fetch-Site")!),
        ]
        return fields.map { (Array($0.0.utf8), $0.1) }
    }()

    /// Reads a plain head from the start of `bytes`, or returns `nil` (not plain, or not complete in `bytes`).
    /// - Parameter maxLength: the longest head read here (longer ones go to the decoder and its limits).
    init?(_ bytes: ByteBufferView, maxLength: Int) {
        var reader = HeadReader(bytes: bytes, end: bytes.startIndex + min(bytes.count, maxLength))
        let method: HTTPRequest.Method
        if reader.skip("GET ") {
            method = .get
        } else if reader.skip("HEAD ") {
            method = .head
        } else {
            return nil
        }
        // origin-form only: a path, no fragment, no spaces or controls.
        guard let target = reader.take(while: { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "#") }),
            bytes[target.lowerBound] == UInt8(ascii: "/"), reader.skip(" HTTP/1.1\r\n")
        else { return nil }
        var fields = HTTPFields()
        var authority: String?
        var seen = Set<Int>()
        while !reader.skip("\r\n") {
            guard let name = reader.take(while: { Self.isTokenByte($0) }), reader.skip(":"),
                let slot = Self.allowed.firstIndex(where: { Self.equalsLowercased(bytes[name], $0.name) }),
                seen.insert(slot).inserted
            else { return nil }
            reader.skipSpaces()
            // Visible ASCII and inner spaces; a line must end in CRLF (no obs-fold, no bare CR or LF, no UTF-8).
            guard let raw = reader.take(while: { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }), reader.skip("\r\n")
            else { return nil }
            let value = String(decoding: Self.trimmingTrailingSpaces(bytes[raw]), as: UTF8.self)
            let field = Self.allowed[slot].field
            if slot == 0 {
                authority = value
            } else {
                fields[field] = value
            }
        }
        // HTTP/1.1 needs a Host; a Connection other than close or keep-alive may name fields to drop (the decoder's).
        guard let authority else { return nil }
        if let connection = fields[.connection] {
            let lowered = connection.lowercased()
            guard lowered == "close" || lowered == "keep-alive" else { return nil }
            // As the codec passes it on (the shortcut compares with "close").
            fields[.connection] = lowered
        }
        request = HTTPRequest(
            method: method, scheme: nil, authority: authority, path: String(decoding: bytes[target], as: UTF8.self),
            headerFields: fields)
        length = reader.position - bytes.startIndex
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    private static func equalsLowercased(_ name: ByteBufferView, _ lowercase: [UInt8]) -> Bool {
        name.count == lowercase.count && zip(name, lowercase).allSatisfy { ($0 | 0x20) == $1 }
    }

    private static func trimmingTrailingSpaces(_ value: ByteBufferView) -> ByteBufferView {
        var end = value.endIndex
        while end > value.startIndex, value[end - 1] == 0x20 || value[end - 1] == 0x09 { end -= 1 }
        return value[..<end]
    }
}

/// A cursor over the bytes of one head, never past `end`.
private struct HeadReader {
    let bytes: ByteBufferView
    let end: Int
    var position: Int

    init(bytes: ByteBufferView, end: Int) {
        self.bytes = bytes
        self.end = end
        position = bytes.startIndex
    }

    /// Moves past `literal` if the bytes at the cursor are exactly it.
    mutating func skip(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard end - position >= count else { return false }
        let matches = literal.withUTF8Buffer { expected in
            var index = position
            for byte in expected {
                guard bytes[index] == byte else { return false }
                index += 1
            }
            return true
        }
        if matches { position += count }
        return matches
    }

    /// Where the non-empty run of bytes at the cursor that satisfy `accepts` lies, moving past it; `nil` when the
    /// run is empty or reaches `end` (the head is not all there, or is longer than allowed).
    mutating func take(while accepts: (UInt8) -> Bool) -> Range<Int>? {
        let start = position
        while position < end, accepts(bytes[position]) { position += 1 }
        guard position > start, position < end else { return nil }
        return start..<position
    }

    mutating func skipSpaces() {
        while position < end, bytes[position] == 0x20 || bytes[position] == 0x09 { position += 1 }
    }
}
