// The result of one decode: the header it was checked against, the pixels, and the DCT shrink used.

/// Pixels decoded from a file, with what the header said.
public struct DecodedImage: Sendable, Equatable {
    /// The header read before decoding (stored size, orientation).
    public var header: ImageHeader
    /// The pixels in stored orientation, possibly reduced by `shrink`.
    public var pixels: PixelBuffer
    /// The reduction used: the DCT scale denominator (1, 2, 4 or 8) for JPEG, the box factor for PNG.
    public var shrink: Int
    /// The colour space of `pixels` when the file declares one (an ICC profile, or EXIF's Adobe RGB marker);
    /// `nil` for untagged pictures, which are taken as sRGB. CMYK pictures with a profile are already converted
    /// to sRGB here (and have `nil`); RGB and gray ones are converted, or not, by the caller (`ColorMode`).
    public var colorProfile: ColorProfile? = nil
    /// `pixels` resized to the size the caller asked (`ImageDecoder.decode(resizingTo:)`), made while they were
    /// decoded; `nil` when it was not (another format, no spare core, a resize that box-shrinks first).
    public var resized: PixelBuffer? = nil
}
