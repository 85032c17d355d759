// The limits checked from the header before any pixel buffer is allocated (decompression bombs, huge uploads).

/// How large an input may be before ImageCore refuses to decode it.
public struct DecodeLimits: Sendable, Hashable, Codable {
    /// The most pixels (width x height, as stored) a header may declare.
    public var maxPixels: Int
    /// The largest file, in bytes.
    public var maxFileBytes: Int

    /// Limits with defaults of 100 megapixels and 256 MiB.
    public init(maxPixels: Int = 100_000_000, maxFileBytes: Int = 256 * 1024 * 1024) {
        self.maxPixels = maxPixels
        self.maxFileBytes = maxFileBytes
    }

    /// 100 megapixels, 256 MiB.
    public static let `default` = DecodeLimits()

    /// Refuses a file that is too large.
    /// - Throws: `.fileTooLarge`.
    public func check(fileBytes: Int) throws(ImageError) {
        if fileBytes > maxFileBytes { throw .fileTooLarge(bytes: fileBytes, limit: maxFileBytes) }
    }

    /// Refuses a header that declares too many pixels.
    /// - Throws: `.tooManyPixels`.
    public func check(_ header: ImageHeader) throws(ImageError) {
        // Dimensions are at most 2^31 each, so the product cannot overflow a 64-bit Int.
        if header.width * header.height > maxPixels {
            throw .tooManyPixels(width: header.width, height: header.height, limit: maxPixels)
        }
    }
}
