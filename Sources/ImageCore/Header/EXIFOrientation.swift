// The EXIF Orientation tag (0x0112) read straight from a TIFF structure: bounds-checked, no loops over offsets.

/// Reads the Orientation tag from the TIFF header and IFD0 of an EXIF block.
enum EXIFOrientation {
    /// The orientation 1-8, or `nil` when the block has no valid Orientation tag.
    /// - Parameter tiff: the TIFF structure (the APP1 payload after "Exif\0\0", or a PNG eXIf chunk).
    static func read(tiff: UnsafeRawBufferPointer) -> Int? {
        guard tiff.count >= 8 else { return nil }
        let bigEndian: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): bigEndian = false
        case (0x4D, 0x4D): bigEndian = true
        default: return nil
        }
        func uint16(_ offset: Int) -> Int {
            bigEndian
                ? Int(tiff[offset]) << 8 | Int(tiff[offset + 1])
                : Int(tiff[offset + 1]) << 8 | Int(tiff[offset])
        }
        func uint32(_ offset: Int) -> Int {
            bigEndian ? uint16(offset) << 16 | uint16(offset + 2) : uint16(offset + 2) << 16 | uint16(offset)
        }
        guard uint16(2) == 42 else { return nil }
        let directory = uint32(4)
        guard directory >= 8, directory <= tiff.count - 2 else { return nil }
        // Only entries that fit in the block are read: a count past the end cannot make this read out of bounds.
        let entries = min(uint16(directory), (tiff.count - directory - 2) / 12)
        for index in 0..<entries {
            let entry = directory + 2 + index * 12
            guard uint16(entry) == 0x0112 else { continue }
            let type = uint16(entry + 2)
            let value: Int
            switch type {
            case 3: value = uint16(entry + 8)  // SHORT, the type the standard requires
            case 4: value = uint32(entry + 8)  // LONG, written by a few tools
            default: return nil
            }
            return (1...8).contains(value) ? value : nil
        }
        return nil
    }
}
