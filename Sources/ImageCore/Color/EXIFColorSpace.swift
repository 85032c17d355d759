// EXIF's way of saying "Adobe RGB" without a profile (DCF 2.0): ColorSpace (0xA001) = 0xFFFF, uncalibrated, in the
// EXIF IFD, and InteroperabilityIndex (0x0001) = "R03" in the Interoperability IFD. Read bounds-checked.

/// Reads the EXIF colour-space tags from a TIFF structure.
enum EXIFColorSpace {
    /// Whether the block marks the picture as Adobe RGB (1998): ColorSpace uncalibrated and InteropIndex "R03".
    /// - Parameter tiff: the TIFF structure (the APP1 payload after "Exif\0\0").
    static func isAdobeRGB(tiff: UnsafeRawBufferPointer) -> Bool {
        guard tiff.count >= 8 else { return false }
        let bigEndian: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): bigEndian = false
        case (0x4D, 0x4D): bigEndian = true
        default: return false
        }
        func uint16(_ offset: Int) -> Int {
            bigEndian
                ? Int(tiff[offset]) << 8 | Int(tiff[offset + 1])
                : Int(tiff[offset + 1]) << 8 | Int(tiff[offset])
        }
        func uint32(_ offset: Int) -> Int {
            bigEndian ? uint16(offset) << 16 | uint16(offset + 2) : uint16(offset + 2) << 16 | uint16(offset)
        }
        /// The offset of the 12-byte entry for `tag` in the IFD at `directory`, if it is there and fits.
        func entry(_ tag: Int, in directory: Int) -> Int? {
            guard directory >= 8, directory <= tiff.count - 2 else { return nil }
            let entries = min(uint16(directory), (tiff.count - directory - 2) / 12)
            for index in 0..<entries where uint16(directory + 2 + index * 12) == tag {
                return directory + 2 + index * 12
            }
            return nil
        }
        guard uint16(2) == 42, let exifPointer = entry(0x8769, in: uint32(4)) else { return false }
        let exifIFD = uint32(exifPointer + 8)
        guard let colorSpace = entry(0xA001, in: exifIFD), uint16(colorSpace + 2) == 3,
            uint16(colorSpace + 8) == 0xFFFF,
            let interopPointer = entry(0xA005, in: exifIFD),
            let index = entry(0x0001, in: uint32(interopPointer + 8))
        else { return false }
        // ASCII "R03\0": four bytes, so the value sits inside the entry itself.
        return uint16(index + 2) == 2 && tiff[index + 8] == 0x52 && tiff[index + 9] == 0x30 && tiff[index + 10] == 0x33
    }
}
