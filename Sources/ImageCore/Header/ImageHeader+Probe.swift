// STUB: to be replaced by the ImageCore work (JPEG SOF / PNG IHDR / EXIF orientation parsing).

extension ImageHeader {
    /// Reads format, stored dimensions and EXIF orientation from the first bytes of a file, decoding no pixels.
    /// - Parameter bytes: the file, or a prefix of it; a prefix that ends before the size is known throws `.truncated`.
    /// - Throws: `ImageError` when the bytes are not JPEG or PNG, or the header is invalid or truncated.
    public static func read(from bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageHeader {
        guard let format = ImageFormat.sniff(bytes) else { throw .unsupportedFormat(hint: "unknown signature") }
        throw .corrupt(format: format, detail: "probe not implemented yet")
    }
}
