// One parsed EXIF block (libexif), and what the metadata service takes from it.
import CEXIF

#if canImport(Glibc)
    import Glibc
#endif

/// A TIFF-structured EXIF block parsed by libexif; its entries are read while the value lives.
struct ExifBlock: ~Copyable {
    private let data: OpaquePointer?
    private let bigEndian: Bool
    /// libexif's first complaint about the block, and how many there were.
    let problem: String?
    /// IFD1's ThumbnailOffset and ThumbnailLength, which libexif drops from IFD1 when it loads the thumbnail.
    let thumbnailPointer: ExifThumbnailPointer?

    /// Parses the TIFF block at `range` of `file`. libexif wants the 6-byte "Exif\0\0" header first and reads
    /// at most 64 KiB: a JPEG APP1 already has the header before the block, a PNG eXIf chunk needs a copy.
    /// `thumbnailBase` is added to IFD1's ThumbnailOffset: exiftool -n prints it from the start of a JPEG file, but
    /// from the TIFF header in a PNG.
    init(in file: UnsafeRawBufferPointer, tiffRange range: Range<Int>, thumbnailBase: Int = 0) {
        var sink = CEXIF_LogSink()
        let tiff = UnsafeRawBufferPointer(rebasing: file[range])
        let length = min(tiff.count, 0xFFFE - 6)
        // A pointer to a directory already read is cut from a copy of the block before libexif reads it, as
        // exiftool refuses such a directory (until session 31 libexif read it again under the pointer's group).
        let repeats = ExifRepeatedDirectory.find(in: UnsafeRawBufferPointer(rebasing: tiff[0..<length]))
        let hasIFD1 = !repeats.contains { $0.group == .ifd1 }
        thumbnailPointer = (hasIFD1 ? ExifThumbnailPointer.find(in: tiff) : nil).map { pointer in
            var pointer = pointer
            pointer.offset = pointer.offset.map { $0 + Int64(thumbnailBase) }
            return pointer
        }
        let parsed: UnsafeMutablePointer<ExifData>?
        if repeats.isEmpty, range.lowerBound >= 6, let base = file.baseAddress,
            memcmp(base + range.lowerBound - 6, Self.exifHeader, 6) == 0
        {
            parsed = CEXIF_loadExif(
                (base + range.lowerBound - 6).assumingMemoryBound(to: UInt8.self), UInt32(length + 6), &sink)
        } else {
            var block = [UInt8](repeating: 0, count: length + 6)
            for index in 0..<4 { block[index] = Self.exifHeader[index] }
            block.withUnsafeMutableBytes { buffer in
                if length > 0, let source = tiff.baseAddress {
                    buffer.baseAddress?.advanced(by: 6).copyMemory(from: source, byteCount: length)
                }
            }
            for pointer in repeats.map(\.pointer) {
                for index in pointer { block[6 + index] = 0 }
            }
            parsed = block.withUnsafeBufferPointer { buffer in
                CEXIF_loadExif(buffer.baseAddress, UInt32(buffer.count), &sink)
            }
        }
        data = OpaquePointer(parsed)
        bigEndian = parsed.map { exif_data_get_byte_order($0) == EXIF_BYTE_ORDER_MOTOROLA } ?? true
        // exiftool's warnings for the directories not read again first, then libexif's complaints.
        var complaints = repeats.map(\.description)
        if sink.corruptCount > 0 {
            let message = withUnsafeBytes(of: &sink.firstMessage) { raw in
                ExifEntryValue.trimmed(UnsafeRawBufferPointer(rebasing: raw[0..<(raw.firstIndex(of: 0) ?? raw.count)]))
            }
            complaints.append(message ?? "corrupt EXIF data")
        }
        let count = repeats.count + Int(sink.corruptCount)
        if let first = complaints.first {
            problem = first + (count > 1 ? " (and \(count - 1) more problems)" : "")
        } else if length < 8 {
            problem = "EXIF block of \(tiff.count) bytes is too short for a TIFF header"
        } else if !Self.hasTIFFHeader(tiff) {
            problem = "EXIF block does not start with a TIFF header (II*\\0 or MM\\0*)"
        } else {
            problem = Self.ifd0Problem(tiff, readLength: length)
        }
    }

    /// Why IFD0 cannot be read, or `nil`: libexif skips an IFD0 whose entry count lies outside the bytes it reads
    /// without a word (until session 31 such a block was reported like a picture without EXIF), exiftool warns.
    private static func ifd0Problem(_ tiff: UnsafeRawBufferPointer, readLength: Int) -> String? {
        let bytes = (tiff[4], tiff[5], tiff[6], tiff[7])
        let offset =
            tiff[0] == 0x4D
            ? Int(bytes.0) << 24 | Int(bytes.1) << 16 | Int(bytes.2) << 8 | Int(bytes.3)
            : Int(bytes.3) << 24 | Int(bytes.2) << 16 | Int(bytes.1) << 8 | Int(bytes.0)
        if offset + 2 > tiff.count {
            return "IFD0 offset \(offset) is outside the EXIF block of \(tiff.count) bytes"
        }
        if offset + 2 > readLength {
            return "IFD0 offset \(offset) is past the first \(readLength) bytes of the EXIF block, which libexif reads"
        }
        return nil
    }

    private static let exifHeader: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]

    deinit {
        if let data { exif_data_unref(UnsafeMutablePointer<ExifData>(data)) }
    }

    private static func hasTIFFHeader(_ tiff: UnsafeRawBufferPointer) -> Bool {
        guard tiff.count >= 8 else { return false }
        let intel = tiff[0] == 0x49 && tiff[1] == 0x49 && tiff[2] == 0x2A && tiff[3] == 0
        let motorola = tiff[0] == 0x4D && tiff[1] == 0x4D && tiff[2] == 0 && tiff[3] == 0x2A
        return intel || motorola
    }

    /// libexif's IFD index for a group.
    private static func index(of group: ExifGroup) -> Int32 {
        switch group {
        case .ifd0: return Int32(EXIF_IFD_0.rawValue)
        case .ifd1: return Int32(EXIF_IFD_1.rawValue)
        case .exif: return Int32(EXIF_IFD_EXIF.rawValue)
        case .gps: return Int32(EXIF_IFD_GPS.rawValue)
        case .interop: return Int32(EXIF_IFD_INTEROPERABILITY.rawValue)
        }
    }

    private func content(_ group: ExifGroup) -> UnsafeMutablePointer<ExifContent>? {
        guard let data else { return nil }
        return CEXIF_content(UnsafeMutablePointer<ExifData>(data), Self.index(of: group))
    }

    /// The value of tag `id` in `group`, when present.
    func value(_ group: ExifGroup, _ id: UInt16) -> ExifEntryValue? {
        guard let content = content(group), let entries = content.pointee.entries else { return nil }
        for index in 0..<Int(content.pointee.count) {
            guard let entry = entries[index], entry.pointee.tag.rawValue == UInt32(id) else { continue }
            return ExifEntryValue(entry: entry, bigEndian: bigEndian)
        }
        return nil
    }

    /// Calls `body` for every entry of `group`, in file order.
    func forEach(in group: ExifGroup, _ body: (UInt16, ExifEntryValue) -> Void) {
        guard let content = content(group), let entries = content.pointee.entries else { return }
        for index in 0..<Int(content.pointee.count) {
            guard let entry = entries[index], let value = ExifEntryValue(entry: entry, bigEndian: bigEndian) else {
                continue
            }
            body(UInt16(truncatingIfNeeded: entry.pointee.tag.rawValue), value)
        }
    }

    /// libexif's own name for a tag, for tags exiftool's table here lacks.
    static func libexifName(_ id: UInt16, in group: ExifGroup) -> String? {
        guard
            let name = exif_tag_get_name_in_ifd(CEXIF.ExifTag(rawValue: UInt32(id)), ExifIfd(UInt32(index(of: group))))
        else { return nil }
        return String(cString: name)
    }
}
