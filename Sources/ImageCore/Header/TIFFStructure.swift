// A bounds-checked view of a TIFF structure (an EXIF block): the byte order, 16- and 32-bit reads, and IFD entries
// that fit in the block. The EXIF readers of ImageCore (orientation, colour space) share it.

/// The TIFF structure of an EXIF block (the APP1 payload after "Exif\0\0", or a PNG eXIf chunk).
struct TIFFStructure {
    let bytes: UnsafeRawBufferPointer
    let bigEndian: Bool

    /// `nil` unless the block starts with a TIFF header ("II" or "MM", then 42).
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 8 else { return nil }
        switch (bytes[0], bytes[1]) {
        case (0x49, 0x49): bigEndian = false
        case (0x4D, 0x4D): bigEndian = true
        default: return nil
        }
        self.bytes = bytes
        guard uint16(2) == 42 else { return nil }
    }

    /// The offset of IFD0.
    var firstDirectory: Int { uint32(4) }

    func uint16(_ offset: Int) -> Int {
        bigEndian
            ? Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
            : Int(bytes[offset + 1]) << 8 | Int(bytes[offset])
    }

    func uint32(_ offset: Int) -> Int {
        bigEndian ? uint16(offset) << 16 | uint16(offset + 2) : uint16(offset + 2) << 16 | uint16(offset)
    }

    /// The offset of the 12-byte entry for `tag` in the IFD at `directory`, if it is there and fits. Only entries
    /// that fit in the block are read: a count past the end cannot make this read out of bounds.
    func entry(_ tag: Int, in directory: Int) -> Int? {
        guard directory >= 8, directory <= bytes.count - 2 else { return nil }
        let entries = min(uint16(directory), (bytes.count - directory - 2) / 12)
        for index in 0..<entries where uint16(directory + 2 + index * 12) == tag {
            return directory + 2 + index * 12
        }
        return nil
    }
}
