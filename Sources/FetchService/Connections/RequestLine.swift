// The method and the version of a request line the HTTP parser stopped, read from its raw bytes
// (`RequestHeadGuard` keeps its ends): well-formed ones are answered for what they are (501, 505), the rest is 400.

/// Reads the parts of a raw request line (RFC 9112 §3: `method SP request-target SP HTTP-version`).
enum RequestLine {
    /// The method of a line that starts with a token and a space, else nil.
    /// - Parameter start: the first bytes of the line.
    static func method(in start: [UInt8]) -> String? {
        guard let space = start.firstIndex(of: UInt8(ascii: " ")), space > 0 else { return nil }
        let token = start[..<space]
        guard token.allSatisfy(isTokenCharacter) else { return nil }
        return String(decoding: token, as: UTF8.self)
    }

    /// The version of a line that ends with a space and `HTTP/DIGIT.DIGIT`, else nil.
    /// - Parameter end: the last bytes of the line, without its line end.
    static func version(in end: [UInt8]) -> String? {
        let version = Array(end.suffix(8))
        guard end.count > 8, end[end.count - 9] == UInt8(ascii: " "), version.starts(with: Array("HTTP/".utf8)),
            isDigit(version[5]), version[6] == UInt8(ascii: "."), isDigit(version[7])
        else { return nil }
        return String(decoding: version, as: UTF8.self)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    /// RFC 9110 §5.6.2's tchar: letters, digits and ``!#$%&'*+-.^_`|~``.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
