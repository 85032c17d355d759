// Finding the EXIF block inside a file: the first JPEG APP1 "Exif\0\0" segment, the PNG eXIf chunk (else an
// ImageMagick raw profile in a text chunk), the WebP EXIF chunk, or the HEIC/AVIF Exif item (copied out by libheif).
import ImageCore

/// Where a file keeps its EXIF block, found by walking the JPEG segments or PNG chunks (no pixel data is read).
enum ExifSegment: Equatable {
    /// The TIFF block (after any "Exif\0\0" header) is at this range of the bytes.
    case found(Range<Int>)
    /// The TIFF block, copied out of a HEIF container (whose items may lie anywhere in the file) or decoded from a
    /// PNG raw profile, with what is wrong about the container when the block is still read (`exif_error` unless
    /// the block itself has a problem).
    case copied([UInt8], note: String?)
    /// The file holds no EXIF block.
    case absent
    /// The bytes end before the walk could finish: a longer prefix of the file is needed.
    case incomplete
    /// The container announces an EXIF block it does not hold (a length past the end of the file, a HEIF Exif
    /// item's TIFF offset past its end).
    case broken(String)

    /// Walks `bytes` (a whole file, or a prefix when `isWholeFile` is false).
    static func locate(in bytes: UnsafeRawBufferPointer, format: ImageFormat, isWholeFile: Bool) -> ExifSegment {
        switch format {
        case .jpeg: return locateInJPEG(bytes, isWholeFile: isWholeFile)
        case .png: return locateInPNG(bytes, isWholeFile: isWholeFile)
        case .webp:
            switch RIFFChunks.exifLookup(in: bytes) {
            case .found(let range): return .found(range)
            case .runsPastEnd(let chunk, let length) where chunk == "EXIF" && isWholeFile:
                return .broken("EXIF chunk of \(length) bytes runs past the end of the file")
            case .absent, .runsPastEnd: return isWholeFile ? .absent : .incomplete
            }
        case .gif: return .absent
        case .heic, .avif:
            // libheif needs the whole container; the header read already asked for it when a prefix fell short.
            guard isWholeFile else { return .incomplete }
            switch HEIFMetadata.exif(in: bytes, format: format) {
            case .tiff(let tiff): return .copied(tiff, note: nil)
            case .absent: return .absent
            case .unreadable(let reason): return .broken(reason)
            }
        }
    }

    private static let exifHeader: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]

    private static func hasExifHeader(_ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int) -> Bool {
        guard end - offset >= 6 else { return false }
        for index in 0..<6 where bytes[offset + index] != exifHeader[index] { return false }
        return true
    }

    /// The first APP1 "Exif\0\0" segment before the scan, found by the header parser's marker walk: stray bytes
    /// between segments are skipped as libjpeg and exiftool skip them, so a 0x0A after APP0 hides nothing.
    private static func locateInJPEG(_ bytes: UnsafeRawBufferPointer, isWholeFile: Bool) -> ExifSegment {
        let count = bytes.count
        var found: ExifSegment?
        let end = JPEGMarkers.walk(bytes) { segment in
            guard segment.marker == 0xE1, hasExifHeader(bytes, at: segment.body, end: min(segment.end, count)) else {
                return true
            }
            if segment.end <= count {
                found = .found(segment.body + 6..<segment.end)
            } else if !isWholeFile {
                found = .incomplete
            } else {
                found = .broken("APP1 EXIF segment of \(segment.length) bytes runs past the end of the file")
            }
            return false
        }
        if let found { return found }
        switch end {
        case .endOfData: return isWholeFile ? .absent : .incomplete  // the prefix ended before the scan
        case .reached, .invalidLength, .stopped: return .absent  // EXIF comes before the scan and the end of image
        }
    }

    /// The eXIf chunk, wherever it is; without one, the first ImageMagick raw profile (tEXt, zTXt or iTXt "Raw
    /// profile type exif" or "APP1", as exiftool reads them; an APP1 one may hold XMP). eXIf wins over a raw
    /// profile, before or after it (exiftool reads both in chunk order, and the later one's value of a tag wins).
    private static func locateInPNG(_ bytes: UnsafeRawBufferPointer, isWholeFile: Bool) -> ExifSegment {
        var offset = 8
        let count = bytes.count
        var profile: ExifSegment?
        var sawProfile = false  // only the first raw profile is read: one inflation at most, whatever the file holds
        while true {
            guard offset + 8 <= count else { return isWholeFile ? profile ?? .absent : .incomplete }
            let length =
                Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8
                | Int(bytes[offset + 3])
            let type = (bytes[offset + 4], bytes[offset + 5], bytes[offset + 6], bytes[offset + 7])
            let dataStart = offset + 8
            let dataEnd = dataStart + length
            if type == (0x65, 0x58, 0x49, 0x66) {  // eXIf
                guard dataEnd <= count else {
                    if !isWholeFile { return .incomplete }
                    return .broken("eXIf chunk of \(length) bytes runs past the end of the file")
                }
                let start = hasExifHeader(bytes, at: dataStart, end: dataEnd) ? dataStart + 6 : dataStart
                return .found(start..<dataEnd)
            }
            if type == (0x49, 0x45, 0x4E, 0x44) { return profile ?? .absent }  // IEND
            if !sawProfile, let text = textChunk(type),
                PNGRawProfile.isNamed(UnsafeRawBufferPointer(rebasing: bytes[dataStart..<min(count, dataStart + 80)]))
            {
                sawProfile = true
                guard dataEnd <= count else {
                    if !isWholeFile { return .incomplete }
                    return .broken("\(text) chunk of \(length) bytes runs past the end of the file")
                }
                let data = UnsafeRawBufferPointer(rebasing: bytes[dataStart..<dataEnd])
                switch PNGRawProfile.exif(chunk: text, data: data) {
                case .tiff(let tiff, let note): profile = .copied(tiff, note: note)
                case .unreadable(let reason): profile = .broken(reason)
                case nil: break
                }
            }
            guard length <= Int(Int32.max) else { return profile ?? .absent }
            offset = dataEnd + 4  // data and CRC
        }
    }

    /// "tEXt", "zTXt" or "iTXt" for a text chunk's type, else `nil`.
    private static func textChunk(_ type: (UInt8, UInt8, UInt8, UInt8)) -> String? {
        switch type {
        case (0x74, 0x45, 0x58, 0x74): return "tEXt"
        case (0x7A, 0x54, 0x58, 0x74): return "zTXt"
        case (0x69, 0x54, 0x58, 0x74): return "iTXt"
        default: return nil
        }
    }
}
