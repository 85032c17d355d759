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
        return ImageHeader(format: .gif, width: width, height: height)
    }
}
