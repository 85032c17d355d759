// The chunks of a WebP file's RIFF container, walked with every length checked against the data.

/// Finds chunks (EXIF, ICCP) in a WebP file without decoding anything.
public enum RIFFChunks {
    /// The payload range of the first chunk named `fourCC` in a WebP file, or `nil` when there is none in `bytes`
    /// (a chunk whose length runs past the data counts as absent).
    public static func find(_ fourCC: String, in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        let name = Array(fourCC.utf8)
        guard name.count == 4, bytes.count >= 12 else { return nil }
        var position = 12  // after "RIFF", the size and "WEBP"
        while position + 8 <= bytes.count {
            let length =
                Int(bytes[position + 4]) | Int(bytes[position + 5]) << 8 | Int(bytes[position + 6]) << 16
                | Int(bytes[position + 7]) << 24
            let body = position + 8
            guard length <= bytes.count - body else { return nil }
            if (0..<4).allSatisfy({ bytes[position + $0] == name[$0] }) { return body..<(body + length) }
            position = body + length + (length & 1)  // chunks are padded to an even size
        }
        return nil
    }

    /// The TIFF structure of a WebP EXIF chunk (some writers put "Exif\0\0" before it, as JPEG's APP1 does).
    public static func exifTIFF(in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        guard var range = find("EXIF", in: bytes) else { return nil }
        let exifHeader: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]
        if range.count >= 6, (0..<6).allSatisfy({ bytes[range.lowerBound + $0] == exifHeader[$0] }) {
            range = (range.lowerBound + 6)..<range.upperBound
        }
        return range
    }

    /// The size the RIFF header declares for the whole file (8 more than its size field).
    static func declaredFileSize(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 8 else { return nil }
        return (Int(bytes[4]) | Int(bytes[5]) << 8 | Int(bytes[6]) << 16 | Int(bytes[7]) << 24) + 8
    }
}
