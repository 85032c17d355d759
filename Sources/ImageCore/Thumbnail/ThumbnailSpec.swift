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
    /// JPEG, lossy WebP and AVIF quality 1-100 (ignored for PNG and lossless WebP).
    public var quality: Int
    /// Progressive JPEG (ignored for PNG).
    public var progressive: Bool
    /// The colour transparent pixels are flattened onto for JPEG output.
    public var background: RGBColor
    /// What happens to a source with a colour profile: converted to sRGB, or kept and embedded.
    public var color: ColorMode
    /// Lossless WebP (ignored for other formats).
    public var lossless: Bool
    /// The AVIF encoder's speed, 0 (slowest, smallest) to 9 (fastest); ignored for other formats.
    public var speed: Int

    /// A spec with the defaults: fit inside, JPEG, quality 82, baseline, white background, converted to sRGB,
    /// lossy WebP, AVIF speed 6.
    public init(
        width: Int, height: Int, fit: FitMode = .inside, format: ImageFormat = .jpeg, quality: Int = 82,
        progressive: Bool = false, background: RGBColor = .white, color: ColorMode = .srgb, lossless: Bool = false,
        speed: Int = 6
    ) {
        self.width = width
        self.height = height
        self.fit = fit
        self.format = format
        self.quality = quality
        self.progressive = progressive
        self.background = background
        self.color = color
        self.lossless = lossless
        self.speed = speed
    }

    /// Whether transparent pixels survive in this output format (PNG, WebP, AVIF), or are flattened onto
    /// `background` (JPEG).
    public var keepsAlpha: Bool { format != .jpeg }

    /// Decodes a spec; one written before `color` existed gets `.srgb`, before `lossless` and `speed` lossy and 6.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        width = try c.decode(Int.self, forKey: .width)
        height = try c.decode(Int.self, forKey: .height)
        fit = try c.decode(FitMode.self, forKey: .fit)
        format = try c.decode(ImageFormat.self, forKey: .format)
        quality = try c.decode(Int.self, forKey: .quality)
        progressive = try c.decode(Bool.self, forKey: .progressive)
        background = try c.decode(RGBColor.self, forKey: .background)
        color = try c.decodeIfPresent(ColorMode.self, forKey: .color) ?? .srgb
        lossless = try c.decodeIfPresent(Bool.self, forKey: .lossless) ?? false
        speed = try c.decodeIfPresent(Int.self, forKey: .speed) ?? 6
    }
}
