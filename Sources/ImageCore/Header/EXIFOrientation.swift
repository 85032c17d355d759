// The EXIF Orientation tag (0x0112) read straight from a TIFF structure: bounds-checked, no loops over offsets.

/// Reads the Orientation tag from the TIFF header and IFD0 of an EXIF block.
enum EXIFOrientation {
    /// The orientation 1-8, or `nil` when the block has no valid Orientation tag.
    /// - Parameter tiff: the TIFF structure (the APP1 payload after "Exif\0\0", or a PNG eXIf chunk).
    static func read(tiff bytes: UnsafeRawBufferPointer) -> Int? {
        guard let tiff = TIFFStructure(bytes), let entry = tiff.entry(0x0112, in: tiff.firstDirectory) else {
            return nil
        }
        let value: Int
        switch tiff.uint16(entry + 2) {
        case 3: value = tiff.uint16(entry + 8)  // SHORT, the type the standard requires
        case 4: value = tiff.uint32(entry + 8)  // LONG, written by a few tools
        default: return nil
        }
        return (1...8).contains(value) ? value : nil
    }
}
