// `Range: bytes=…`: one range (206 with Content-Range), or several, answered as nginx answers them, one
// `multipart/byteranges` body (sorted, overlapping and adjacent ranges merged, at most `maxParts`).
import HTTPTypes
import NIOCore

/// The byte ranges a request asks of a file of known size.
package enum ByteRange {
    /// What a Range header asks of a file of `size` bytes.
    package enum Request: Equatable {
        /// No usable Range header (absent, not bytes, malformed, too many ranges): send the whole file.
        case whole
        /// Send these bytes (inclusive), 206.
        case part(ClosedRange<Int>)
        /// Send these ranges (at least two, sorted, apart) as the parts of a `multipart/byteranges` body, 206.
        case parts([ClosedRange<Int>])
        /// Every range starts past the end: 416.
        case unsatisfiable
    }

    /// The most ranges answered as parts; more (after merging) get the whole file: a request of many small
    /// overlapping ranges made servers do much work for little ("Apache Killer", CVE-2011-3192).
    package static let maxParts = 16

    /// Interprets a Range header value for a file of `size` bytes.
    /// - Parameter multiple: whether several ranges are answered as parts (the HTTP API; S3 sends the whole
    ///   object for them, as S3 does).
    package static func parse(_ header: String?, size: Int, multiple: Bool = false) -> Request {
        // The unit is case-insensitive (RFC 9110 14.1: `BYTES=0-5`), and empty list elements are allowed (5.6.1:
        // `bytes=0-5,`, `bytes=,0-5`); until session 29 both sent the whole file.
        guard let header, header.utf8.count > 6, header.prefix(6).lowercased() == "bytes=" else { return .whole }
        let specs = header.dropFirst(6).split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        guard !specs.isEmpty, multiple || specs.count == 1 else { return .whole }
        var ranges: [ClosedRange<Int>] = []
        for spec in specs {
            switch single(spec, size: size) {
            case .part(let range): ranges.append(range)
            case .unsatisfiable: continue
            case .whole, .parts: return .whole
            }
        }
        guard !ranges.isEmpty else { return .unsatisfiable }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<Int>] = []
        for range in ranges {
            if let last = merged.last, range.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        if merged.count == 1 { return .part(merged[0]) }
        return merged.count <= maxParts ? .parts(merged) : .whole
    }

    /// One `first-last`, `first-` or `-suffix` spec.
    private static func single(_ spec: Substring, size: Int) -> Request {
        guard let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash]
        let last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            // bytes=-N: the last N bytes.
            guard let count = position(last) else { return .whole }
            guard count > 0, size > 0 else { return .unsatisfiable }
            return .part(max(0, size - count)...(size - 1))
        }
        guard let start = position(first) else { return .whole }
        guard start < size else { return .unsatisfiable }
        if last.isEmpty { return .part(start...(size - 1)) }
        guard let end = position(last), end >= start else { return .whole }
        return .part(start...min(end, size - 1))
    }

    /// A byte position: digits only (no sign, no space). One past `Int.max` reads as `Int.max`, since a position
    /// beyond every file is clamped as any past the end is (nginx answers `bytes=0-99999999999999999999999` with
    /// 206 of the whole file; until session 29 such a range was thrown away and the file sent with 200).
    private static func position(_ text: Substring) -> Int? {
        guard !text.isEmpty else { return nil }
        var value = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (shifted, over) = value.multipliedReportingOverflow(by: 10)
            let (sum, overAgain) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            value = over || overAgain ? Int.max : sum
        }
        return value
    }
}

/// A `multipart/byteranges` body: each range with its own Content-Type and Content-Range, between boundaries.
package struct MultipartByteRanges: Sendable {
    package let ranges: [ClosedRange<Int>]
    let size: Int
    let contentType: String
    let boundary: String

    /// - Parameters:
    ///   - ranges: the parts, as `ByteRange.parse` gives them.
    ///   - size: the file's size (each part's Content-Range names it).
    ///   - contentType: the file's type, which every part carries.
    package init(ranges: [ClosedRange<Int>], size: Int, contentType: String) {
        self.ranges = ranges
        self.size = size
        self.contentType = contentType
        // Random, so a picture's bytes cannot be made to hold it; 16 hex digits always, so a HEAD's length is the GET's.
        let digits = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        boundary = "picpipe-" + String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The answer's Content-Type.
    package var headerValue: String { "multipart/byteranges; boundary=\(boundary)" }

    /// The bytes of the file the parts hold.
    package var partBytes: Int { ranges.reduce(0) { $0 + $1.count } }

    /// The body's length: the parts and the framing around them.
    package var contentLength: Int {
        ranges.indices.reduce(closing.utf8.count) { $0 + head(of: $1).utf8.count + ranges[$1].count }
    }

    /// Sets the answer's type and length (each part names its own range; the answer has no Content-Range).
    package func describe(_ fields: inout HTTPFields) {
        fields[.contentType] = headerValue
        fields[.contentLength] = String(contentLength)
    }

    /// The body, each part's bytes from `bytes` (which must give `range.count` bytes).
    package func body(_ bytes: (ClosedRange<Int>) -> ByteBuffer?) -> ByteBuffer {
        var body = ByteBuffer()
        body.reserveCapacity(contentLength)
        for index in ranges.indices {
            body.writeString(head(of: index))
            if var part = bytes(ranges[index]) { body.writeBuffer(&part) }
        }
        body.writeString(closing)
        return body
    }

    private func head(of index: Int) -> String {
        let range = ranges[index]
        return "\r\n--\(boundary)\r\nContent-Type: \(contentType)\r\n"
            + "Content-Range: bytes \(range.lowerBound)-\(range.upperBound)/\(size)\r\n\r\n"
    }

    private var closing: String { "\r\n--\(boundary)--\r\n" }
}

extension Substring {
    /// Without the optional whitespace (spaces, tabs) around a list element.
    fileprivate func trimmingWhitespace() -> Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return text
    }
}
