// The outputs of one render: each encoded thumbnail, and the decode facts they came from.

/// One encoded thumbnail.
public struct RenderedThumbnail: Sendable {
    /// The spec it was made for.
    public var spec: ThumbnailSpec
    /// Its width in pixels.
    public var width: Int
    /// Its height in pixels.
    public var height: Int
    /// The encoded file.
    public var bytes: [UInt8]
}

/// Everything one render produced.
public struct ThumbnailRender: Sendable {
    /// The source header (stored size, orientation).
    public var header: ImageHeader
    /// The reduction of the single decode: the DCT denominator (1, 2, 4 or 8) for JPEG, the box factor for a
    /// streamed (non-interlaced) PNG, else 1.
    public var shrink: Int
    /// The source's RGB or gray colour profile (`nil`: untagged, taken as sRGB, or CMYK already converted).
    public var colorProfile: ColorProfile?
    /// The thumbnails, in the order of the specs.
    public var thumbnails: [RenderedThumbnail]
}
