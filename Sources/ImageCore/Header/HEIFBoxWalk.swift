// A shallow walk of ISOBMFF boxes (the container of HEIC and AVIF) by their declared sizes, for the few boxes picpipe
// reads before libheif does: the transform properties, the derived-image references, and whether a head ends
// inside `meta`.

enum HEIFBoxWalk {
    /// A box header as declared: its type, where its payload starts, and where it says it ends (`nil`: at the end of
    /// the data, size 0). The end may lie past the bytes at hand.
    struct Header {
        let type: String
        let payload: Int
        let declaredEnd: Int?
    }

    /// What the bytes at a position hold: a header, the start of one cut off by `end`, or sizes no box can have.
    enum HeaderRead {
        case header(Header)
        case cut
        case damaged
    }

    /// The box header at `position`, read no further than `end`.
    static func header(at position: Int, in bytes: UnsafeRawBufferPointer, end: Int) -> HeaderRead {
        guard position >= 0, end <= bytes.count else { return .damaged }
        guard position + 8 <= end else { return .cut }
        let size = Int(bytes[position]) << 24 | Int(bytes[position + 1]) << 16 | Int(bytes[position + 2]) << 8
            | Int(bytes[position + 3])
        let type = String(
            decoding: UnsafeRawBufferPointer(rebasing: bytes[(position + 4)..<(position + 8)]), as: UTF8.self)
        switch size {
        case 0:  // to the end of the file
            return .header(Header(type: type, payload: position + 8, declaredEnd: nil))
        case 1:  // a 64-bit size follows the type
            guard position + 16 <= end else { return .cut }
            var wide: UInt64 = 0
            for index in 0..<8 { wide = wide << 8 | UInt64(bytes[position + 8 + index]) }
            guard wide >= 16, wide <= UInt64(Int.max / 2) else { return .damaged }
            return .header(Header(type: type, payload: position + 16, declaredEnd: position + Int(wide)))
        default:
            guard size >= 8 else { return .damaged }
            return .header(Header(type: type, payload: position + 8, declaredEnd: position + size))
        }
    }

    /// The box at `position`: its type, where its payload starts and where it ends (`nil` past `end` or damaged).
    static func box(at position: Int, in bytes: UnsafeRawBufferPointer, end: Int)
        -> (type: String, payload: Int, end: Int)?
    {
        guard case .header(let header) = self.header(at: position, in: bytes, end: end) else { return nil }
        let boxEnd = header.declaredEnd ?? end
        guard boxEnd <= end else { return nil }
        return (header.type, header.payload, boxEnd)
    }

    /// A big-endian unsigned integer of `length` bytes at `position`, if the bytes reach that far (`limit`). Values
    /// of 2^40 or more are `nil`: no offset or size in a file held in memory is that large, and sums of the values
    /// read stay far from overflowing.
    static func integer(_ bytes: UnsafeRawBufferPointer, _ position: Int, _ length: Int, limit: Int) -> Int? {
        guard length >= 0, length <= 8, position >= 0, position <= Int.max - 8,
            position + length <= min(limit, bytes.count)
        else { return nil }
        let value = (0..<length).reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[position + $1]) }
        return value < 1 << 40 ? Int(value) : nil
    }

    /// Where the child boxes of a full box (`meta`) start: after its version and flags. `nil` when the payload is
    /// too short to hold them (a hostile `meta` of size 9 made the range start past its end: a crash).
    static func fullBoxChildren(of payload: Range<Int>) -> Range<Int>? {
        payload.count >= 4 ? (payload.lowerBound + 4)..<payload.upperBound : nil
    }

    /// The payload range of the first box of `type` directly inside `range`.
    static func child(_ type: String, in bytes: UnsafeRawBufferPointer, range: Range<Int>)
        -> Range<Int>?
    {
        var position = range.lowerBound
        while let box = box(at: position, in: bytes, end: range.upperBound) {
            if box.type == type { return box.payload..<box.end }
            position = box.end
        }
        return nil
    }
}
