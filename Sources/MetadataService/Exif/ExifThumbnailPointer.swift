// IFD1's ThumbnailOffset and ThumbnailLength, read from the TIFF block itself: libexif consumes those two entries
// when it loads the thumbnail and keeps neither in IFD1.

/// The two IFD1 entries that locate the JPEG thumbnail (`find` reads the offset relative to the TIFF header).
struct ExifThumbnailPointer: Equatable {
    /// ThumbnailOffset (0x0201), when IFD1 has it.
    var offset: Int64?
    /// ThumbnailLength (0x0202), when IFD1 has it.
    var length: Int64?

    /// Walks the TIFF header and IFD0 to IFD1 and reads its 0x0201 and 0x0202 entries (SHORT or LONG, one value);
    /// `nil` when the block has no IFD1 or IFD1 has neither. Every offset is bounds-checked.
    static func find(in tiff: UnsafeRawBufferPointer) -> ExifThumbnailPointer? {
        guard tiff.count >= 8 else { return nil }
        let bigEndian: Bool
        switch (tiff[0], tiff[1]) {
        case (0x4D, 0x4D): bigEndian = true
        case (0x49, 0x49): bigEndian = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            return bigEndian ? Int(tiff[at]) << 8 | Int(tiff[at + 1]) : Int(tiff[at + 1]) << 8 | Int(tiff[at])
        }
        func u32(_ at: Int) -> Int? {
            guard let first = u16(at), let second = u16(at + 2) else { return nil }
            return bigEndian ? first << 16 | second : second << 16 | first
        }
        guard let ifd0 = u32(4), let ifd0Count = u16(ifd0), let ifd1 = u32(ifd0 + 2 + 12 * ifd0Count), ifd1 != 0,
            ifd1 != ifd0, let ifd1Count = u16(ifd1)
        else { return nil }
        var pointer = ExifThumbnailPointer()
        for index in 0..<ifd1Count {
            let entry = ifd1 + 2 + 12 * index
            guard let tag = u16(entry), let type = u16(entry + 2), let count = u32(entry + 4) else { break }
            guard tag == 0x0201 || tag == 0x0202, count == 1 else { continue }
            let value: Int?
            switch type {
            case 3: value = u16(entry + 8)
            case 4: value = u32(entry + 8)
            default: value = nil
            }
            guard let value else { continue }
            if tag == 0x0201 { pointer.offset = Int64(value) } else { pointer.length = Int64(value) }
        }
        return pointer.offset == nil && pointer.length == nil ? nil : pointer
    }
}
