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

    /// What an intact JPEG's frame header asks for that picpipe's libjpeg-turbo (8-bit, Debian 12's 2.1) does not
    /// decode: samples of other than 8 bits, lossless or hierarchical coding; `nil` for a frame header it decodes
    /// (or none). Asked only once libjpeg-turbo refused the file, so a file it reads is never refused here.
    static func unsupportedVariant(_ bytes: UnsafeRawBufferPointer) -> ImageError? {
        var frame: (marker: UInt8, precision: Int)?
        _ = JPEGMarkers.walk(bytes) { (segment) throws(Never) -> Bool in
            guard segment.isStartOfFrame else { return true }
            if segment.body < bytes.count { frame = (segment.marker, Int(bytes[segment.body])) }
            return false
        }
        guard let (marker, precision) = frame else { return nil }
        let processes = "picpipe decodes baseline, extended and progressive JPEG"
        let samples = precision == 8 ? "" : " with \(precision)-bit samples"
        let detail: String
        switch marker {
        case 0xC3, 0xCB:
            detail = "lossless coding\(samples) (SOF\(marker - 0xC0); \(processes))"
        case 0xC5, 0xC6, 0xC7, 0xCD, 0xCE, 0xCF:
            detail = "hierarchical coding\(samples) (SOF\(marker - 0xC0); \(processes))"
        default:
            guard precision != 8 else { return nil }
            detail = "\(precision)-bit samples (picpipe decodes 8-bit JPEG)"
        }
        return .unsupportedVariant(format: .jpeg, detail: detail)
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }
}
