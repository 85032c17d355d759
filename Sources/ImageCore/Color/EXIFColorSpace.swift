// EXIF's way of saying "Adobe RGB" without a profile (DCF 2.0): ColorSpace (0xA001) = 0xFFFF, uncalibrated, in the
// EXIF IFD, and InteroperabilityIndex (0x0001) = "R03" in the Interoperability IFD. Read bounds-checked.

/// Reads the EXIF colour-space tags from a TIFF structure.
enum EXIFColorSpace {
    /// Whether the block marks the picture as Adobe RGB (1998): ColorSpace uncalibrated and InteropIndex "R03".
    /// - Parameter tiff: the TIFF structure (the APP1 payload after "Exif\0\0").
    static func isAdobeRGB(tiff bytes: UnsafeRawBufferPointer) -> Bool {
        guard let tiff = TIFFStructure(bytes), let exifPointer = tiff.entry(0x8769, in: tiff.firstDirectory)
        else { return false }
        let exifIFD = tiff.uint32(exifPointer + 8)
        guard let colorSpace = tiff.entry(0xA001, in: exifIFD), tiff.uint16(colorSpace + 2) == 3,
            tiff.uint16(colorSpace + 8) == 0xFFFF,
            let interopPointer = tiff.entry(0xA005, in: exifIFD),
            let index = tiff.entry(0x0001, in: tiff.uint32(interopPointer + 8))
        else { return false }
        // ASCII "R03\0": four bytes, so the value sits inside the entry itself.
        return tiff.uint16(index + 2) == 2 && bytes[index + 8] == 0x52 && bytes[index + 9] == 0x30
            && bytes[index + 10] == 0x33
    }
}
