// The pointers of an EXIF block that exiftool does not follow. One to a directory already read ("GPS pointer
// references previous ExifIFD directory"): libexif reads its entries again under the pointer's group, so a GPS
// pointer to the ExifIFD showed ExposureTime, DateTimeOriginal ... as 15 unknown GPS tags. One stored as a string,
// rational or float ("Wrong format (string) for IFD0 0x8825 GPSInfo"): libexif follows it whatever its type.
import Foundation

/// A pointer (ExifIFD, GPS, InteropIFD, or IFD0's link to IFD1) exiftool does not follow, found by walking the block
/// in libexif's order, and the bytes that hold it.
struct ExifRefusedPointer: Equatable {
    /// Why exiftool does not follow it.
    enum Reason: Equatable {
        /// It leads to a directory already read, of this group, at this offset.
        case repeated(earlier: ExifGroup, offset: Int)
        /// The pointer entry's TIFF type is not an integer's: the entry's directory, tag and type.
        case wrongFormat(in: ExifGroup, tag: Int, format: Int)
    }

    /// The group the pointer leads to.
    var group: ExifGroup
    var reason: Reason
    /// The pointer's bytes: an entry's tag, type and count (zeroed, libexif skips the entry without a word), or
    /// IFD0's next-IFD offset (zeroed, libexif reads no IFD1).
    var pointer: Range<Int>

    /// exiftool's warning; `nil` where it says nothing (a type 0 entry).
    var description: String? {
        switch reason {
        case .repeated(let earlier, _):
            return "\(group.rawValue) pointer references previous \(earlier.rawValue) directory"
        case .wrongFormat(let directory, let tag, let format):
            guard let name = Self.wrongFormatNames[format] else {
                return format == 0 ? nil : "Bad format (\(format)) for \(directory.rawValue) entry"
            }
            let hex = String(tag, radix: 16)
            let padded = String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            return "Wrong format (\(name)) for \(directory.rawValue) 0x\(padded) \(Self.tagNames[tag] ?? "")"
        }
    }

    /// The TIFF types exiftool follows a pointer of: the integers and IFD.
    private static let integerFormats: Set<Int> = [1, 3, 4, 6, 7, 8, 9, 13]
    /// exiftool's names of the other types it knows.
    private static let wrongFormatNames = [2: "string", 5: "rational64u", 10: "rational64s", 11: "float", 12: "double"]
    private static let tagNames = [0x8769: "ExifOffset", 0x8825: "GPSInfo", 0xA005: "InteropOffset"]

    /// The directory each pointer tag leads to; ThumbnailOffset and ThumbnailLength are pointers to libexif too
    /// (one past the end ends the directory), but lead to none.
    private static let pointers: [Int: ExifGroup?] = [
        0x8769: .exif, 0x8825: .gps, 0xA005: .interop, 0x0201: nil, 0x0202: nil,
    ]

    /// Walks `tiff`, the bytes read (libexif's 64 KiB at most, `ExifDirectories`' 1 MiB), as libexif walks it:
    /// IFD0, each pointer in entry order as it comes (so the InteropIFD inside the ExifIFD before IFD0's GPS
    /// pointer), then IFD1; a directory libexif itself would not read (its own group, a group already filled, an
    /// offset past the end, its recursion limit) is not followed either. Every offset is bounds-checked.
    static func find(in tiff: UnsafeRawBufferPointer) -> [ExifRefusedPointer] {
        guard tiff.count >= 8 else { return [] }
        let bigEndian: Bool
        switch (tiff[0], tiff[1]) {
        case (0x4D, 0x4D): bigEndian = true
        case (0x49, 0x49): bigEndian = false
        default: return []
        }
        let size = tiff.count
        // Callers check that the bytes are there.
        func u16(_ at: Int) -> Int {
            bigEndian ? Int(tiff[at]) << 8 | Int(tiff[at + 1]) : Int(tiff[at + 1]) << 8 | Int(tiff[at])
        }
        func u32(_ at: Int) -> Int {
            bigEndian ? u16(at) << 16 | u16(at + 2) : u16(at + 2) << 16 | u16(at)
        }
        var read: [Int: ExifGroup] = [:]
        var filled: Set<ExifGroup> = []  // libexif's "count > 0": a pointer to such a group is not followed
        var refused: [ExifRefusedPointer] = []

        func load(_ group: ExifGroup, at start: Int, cost: Int) {
            guard cost <= 170, start + 2 <= size else { return }
            read[start] = group
            let first = start + 2
            var count = u16(start)
            if first + 12 * count > size { count = (size - first) / 12 }  // libexif reads the entries that fit
            for index in 0..<count {
                let entry = first + 12 * index
                let tag = u16(entry)
                guard let target = pointers[tag] else {
                    if (0..<4).contains(where: { tiff[entry + $0] != 0 }) { filled.insert(group) }
                    continue
                }
                let offset = u32(entry + 8)
                guard offset < size else { return }  // libexif reads no further entry of this directory
                guard let target, target != group, !filled.contains(target) else { continue }
                let format = u16(entry + 2)
                guard integerFormats.contains(format) else {
                    refused.append(
                        ExifRefusedPointer(
                            group: target, reason: .wrongFormat(in: group, tag: tag, format: format),
                            pointer: entry..<entry + 8))
                    continue
                }
                if let earlier = read[offset] {
                    refused.append(
                        ExifRefusedPointer(
                            group: target, reason: .repeated(earlier: earlier, offset: offset),
                            pointer: entry..<entry + 8))
                    continue
                }
                load(target, at: offset, cost: cost + levelCost(count))
            }
        }

        let ifd0 = u32(4)
        guard ifd0 + 2 <= size else { return [] }
        load(.ifd0, at: ifd0, cost: 0)
        let link = ifd0 + 2 + 12 * u16(ifd0)
        guard link + 4 <= size else { return refused }
        let ifd1 = u32(link)
        guard ifd1 != 0, ifd1 <= size else { return refused }
        if let earlier = read[ifd1] {
            refused.append(
                ExifRefusedPointer(
                    group: .ifd1, reason: .repeated(earlier: earlier, offset: ifd1), pointer: link..<link + 4))
        } else {
            load(.ifd1, at: ifd1, cost: 0)
        }
        return refused
    }

    /// libexif's recursion cost of a directory of `count` entries (`level_cost`): ceil(log base 1.1 of count + 0.1).
    static func levelCost(_ count: Int) -> Int {
        Int((log(Double(count) + 0.1) / 0.09531017980432493).rounded(.up))
    }
}
