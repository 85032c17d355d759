// The pointers of an EXIF block that lead to a directory already read. exiftool refuses such a directory ("GPS
// pointer references previous ExifIFD directory"); libexif reads its entries again under the pointer's group, so a
// GPS pointer to the ExifIFD showed ExposureTime, DateTimeOriginal ... as 15 unknown GPS tags.
import Foundation

/// A pointer (ExifIFD, GPS, InteropIFD, or IFD0's link to IFD1) to a directory already read, found by walking the
/// block in libexif's order, and the bytes that hold it.
struct ExifRepeatedDirectory: Equatable {
    /// The group the pointer leads to.
    var group: ExifGroup
    /// The group already read at that offset.
    var earlier: ExifGroup
    /// The directory's offset from the TIFF header.
    var offset: Int
    /// The pointer's bytes: an entry's tag, type and count (zeroed, libexif skips the entry without a word), or
    /// IFD0's next-IFD offset (zeroed, libexif reads no IFD1).
    var pointer: Range<Int>

    /// exiftool's warning.
    var description: String { "\(group.rawValue) pointer references previous \(earlier.rawValue) directory" }

    /// The directory each pointer tag leads to; ThumbnailOffset and ThumbnailLength are pointers to libexif too
    /// (one past the end ends the directory), but lead to none.
    private static let pointers: [Int: ExifGroup?] = [
        0x8769: .exif, 0x8825: .gps, 0xA005: .interop, 0x0201: nil, 0x0202: nil,
    ]

    /// Walks `tiff`, the bytes read (libexif's 64 KiB at most, `ExifDirectories`' 1 MiB), as libexif walks it:
    /// IFD0, each pointer in entry order as it comes (so the InteropIFD inside the ExifIFD before IFD0's GPS
    /// pointer), then IFD1; a directory libexif itself would not read (its own group, a group already filled, an
    /// offset past the end, its recursion limit) is not followed either. Every offset is bounds-checked.
    static func find(in tiff: UnsafeRawBufferPointer) -> [ExifRepeatedDirectory] {
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
        var repeats: [ExifRepeatedDirectory] = []

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
                if let earlier = read[offset] {
                    repeats.append(
                        ExifRepeatedDirectory(
                            group: target, earlier: earlier, offset: offset, pointer: entry..<entry + 8))
                    continue
                }
                load(target, at: offset, cost: cost + levelCost(count))
            }
        }

        let ifd0 = u32(4)
        guard ifd0 + 2 <= size else { return [] }
        load(.ifd0, at: ifd0, cost: 0)
        let link = ifd0 + 2 + 12 * u16(ifd0)
        guard link + 4 <= size else { return repeats }
        let ifd1 = u32(link)
        guard ifd1 != 0, ifd1 <= size else { return repeats }
        if let earlier = read[ifd1] {
            repeats.append(
                ExifRepeatedDirectory(group: .ifd1, earlier: earlier, offset: ifd1, pointer: link..<link + 4))
        } else {
            load(.ifd1, at: ifd1, cost: 0)
        }
        return repeats
    }

    /// libexif's recursion cost of a directory of `count` entries (`level_cost`): ceil(log base 1.1 of count + 0.1).
    static func levelCost(_ count: Int) -> Int {
        Int((log(Double(count) + 0.1) / 0.09531017980432493).rounded(.up))
    }
}
