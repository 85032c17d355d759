// The result of one decode: the header it was checked against, the pixels, and the DCT shrink used.

/// Pixels decoded from a file, with what the header said.
public struct DecodedImage: Sendable, Equatable {
    /// The header read before decoding (stored size, orientation).
    public var header: ImageHeader
    /// The pixels in stored orientation, possibly reduced by `shrink`.
    public var pixels: PixelBuffer
    /// The reduction used: the DCT scale denominator (1, 2, 4 or 8) for JPEG, the box factor for PNG.
    public var shrink: Int
}
