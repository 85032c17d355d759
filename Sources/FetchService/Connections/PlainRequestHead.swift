// The head of a plain GET or HEAD read straight from a connection's bytes, for the raw-bytes shortcut: a request
// line and a few well-known header fields, nothing else. Whatever is not plain in exactly this strict sense (another
// method or version, an unknown or repeated field, a body, a folded line, a bare LF, a head past the limits, an
// incomplete head) is not read here at all: those bytes go to the HTTP decoder, which answers them as it always did.
import HTTPTypes
import NIOCore

/// A complete plain request head at the start of a buffer: where its parts are. The `HTTPRequest` is built only when
/// asked for (an answer given again from `RawAnswerMemo` needs the target and a few fields, not a request).
package struct PlainRequestHead {
    /// The bytes read (the head starts at their start).
    package let bytes: ByteBufferView
    package let method: HTTPRequest.Method
    /// The request target.
    package let target: Range<Int>
    /// The Host value.
    package let authority: Range<Int>
    /// The other fields, in order (without trailing spaces), their values counted from `bytes.startIndex` (as
    /// read: shifting them would cost an array for every head with fields besides Host).
    private let fields: [(slot: Int, value: Range<Int>)]
    /// Whether the client asked to close the connection after the answer.
    package let closes: Bool
    /// The head's length in bytes, its final empty line included.
    package let length: Int

    /// The fields a plain thumbnail request may carry (what browsers, curl, wrk and CDNs send for an image), each at
    /// most once. Credentials, cookies and anything that could describe a body are not among them.
    private static let allowed: [(name: [UInt8], field: HTTPField.Name)] = {
        let fields: [(String, HTTPField.Name)] = [
            ("host", HTTPField.Name("Host")!), ("user-agent", .userAgent), ("accept", .accept),
            ("accept-encoding", .acceptEncoding), ("accept-language", .acceptLanguage), ("connection", .connection),
            ("if-none-match", .ifNoneMatch), ("range", .range), ("if-range", .ifRange),
            ("cache-control", .cacheControl), ("pragma", HTTPField.Name("Pragma")!), ("referer", .referer),
            ("sec-fetch-dest", HTTPField.Name("Sec-Fetch-Dest")!),
            ("sec-fetch-mode", HTTPField.Name("Sec-Fetch-Mode")!),
            ("sec-fetch-site", HTTPField.Name("Sec-Fetch-Site")!),
        ]
        return fields.map { (Array($0.0.utf8), $0.1) }
    }()
    private static let close = Array("close".utf8), keepAlive = Array("keep-alive".utf8)
    private static let hostSlot = 0, acceptSlot = 2, connectionSlot = 5
    /// If-None-Match, Range, If-Range: a request with any of them is not answered from `RawAnswerMemo`.
    private static let conditionalSlots: Set<Int> = [6, 7, 8]

    /// Reads a plain head from the start of `bytes`, or returns `nil` (not plain, or not complete in `bytes`).
    /// - Parameter maxLength: the longest head read here (longer ones go to the decoder and its limits).
    package init?(_ bytes: ByteBufferView, maxLength: Int) {
        // Read through a pointer: the view's subscript checked and offset every byte (most of this reader's time).
        guard let parsed = bytes.withContiguousStorageIfAvailable({ Parsed($0, maxLength: maxLength) }) ?? nil
        else { return nil }
        self.bytes = bytes
        method = parsed.method
        target = Self.shifted(parsed.target, to: bytes)
        authority = Self.shifted(parsed.authority, to: bytes)
        fields = parsed.fields
        closes = parsed.closes
        length = parsed.length
    }

    /// A head read from the bytes at `bytes`, positions counted from their start.
    private struct Parsed {
        var method: HTTPRequest.Method
        var target: Range<Int>
        var authority: Range<Int>
        var fields: [(slot: Int, value: Range<Int>)]
        var closes: Bool
        var length: Int

        init?(_ bytes: UnsafeBufferPointer<UInt8>, maxLength: Int) {
            var reader = HeadReader(bytes: bytes, end: min(bytes.count, maxLength))
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
            self.target = target
            fields = []
            var authority: Range<Int>?
            closes = false
            var seen: UInt32 = 0
            while !reader.skip("\r\n") {
                guard let name = reader.take(while: { PlainRequestHead.isTokenByte($0) }), reader.skip(":"),
                    let slot = PlainRequestHead.allowed.firstIndex(where: {
                        PlainRequestHead.equalsLowercased(UnsafeBufferPointer(rebasing: bytes[name]), $0.name)
                    }),
                    seen & (1 << slot) == 0
                else { return nil }
                seen |= 1 << slot
                reader.skipSpaces()
                // Visible ASCII and inner spaces; a line must end in CRLF (no obs-fold, no bare CR or LF, no UTF-8).
                guard let raw = reader.take(while: { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }), reader.skip("\r\n")
                else { return nil }
                var valueEnd = raw.upperBound
                while valueEnd > raw.lowerBound, bytes[valueEnd - 1] == 0x20 { valueEnd -= 1 }
                // A trailing tab stays in the decoder's value (`Connection: close<TAB>` is keep-alive there): such a
                // head is the decoder's to read (found by the RawRequestHead fuzzer).
                guard bytes[valueEnd - 1] != 0x09 else { return nil }
                let value = raw.lowerBound..<valueEnd
                if slot == PlainRequestHead.hostSlot {
                    authority = value
                } else {
                    if slot == PlainRequestHead.connectionSlot {
                        // A Connection other than close or keep-alive may name fields to drop (the decoder's).
                        let text = UnsafeBufferPointer(rebasing: bytes[value])
                        if PlainRequestHead.equalsLowercased(text, PlainRequestHead.close) {
                            closes = true
                        } else if !PlainRequestHead.equalsLowercased(text, PlainRequestHead.keepAlive) {
                            return nil
                        }
                    }
                    fields.append((slot, value))
                }
            }
            // HTTP/1.1 needs a Host.
            guard let authority else { return nil }
            self.authority = authority
            length = reader.position
        }
    }

    /// The request, as the HTTP/1 codec would give it (Host as the authority; the other fields kept, Connection
    /// lowercased as the codec passes it on).
    package var request: HTTPRequest {
        var headerFields = HTTPFields()
        for (slot, value) in fields {
            let text = String(decoding: bytes[Self.shifted(value, to: bytes)], as: UTF8.self)
            headerFields[Self.allowed[slot].field] = slot == Self.connectionSlot ? text.lowercased() : text
        }
        return HTTPRequest(
            method: method, scheme: nil, authority: String(decoding: bytes[authority], as: UTF8.self),
            path: String(decoding: bytes[target], as: UTF8.self), headerFields: headerFields)
    }

    /// Whether it carries If-None-Match, Range or If-Range (its answer depends on more than its target).
    var isConditional: Bool { fields.contains { Self.conditionalSlots.contains($0.slot) } }

    /// The Accept value, when sent.
    var accept: ByteBufferView? {
        fields.first { $0.slot == Self.acceptSlot }.map { bytes[Self.shifted($0.value, to: bytes)] }
    }

    /// A position counted from the start of `bytes` as a position in `bytes`.
    private static func shifted(_ range: Range<Int>, to bytes: ByteBufferView) -> Range<Int> {
        (range.lowerBound + bytes.startIndex)..<(range.upperBound + bytes.startIndex)
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

    private static func equalsLowercased(_ name: UnsafeBufferPointer<UInt8>, _ lowercase: [UInt8]) -> Bool {
        guard name.count == lowercase.count else { return false }
        for index in 0..<name.count where name[index] | 0x20 != lowercase[index] { return false }
        return true
    }
}

/// A cursor over the bytes of one head, never past `end`.
private struct HeadReader {
    let bytes: UnsafeBufferPointer<UInt8>
    let end: Int
    var position = 0

    init(bytes: UnsafeBufferPointer<UInt8>, end: Int) {
        self.bytes = bytes
        self.end = end
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
