// Reading the header of an image from the first bytes of the file: format, stored size, EXIF orientation.

extension ImageHeader {
    /// Reads format, stored dimensions and EXIF orientation from the first bytes of a file, decoding no pixels.
    /// - Parameter bytes: the file, or a prefix of it; a prefix that ends before the size is known throws `.truncated`
    ///   (HEIF's boxes are read by libheif, which wants the file up to the end of its `meta` box at least).
    /// - Throws: `ImageError` when the bytes are not an image picpipe reads, or the header is invalid or truncated.
    public static func read(from bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageHeader {
        guard let format = ImageFormat.sniff(bytes) else {
            throw .unsupportedFormat(hint: bytes.isEmpty ? "the file is empty" : "unknown signature")
        }
        switch format {
        case .jpeg: return try JPEGHeaderParser.parse(bytes)
        case .png: return try PNGHeaderParser.parse(bytes)
        case .webp: return try WebPHeaderParser.parse(bytes)
        case .gif: return try GIFHeaderParser.parse(bytes)
        case .heic, .avif:
            do {
                return try HEIFContainer(bytes, format: format).header()
            } catch {
                // libheif refuses a declared size past its own default limit before picpipe's is asked: that size,
                // so the limit check names picpipe's limit (until session 30: "corrupt … over libheif's size limit").
                guard let declared = HEIFContainer.sizeOverLibheifLimit(error) else { throw error }
                return ImageHeader(format: format, width: declared.width, height: declared.height)
            }
        }
    }

    /// The number of pixels the header declares.
    public var pixelCount: Int { width * height }
}
