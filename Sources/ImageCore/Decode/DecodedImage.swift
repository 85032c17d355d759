// The result of one decode: the header it was checked against, the pixels, and the DCT shrink used.

/// Pixels decoded from a file, with what the header said.
public struct DecodedImage: Sendable, Equatable {
    /// The header read before decoding (stored size, orientation).
    public var header: ImageHeader
    /// The pixels in stored orientation, possibly reduced by `shrink`.
    public var pixels: PixelBuffer
    /// The DCT scale denominator used (1, 2, 4 or 8); always 1 for PNG.
    public var shrink: Int
}
