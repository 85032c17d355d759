// A PNG's gAMA chunk beside an ICC profile: the PNG specification has a colour-managed reader ignore it (the profile
// describes the pixels), as libvips and browsers do. libpng applies it when it decodes, so the chunk is left out of
// the bytes libpng sees.

/// Finds and removes a PNG's gAMA chunk.
enum PNGGammaChunk {
    /// The file without its gAMA chunk (looked for before the first IDAT), or `nil` when it has none.
    static func removed(from bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        var position = 8
        while position + 12 <= bytes.count {
            let length = Int(readUInt32(bytes, at: position))
            let type = readUInt32(bytes, at: position + 4)
            if type == 0x4944_4154 || type == 0x4945_4E44 { return nil }  // IDAT, IEND
            guard length <= bytes.count - position - 12 else { return nil }
            let end = position + 12 + length
            if type == 0x6741_4D41 {  // gAMA
                return Array(bytes[0..<position]) + Array(bytes[end...])
            }
            position = end
        }
        return nil
    }

    private static func readUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }
}
