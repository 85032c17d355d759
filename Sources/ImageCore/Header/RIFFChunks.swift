// The chunks of a WebP file's RIFF container, walked with every length checked against the data.

/// Finds chunks (EXIF, ICCP) in a WebP file without decoding anything.
public enum RIFFChunks {
    /// Where the first chunk of a name is in a WebP file, or why it is not there.
    public enum Lookup: Equatable, Sendable {
        /// The chunk's payload.
        case found(Range<Int>)
        /// The chunks end with the bytes and none has the name.
        case absent
        /// The walk stopped at a chunk (named `chunk`) whose declared `length` runs past the end of the bytes.
        case runsPastEnd(chunk: String, length: Int)
    }

    /// The payload range of the first chunk named `fourCC` in a WebP file, or `nil` when there is none in `bytes`
    /// (a chunk whose length runs past the data counts as absent).
    public static func find(_ fourCC: String, in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        guard case .found(let range) = lookup(fourCC, in: bytes) else { return nil }
        return range
    }

    /// The first chunk named `fourCC` in a WebP file, or what ended the walk before one was found.
    public static func lookup(_ fourCC: String, in bytes: UnsafeRawBufferPointer) -> Lookup {
        let name = Array(fourCC.utf8)
        guard name.count == 4, bytes.count >= 12 else { return .absent }
        var position = 12  // after "RIFF", the size and "WEBP"
        while position + 8 <= bytes.count {
            let length =
                Int(bytes[position + 4]) | Int(bytes[position + 5]) << 8 | Int(bytes[position + 6]) << 16
                | Int(bytes[position + 7]) << 24
            let body = position + 8
            guard length <= bytes.count - body else {
                let seen = UnsafeRawBufferPointer(rebasing: bytes[position..<body - 4])
                return .runsPastEnd(chunk: String(decoding: seen, as: UTF8.self), length: length)
            }
            if (0..<4).allSatisfy({ bytes[position + $0] == name[$0] }) { return .found(body..<(body + length)) }
            position = body + length + (length & 1)  // chunks are padded to an even size
        }
        return .absent
    }

    /// The TIFF structure of a WebP EXIF chunk (some writers put "Exif\0\0" before it, as JPEG's APP1 does).
    public static func exifTIFF(in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        guard case .found(let range) = exifLookup(in: bytes) else { return nil }
        return range
    }

    /// The EXIF chunk's TIFF structure (`exifTIFF`), or what ended the walk before an EXIF chunk was found.
    public static func exifLookup(in bytes: UnsafeRawBufferPointer) -> Lookup {
        let chunk = lookup("EXIF", in: bytes)
        guard case .found(var range) = chunk else { return chunk }
        let exifHeader: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]
        if range.count >= 6, (0..<6).allSatisfy({ bytes[range.lowerBound + $0] == exifHeader[$0] }) {
            range = (range.lowerBound + 6)..<range.upperBound
        }
        return .found(range)
    }

    /// The size the RIFF header declares for the whole file (8 more than its size field).
    static func declaredFileSize(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 8 else { return nil }
        return (Int(bytes[4]) | Int(bytes[5]) << 8 | Int(bytes[6]) << 16 | Int(bytes[7]) << 24) + 8
    }
}
