// The directories of an EXIF block longer than the 64 KiB libexif reads (a PNG eXIf, WebP EXIF chunk or HEIF Exif
// item can be), read by picpipe itself under libexif's rules, so a tag stored past 64 KiB is not lost.
import CEXIF
import Foundation

/// Every directory of a TIFF block and its entries, walked as libexif's `exif_data_load_data` walks one (IFD0, each
/// pointer as it comes, then IFD1; the same recursion cost limit, entry counts cut to the bytes there, a group that
/// has entries not read again, the first entry of a tag kept), without libexif's cut at 64 KiB. Its complaints are libexif's, word for
/// word, so a block reads the same whichever of the two reads it. Values are not copied: each entry is a range of
/// the block, which this value owns.
final class ExifDirectories {
    /// One entry kept: its tag, TIFF type, declared count and where its value lies in the block.
    struct Entry {
        var tag: UInt16
        var format: Int
        var count: Int
        var value: Range<Int>
    }

    /// Motorola (big-endian) byte order; true, as libexif's default, when the block has no byte order mark.
    private(set) var bigEndian = true
    /// The entries kept, by group, in the order read, and their tags.
    private var entries: [ExifGroup: [Entry]] = [:]
    private var tags: [ExifGroup: Set<UInt16>] = [:]
    /// The first complaint (with libexif's domain, as its log gives it) and how many there were.
    private(set) var firstProblem: String?
    private(set) var problemCount = 0

    /// The block, owned (entries are ranges of it).
    private let block: UnsafeMutableRawBufferPointer
    /// Bytes of values kept so far, against `largestValueTotal`.
    private var keptValueBytes = 0
    /// Whether an entry was dropped because the values kept reached `largestValueTotal`.
    private(set) var reachedValueLimit = false
    /// The most the values kept may add up to: 1 MiB, the most of a block picpipe reads. Entries can point at the
    /// same bytes over and over: n entries at one value of the block's other bytes make n × (size − 12n) bytes of
    /// raw tags, some 90 MB for libexif's 64 KiB and 23 GB for 1 MiB. Values that do not share bytes lie in the
    /// block, so they always fit.
    static let largestValueTotal = MetadataReader.largestExifBlock

    /// Reads `tiff` (a TIFF header and what follows), with the bytes in `zeroed` set to 0 first (pointers to a
    /// directory already read or stored as a string, which `ExifRefusedPointer` finds; libexif then skips them without a word).
    init(tiff: UnsafeRawBufferPointer, zeroed: [Range<Int>] = []) {
        block = UnsafeMutableRawBufferPointer.allocate(byteCount: tiff.count, alignment: 8)
        block.copyMemory(from: tiff)
        for range in zeroed where range.lowerBound >= 0 && range.upperBound <= block.count {
            for index in range { block[index] = 0 }
        }
        read()
    }

    deinit { block.deallocate() }

    /// The entries of `group`, in the order read.
    func entries(in group: ExifGroup) -> [Entry] { entries[group] ?? [] }

    /// The value of `entry`, valid while this value lives.
    func bytes(of entry: Entry) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: block[entry.value])
    }

    private var size: Int { block.count }

    private func u16(_ at: Int) -> Int {
        bigEndian ? Int(block[at]) << 8 | Int(block[at + 1]) : Int(block[at + 1]) << 8 | Int(block[at])
    }

    private func u32(_ at: Int) -> Int {
        bigEndian ? u16(at) << 16 | u16(at + 2) : u16(at + 2) << 16 | u16(at)
    }

    /// A complaint libexif's log would count (`CEXIF_logToSink`: corrupt data, and the damage it reports at debug
    /// level), in the words and domain libexif gives it; `ownWords` for picpipe's own.
    private func complain(_ message: String, ownWords: Bool = false) {
        if firstProblem == nil { firstProblem = ownWords ? message : "ExifData: " + message }
        problemCount += 1
    }

    /// libexif's CHECKOVERFLOW: `length` bytes at `offset` do not fit in `size`.
    private func overflows(_ offset: Int, _ length: Int) -> Bool {
        offset >= size || length > size || offset > size - length
    }

    /// `exif_data_load_data` after the "Exif\0\0" header, on the whole block.
    private func read() {
        guard size >= 8 else { return }
        switch (block[0], block[1]) {
        case (0x49, 0x49): bigEndian = false
        case (0x4D, 0x4D): bigEndian = true
        default: return complain("Unknown encoding.")
        }
        guard u16(2) == 0x2A else { return }
        let ifd0 = u32(4)
        guard ifd0 + 2 <= size else { return }
        load(.ifd0, at: ifd0, cost: 0)
        let link = ifd0 + 2 + 12 * u16(ifd0)
        guard link + 4 <= size else { return }
        let ifd1 = u32(link)
        guard ifd1 != 0 else { return }
        if ifd1 > size { return complain("Bogus offset of IFD1.") }
        load(.ifd1, at: ifd1, cost: 0)
    }

    /// The group a pointer tag leads to.
    private static let pointers: [Int: ExifGroup] = [0x8769: .exif, 0x8825: .gps, 0xA005: .interop]

    /// libexif's name for a group in its messages ("EXIF", "GPS", "Interoperability").
    private static func libexifName(_ group: ExifGroup) -> String {
        let index: ExifIfd
        switch group {
        case .ifd0: index = EXIF_IFD_0
        case .ifd1: index = EXIF_IFD_1
        case .exif: index = EXIF_IFD_EXIF
        case .gps: index = EXIF_IFD_GPS
        case .interop: index = EXIF_IFD_INTEROPERABILITY
        }
        return exif_ifd_get_name(index).map { String(cString: $0) } ?? group.rawValue
    }

    /// `exif_data_load_data_content`: one directory, following its pointers as they come.
    private func load(_ group: ExifGroup, at start: Int, cost: Int) {
        guard cost <= 170 else { return complain("Deep/expensive recursion detected!") }
        guard !overflows(start, 2) else { return complain("Tag data past end of buffer (\(start)+2 > \(size))") }
        var count = u16(start)
        let first = start + 2
        if overflows(first, 12 * count) {
            count = (size - first) / 12
            complain("Short data; only loading \(count) entries...")
        }
        var thumbnailOffset = 0
        var thumbnailLength = 0
        for index in 0..<count {
            let entry = first + 12 * index
            let tag = u16(entry)
            guard [0x8769, 0x8825, 0xA005, 0x0201, 0x0202].contains(tag) else {
                keep(entry, in: group)
                continue
            }
            let offset = u32(entry + 8)
            // libexif names the directory's first entry here, not the pointer.
            guard offset < size else { return complain("Tag data past end of buffer (\(first + 2) > \(size))") }
            if let target = Self.pointers[tag] {
                if target == group {
                    complain("Recursive entry in IFD '\(Self.libexifName(target))' detected. Skipping...")
                } else if !entries(in: target).isEmpty {
                    complain("Attempt to load IFD '\(Self.libexifName(target))' multiple times detected. Skipping...")
                } else {
                    load(target, at: offset, cost: cost + ExifRefusedPointer.levelCost(count))
                }
                continue
            }
            // ThumbnailOffset and ThumbnailLength: libexif loads the thumbnail (picpipe reads neither it nor the
            // two entries from here: `ExifThumbnailPointer`), and complains when it lies outside the block.
            if tag == 0x0201 { thumbnailOffset = offset } else { thumbnailLength = offset }
            if thumbnailOffset != 0 && thumbnailLength != 0 {
                if thumbnailOffset >= size {
                    complain("Bogus thumbnail offset (\(thumbnailOffset)).")
                } else if overflows(thumbnailOffset, thumbnailLength) {
                    complain("Bogus thumbnail size (\(thumbnailLength)), max would be \(size - thumbnailOffset).")
                }
            }
        }
    }

    /// `exif_data_load_data_entry` and `exif_content_add_entry`: the entry at `entry` is kept unless its value is
    /// empty or outside the block (with libexif's 32-bit arithmetic), or its tag is in the group already.
    private func keep(_ entry: Int, in group: ExifGroup) {
        let tag = UInt16(u16(entry))
        let format = u16(entry + 2)
        let components = UInt32(u32(entry + 4))
        let length = UInt32(exif_format_get_size(ExifFormat(UInt32(format)))) &* components
        // A zero length (type 0 or unknown, or an all-zero entry Photoshop writes) or one that overflowed.
        guard length != 0, length >= components else { return }
        let start = length > 4 ? u32(entry + 8) : entry + 8
        guard start < size else { return complain("Tag starts past end of buffer (\(start) > \(size))") }
        guard Int(length) <= size - start else {
            return complain("Tag data goes past end of buffer (\(UInt32(start) &+ length) > \(size))")
        }
        guard !tags[group, default: []].contains(tag) else { return }
        guard keptValueBytes + Int(length) <= Self.largestValueTotal else {
            reachedValueLimit = true
            return complain(
                "Tag 0x\(String(tag, radix: 16)) is not read: the values read add up to more than the "
                    + "\(Self.largestValueTotal) bytes picpipe keeps (entries that share their bytes)", ownWords: true)
        }
        keptValueBytes += Int(length)
        tags[group, default: []].insert(tag)
        entries[group, default: []].append(
            Entry(tag: tag, format: format, count: Int(components), value: start..<start + Int(length)))
    }
}
