// Walks JPEG markers up to the frame header (SOF), picking up the EXIF orientation from APP1 on the way.

/// Reads a JPEG's size and orientation from its markers, without libjpeg and without decoding.
enum JPEGHeaderParser {
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageHeader {
        var orientation = 1
        var header: ImageHeader?
        let end = try JPEGMarkers.walk(bytes) { (segment) throws(ImageError) -> Bool in
            let body = segment.body
            if segment.isStartOfFrame {
                guard segment.length >= 8 else {
                    throw .corrupt(format: .jpeg, detail: "frame header (SOF) of \(segment.length) bytes is too short")
                }
                guard body + 5 <= bytes.count else { return false }
                let height = Int(bytes[body + 1]) << 8 | Int(bytes[body + 2])
                let width = Int(bytes[body + 3]) << 8 | Int(bytes[body + 4])
                guard width > 0, height > 0 else { throw .invalidDimensions(width: width, height: height) }
                header = ImageHeader(format: .jpeg, width: width, height: height, orientation: orientation)
                return false
            }
            if segment.marker == 0xE1, segment.end <= bytes.count, segment.length >= 8 {
                let exif = UnsafeRawBufferPointer(rebasing: bytes[body..<segment.end])
                if exif.starts(with: [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]) {  // "Exif\0\0"
                    orientation =
                        EXIFOrientation.read(tiff: UnsafeRawBufferPointer(rebasing: exif[6...])) ?? orientation
                }
            }
            return true
        }
        if let header { return header }
        switch end {
        case .reached(marker: 0xD9):
            throw .corrupt(format: .jpeg, detail: "end of image marker before any frame header: no picture")
        case .reached:
            throw .corrupt(format: .jpeg, detail: "scan data before any frame header (SOF)")
        case .invalidLength(let marker, let length):
            throw .corrupt(format: .jpeg, detail: "marker 0x\(hex(marker)) has an invalid length \(length)")
        case .endOfData, .stopped:
            throw .truncated(detail: "the JPEG data ends before its frame header (SOF)")
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }
}
