// Reading the header of a JPEG or PNG from the first bytes of the file: format, stored size, EXIF orientation.

extension ImageHeader {
    /// Reads format, stored dimensions and EXIF orientation from the first bytes of a file, decoding no pixels.
    /// - Parameter bytes: the file, or a prefix of it; a prefix that ends before the size is known throws `.truncated`.
    /// - Throws: `ImageError` when the bytes are not JPEG or PNG, or the header is invalid or truncated.
    public static func read(from bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageHeader {
        guard let format = ImageFormat.sniff(bytes) else {
            throw .unsupportedFormat(hint: bytes.isEmpty ? "the file is empty" : "unknown signature")
        }
        switch format {
        case .jpeg: return try JPEGHeaderParser.parse(bytes)
        case .png: return try PNGHeaderParser.parse(bytes)
        }
    }

    /// The number of pixels the header declares.
    public var pixelCount: Int { width * height }
}
