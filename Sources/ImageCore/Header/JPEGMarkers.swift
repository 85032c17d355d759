// The walk over a JPEG's marker segments up to its first scan, shared by the header parser (size, orientation) and
// the colour reader (ICC chunks, EXIF colour space, components), so both read the same markers the same way.

/// One marker segment: the marker, and where its body lies (`end` is as declared and may lie past the data).
package struct JPEGMarkerSegment {
    package let marker: UInt8
    /// The declared length, the two length bytes included.
    package let length: Int
    /// The first byte after the length.
    package let body: Int
    /// Where the segment says it ends; may lie past the end of the data in a cut file.
    package let end: Int

    /// SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    package var isStartOfFrame: Bool {
        (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
    }
}

/// Walks the marker segments of a JPEG after SOI.
package enum JPEGMarkers {
    /// Why a walk ended.
    package enum End {
        /// The data ran out.
        case endOfData
        /// Scan data (SOS, 0xDA) or end of image (EOI, 0xD9) came.
        case reached(marker: UInt8)
        /// A segment declared a length under 2.
        case invalidLength(marker: UInt8, length: Int)
        /// The visitor asked to stop.
        case stopped
    }

    /// Calls `visit` for each segment in order until it returns `false`, the data runs out, a scan or the end of
    /// the image comes, or a length is invalid. Fill bytes and stray data before a marker are skipped, as libjpeg
    /// does (with a warning the decoder rejects); standalone markers (TEM, RSTn, SOI) have no segment.
    package static func walk<E: Error>(
        _ bytes: UnsafeRawBufferPointer, visit: (JPEGMarkerSegment) throws(E) -> Bool
    ) throws(E) -> End {
        var position = 2  // after SOI
        let count = bytes.count
        while position < count {
            guard bytes[position] == 0xFF else {
                position += 1
                continue
            }
            while position < count && bytes[position] == 0xFF { position += 1 }
            guard position < count else { break }
            let marker = bytes[position]
            position += 1
            if marker == 0x01 || marker == 0xD8 || (0xD0...0xD7).contains(marker) { continue }
            if marker == 0xD9 || marker == 0xDA { return .reached(marker: marker) }
            guard position + 2 <= count else { break }
            let length = Int(bytes[position]) << 8 | Int(bytes[position + 1])
            guard length >= 2 else { return .invalidLength(marker: marker, length: length) }
            let segment = JPEGMarkerSegment(marker: marker, length: length, body: position + 2, end: position + length)
            guard try visit(segment) else { return .stopped }
            position = segment.end
        }
        return .endOfData
    }
}
