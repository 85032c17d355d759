// One thumbnail to make: box, fit, output format and encoder settings.

/// What one thumbnail should look like.
public struct ThumbnailSpec: Sendable, Hashable, Codable {
    /// Box width in pixels.
    public var width: Int
    /// Box height in pixels.
    public var height: Int
    /// How the picture fills the box.
    public var fit: FitMode
    /// Output format.
    public var format: ImageFormat
    /// JPEG quality 1-100 (ignored for PNG).
    public var quality: Int
    /// Progressive JPEG (ignored for PNG).
    public var progressive: Bool
    /// The colour transparent pixels are flattened onto for JPEG output.
    public var background: RGBColor

    /// A spec with the defaults: fit inside, JPEG, quality 82, baseline, white background.
    public init(
        width: Int, height: Int, fit: FitMode = .inside, format: ImageFormat = .jpeg, quality: Int = 82,
        progressive: Bool = false, background: RGBColor = .white
    ) {
        self.width = width
        self.height = height
        self.fit = fit
        self.format = format
        self.quality = quality
        self.progressive = progressive
        self.background = background
    }
}
