// The one `Range: bytes=…` form clients use; several ranges are answered with the whole file (RFC 9110 allows it).

/// A single byte range of a file of known size.
package enum ByteRange {
    /// What a Range header asks of a file of `size` bytes.
    package enum Request: Equatable {
        /// No usable Range header (absent, not bytes, several ranges, malformed): send the whole file.
        case whole
        /// Send these bytes (inclusive), 206.
        case part(ClosedRange<Int>)
        /// The range starts past the end: 416.
        case unsatisfiable
    }

    /// Interprets a Range header value for a file of `size` bytes.
    package static func parse(_ header: String?, size: Int) -> Request {
        guard let header, header.hasPrefix("bytes=") else { return .whole }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: " ")
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            // bytes=-N: the last N bytes.
            guard let count = Int(last), count >= 0 else { return .whole }
            guard count > 0, size > 0 else { return .unsatisfiable }
            return .part(max(0, size - count)...(size - 1))
        }
        guard let start = Int(first), start >= 0 else { return .whole }
        guard start < size else { return .unsatisfiable }
        if last.isEmpty { return .part(start...(size - 1)) }
        guard let end = Int(last), end >= start else { return .whole }
        return .part(start...min(end, size - 1))
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in character: Character) -> Substring {
        var text = self
        while text.first == character { text.removeFirst() }
        while text.last == character { text.removeLast() }
        return text
    }
}
