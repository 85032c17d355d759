// One parsed EXIF block (libexif), and what the metadata service takes from it.
import CEXIF

#if canImport(Glibc)
    import Glibc
#endif

/// A TIFF-structured EXIF block parsed by libexif (or by `ExifDirectories` under libexif's rules: past the 64 KiB
/// libexif reads, or when entries share more values than picpipe keeps); its entries are read while the value lives.
struct ExifBlock: ~Copyable {
    private let data: OpaquePointer?
    /// The directories, when picpipe's walk reads the block rather than libexif.
    private let directories: ExifDirectories?
    private let bigEndian: Bool
    /// The first complaint about the block (that it was cut, a directory not read again, the reader's), and how
    /// many there were.
    let problem: String?
    /// IFD1's ThumbnailOffset and ThumbnailLength, which libexif drops from IFD1 when it loads the thumbnail.
    let thumbnailPointer: ExifThumbnailPointer?

    /// The most of a block libexif reads: 64 KiB less its "Exif\0\0" header (`exif_data_load_data` cuts the
    /// data it is given to 0xFFFE bytes, since a JPEG APP1 can hold no more).
    static let libexifLength = 0xFFFE - 6

    /// Parses the TIFF block at `range` of `file`, at most `MetadataReader.largestExifBlock` bytes of it. libexif
    /// reads a block up to `libexifLength` (it wants the 6-byte "Exif\0\0" header first: a JPEG APP1 already has it
    /// before the block, a PNG eXIf chunk needs a copy); a longer one is read by `ExifDirectories`, and so is one
    /// whose values add up to more than `ExifDirectories.largestValueTotal` and any with `reader` `.directoryWalk`.
    /// Until session 34 libexif read every block, and a tag stored past its 64 KiB was lost.
    /// `thumbnailBase` is added to IFD1's ThumbnailOffset: exiftool -n prints it from the start of a JPEG file, but
    /// from the TIFF header in a PNG.
    init(
        in file: UnsafeRawBufferPointer, tiffRange range: Range<Int>, thumbnailBase: Int = 0,
        reader: ExifBlockReader = .bySize
    ) {
        var sink = CEXIF_LogSink()
        let tiff = UnsafeRawBufferPointer(rebasing: file[range])
        let length = min(tiff.count, MetadataReader.largestExifBlock)
        let read = UnsafeRawBufferPointer(rebasing: tiff[0..<length])
        // A pointer to a directory already read, or stored as a string, rational or float, is cut from a copy of the
        // block before libexif reads it, as exiftool does not follow it (until session 31 libexif read a directory
        // again under the pointer's group; until session 36 it followed a pointer of any type).
        let repeats = ExifRefusedPointer.find(in: read)
        let hasIFD1 = !repeats.contains { $0.group == .ifd1 }
        thumbnailPointer = (hasIFD1 ? ExifThumbnailPointer.find(in: tiff) : nil).map { pointer in
            var pointer = pointer
            pointer.offset = pointer.offset.map { $0 + Int64(thumbnailBase) }
            return pointer
        }
        // What was cut first, then exiftool's warnings for the directories not read again, then the reader's
        // complaints.
        var complaints: [String] = []
        if tiff.count > length {
            complaints.append(
                "EXIF block of \(tiff.count) bytes is longer than the \(length) bytes picpipe reads: tags stored past "
                    + "them are not read")
        }
        complaints += repeats.compactMap(\.description)
        var count = complaints.count
        // libexif copies each entry's value: entries that all point at one large value would make it allocate some
        // 90 MB for a 64 KiB block. The walk, which reads as libexif does but copies nothing and keeps values up to
        // `ExifDirectories.largestValueTotal`, goes first and reads such a block itself (until session 35 libexif
        // read it, and every copy was a raw tag).
        let walked = ExifDirectories(tiff: read, zeroed: repeats.map(\.pointer))
        if length > Self.libexifLength || reader == .directoryWalk || walked.reachedValueLimit {
            data = nil
            directories = walked
            bigEndian = walked.bigEndian
            if let first = walked.firstProblem { complaints.append(first) }
            count += walked.problemCount
        } else {
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
            directories = nil
            bigEndian = parsed.map { exif_data_get_byte_order($0) == EXIF_BYTE_ORDER_MOTOROLA } ?? true
            if sink.corruptCount > 0 {
                let message = withUnsafeBytes(of: &sink.firstMessage) { raw in
                    ExifEntryValue.trimmed(
                        UnsafeRawBufferPointer(rebasing: raw[0..<(raw.firstIndex(of: 0) ?? raw.count)]))
                }
                complaints.append(message ?? "corrupt EXIF data")
            }
            count += Int(sink.corruptCount)
        }
        if let first = complaints.first {
            problem = first + (count > 1 ? " (and \(count - 1) more problems)" : "")
        } else if length < 8 {
            problem = "EXIF block of \(tiff.count) bytes is too short for a TIFF header"
        } else if !Self.hasTIFFHeader(tiff) {
            problem = "EXIF block does not start with a TIFF header (II*\\0 or MM\\0*)"
        } else {
            problem = Self.ifd0Problem(tiff)
        }
    }

    /// Why IFD0 cannot be read, or `nil`: libexif skips an IFD0 whose entry count lies outside the block without a
    /// word (until session 31 such a block was reported like a picture without EXIF), exiftool warns.
    private static func ifd0Problem(_ tiff: UnsafeRawBufferPointer) -> String? {
        let bytes = (tiff[4], tiff[5], tiff[6], tiff[7])
        let offset =
            tiff[0] == 0x4D
            ? Int(bytes.0) << 24 | Int(bytes.1) << 16 | Int(bytes.2) << 8 | Int(bytes.3)
            : Int(bytes.3) << 24 | Int(bytes.2) << 16 | Int(bytes.1) << 8 | Int(bytes.0)
        if offset + 2 > tiff.count {
            return "IFD0 offset \(offset) is outside the EXIF block of \(tiff.count) bytes"
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
        if let directories {
            return directories.entries(in: group).first { $0.tag == id }.map { value(of: $0, in: directories) }
        }
        guard let content = content(group), let entries = content.pointee.entries else { return nil }
        for index in 0..<Int(content.pointee.count) {
            guard let entry = entries[index], entry.pointee.tag.rawValue == UInt32(id) else { continue }
            return ExifEntryValue(entry: entry, bigEndian: bigEndian)
        }
        return nil
    }

    /// Calls `body` for every entry of `group`, in file order.
    func forEach(in group: ExifGroup, _ body: (UInt16, ExifEntryValue) -> Void) {
        if let directories {
            for entry in directories.entries(in: group) { body(entry.tag, value(of: entry, in: directories)) }
            return
        }
        guard let content = content(group), let entries = content.pointee.entries else { return }
        for index in 0..<Int(content.pointee.count) {
            guard let entry = entries[index], let value = ExifEntryValue(entry: entry, bigEndian: bigEndian) else {
                continue
            }
            body(UInt16(truncatingIfNeeded: entry.pointee.tag.rawValue), value)
        }
    }

    private func value(of entry: ExifDirectories.Entry, in directories: ExifDirectories) -> ExifEntryValue {
        ExifEntryValue(
            format: entry.format, count: entry.count, bytes: directories.bytes(of: entry), bigEndian: bigEndian)
    }

    /// libexif's own name for a tag, for tags exiftool's table here lacks.
    static func libexifName(_ id: UInt16, in group: ExifGroup) -> String? {
        guard
            let name = exif_tag_get_name_in_ifd(CEXIF.ExifTag(rawValue: UInt32(id)), ExifIfd(UInt32(index(of: group))))
        else { return nil }
        return String(cString: name)
    }
}

/// Which code reads an EXIF block's directories.
package enum ExifBlockReader: Sendable {
    /// libexif for a block it reads whole (up to `ExifBlock.libexifLength`), picpipe's walk for a longer one: what
    /// every command does.
    case bySize
    /// picpipe's walk (`ExifDirectories`) whatever the size, so tests can hold it against libexif.
    case directoryWalk
}
