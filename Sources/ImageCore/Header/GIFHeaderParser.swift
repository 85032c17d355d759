// Reads a GIF's logical screen size from its first 10 bytes; GIF has no orientation.

/// Reads a GIF's header.
enum GIFHeaderParser {
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageHeader {
        guard bytes.count >= 13 else {
            throw .truncated(detail: "the GIF data ends before its logical screen descriptor")
        }
        let width = Int(bytes[6]) | Int(bytes[7]) << 8
        let height = Int(bytes[8]) | Int(bytes[9]) << 8
        guard width > 0, height > 0 else { throw .invalidDimensions(width: width, height: height) }
        // After the screen descriptor and its global colour table comes a block: an extension (0x21), an image
        // (0x2C) or the trailer (0x3B). Anything else is not a GIF, whatever its first six bytes say.
        let globalTable = bytes[10] & 0x80 != 0 ? 3 << (Int(bytes[10] & 0x07) + 1) : 0
        let next = 13 + globalTable
        if next < bytes.count, ![0x21, 0x2C, 0x3B].contains(bytes[next]) {
            throw .corrupt(format: .gif, detail: "no extension, image or trailer after the screen descriptor")
        }
        return ImageHeader(format: .gif, width: width, height: height)
    }
}
