// Walks JPEG markers up to the frame header (SOF), picking up the EXIF orientation from APP1 on the way.

/// Reads a JPEG's size and orientation from its markers, without libjpeg and without decoding.
enum JPEGHeaderParser {
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageHeader {
        var orientation = 1
        var position = 2  // after SOI
        let count = bytes.count
        while position < count {
            // Skip anything up to the next marker prefix (libjpeg does the same, with a warning the decoder rejects).
            guard bytes[position] == 0xFF else {
                position += 1
                continue
            }
            while position < count && bytes[position] == 0xFF { position += 1 }
            guard position < count else { break }
            let marker = bytes[position]
            position += 1
            if marker == 0x01 || marker == 0xD8 || (0xD0...0xD7).contains(marker) { continue }
            if marker == 0xD9 {
                throw .corrupt(format: .jpeg, detail: "end of image marker before any frame header: no picture")
            }
            if marker == 0xDA {
                throw .corrupt(format: .jpeg, detail: "scan data before any frame header (SOF)")
            }
            guard position + 2 <= count else { break }
            let length = Int(bytes[position]) << 8 | Int(bytes[position + 1])
            guard length >= 2 else {
                throw .corrupt(format: .jpeg, detail: "marker 0x\(hex(marker)) has an invalid length \(length)")
            }
            let body = position + 2
            let end = position + length
            if isStartOfFrame(marker) {
                guard length >= 8 else {
                    throw .corrupt(format: .jpeg, detail: "frame header (SOF) of \(length) bytes is too short")
                }
                guard body + 5 <= count else { break }
                let height = Int(bytes[body + 1]) << 8 | Int(bytes[body + 2])
                let width = Int(bytes[body + 3]) << 8 | Int(bytes[body + 4])
                guard width > 0, height > 0 else { throw .invalidDimensions(width: width, height: height) }
                return ImageHeader(format: .jpeg, width: width, height: height, orientation: orientation)
            }
            if marker == 0xE1, end <= count, length >= 8 {
                let exif = UnsafeRawBufferPointer(rebasing: bytes[body..<end])
                if exif.starts(with: [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]) {  // "Exif\0\0"
                    orientation =
                        EXIFOrientation.read(tiff: UnsafeRawBufferPointer(rebasing: exif[6...])) ?? orientation
                }
            }
            position = end
        }
        throw .truncated(detail: "the JPEG data ends before its frame header (SOF)")
    }

    /// SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    private static func isStartOfFrame(_ marker: UInt8) -> Bool {
        (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }
}
