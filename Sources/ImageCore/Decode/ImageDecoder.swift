// Decoding a whole file: limits first (from the header), then JPEG (with shrink-on-load), PNG, WebP, GIF (first
// frame), HEIC or AVIF.

/// Decodes image files held in memory.
public enum ImageDecoder {
    /// Decodes an image after checking its size and header against the limits.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - limits: refused before any pixel buffer is allocated when exceeded.
    ///   - minimumSize: the smallest picture (stored orientation) the caller needs; a JPEG is then decoded at the
    ///     largest DCT reduction (1/2, 1/4, 1/8) that still gives at least this size; a non-interlaced PNG is
    ///     box-shrunk while streaming by the largest whole factor that leaves twice this size; a HEIC or AVIF whose
    ///     embedded thumbnail image is at least this size is decoded from it. `nil` decodes at full size.
    ///   - resizingTo: a size the caller will resize the decode to (stored orientation): an RGB JPEG is then resized
    ///     on a spare core while it is decoded (`DecodedImage.resized`), when the resize filters the decode's rows.
    /// - Returns: RGB (or RGBA for PNGs with alpha) pixels in stored orientation, with the colour profile the file
    ///   declares (`DecodedImage.colorProfile`); CMYK JPEGs with a CMYK profile are converted to sRGB with it.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, limits: DecodeLimits, minimumSize: (width: Int, height: Int)?,
        resizingTo: (width: Int, height: Int)? = nil
    ) throws(ImageError) -> DecodedImage {
        try limits.check(fileBytes: bytes.count)
        let header = try ImageHeader.read(from: bytes)
        try limits.check(header)
        let embedded = EmbeddedColor.read(bytes, format: header.format)
        let profile = colorProfile(embedded, format: header.format)
        switch header.format {
        case .jpeg:
            let shrink =
                minimumSize.map { shrinkFactor(for: header, minimumWidth: $0.width, minimumHeight: $0.height) } ?? 1
            if let profile, profile.space == .cmyk {
                let decoded = try JPEGDecoder.decodeInk(bytes, header: header, shrink: shrink, limits: limits)
                if let pixels = profile.convertedToSRGB(ink: decoded.ink, width: decoded.width, height: decoded.height)
                {
                    return DecodedImage(header: header, pixels: pixels, shrink: shrink)
                }
            }
            if let resizingTo {
                let (pixels, resized) = try JPEGDecoder.decode(
                    bytes, header: header, shrink: shrink, limits: limits, resizingTo: resizingTo)
                return DecodedImage(
                    header: header, pixels: pixels, shrink: shrink, colorProfile: profile, resized: resized)
            }
            let pixels = try JPEGDecoder.decode(bytes, header: header, shrink: shrink, limits: limits)
            return DecodedImage(header: header, pixels: pixels, shrink: shrink, colorProfile: profile)
        case .png:
            // Beside an ICC profile in use, a gAMA chunk is ignored, as the PNG specification has colour-managed
            // readers do (until session 30 libpng applied it and the profile then converted again: washed out).
            if let profile, profile == embeddedProfile(embedded, format: .png),
                let withoutGamma = PNGGammaChunk.removed(from: bytes)
            {
                let pixels = try withoutGamma.withUnsafeBytes { bytes in
                    Result { () throws(ImageError) in try decodePNG(bytes, header: header, minimumSize: minimumSize) }
                }.get()
                return DecodedImage(header: header, pixels: pixels.pixels, shrink: pixels.shrink, colorProfile: profile)
            }
            let pixels = try decodePNG(bytes, header: header, minimumSize: minimumSize)
            return DecodedImage(header: header, pixels: pixels.pixels, shrink: pixels.shrink, colorProfile: profile)
        case .webp:
            let pixels = try WebPDecoder.decode(bytes, header: header)
            return DecodedImage(header: header, pixels: pixels, shrink: 1, colorProfile: profile)
        case .gif:
            let pixels = try GIFDecoder.decode(bytes, header: header, limits: limits)
            return DecodedImage(header: header, pixels: pixels, shrink: 1)
        case .heic, .avif:
            // Parsing the boxes again is cheap (no picture is read); this context carries the size limit too.
            let container = try HEIFContainer(bytes, format: header.format, limits: limits)
            // An ICC profile first; else the nclx box's primaries and curve (an AVIF or HEIC in Display P3 or
            // BT.2020 often has no ICC profile).
            let embedded = container.iccProfile.flatMap(ColorProfile.read).flatMap { $0.space != .cmyk ? $0 : nil }
            let pixels = try HEIFDecoder.decode(container, header: header, minimumSize: minimumSize)
            // A gray profile describes a monochrome picture, which libheif decodes with R = G = B (the gray profile's
            // transform reads R); on a colour picture it fits nothing and is ignored.
            let fitting = embedded.flatMap { $0.space == .gray && !pixels.isNeutral ? nil : $0 }
            let profile = fitting ?? container.nclx.flatMap { ColorEngine.shared.profile(nclx: $0) }
            return DecodedImage(header: header, pixels: pixels, shrink: 1, colorProfile: profile)
        }
    }

    /// The profile that describes the file's pixels: its embedded ICC profile when lcms can use it and it fits the
    /// stored colour model (gray, RGB, CMYK); else, for a PNG without sRGB or cICP, one built from its cHRM; else
    /// Adobe RGB when EXIF says R03; else `nil` (sRGB). A profile that is damaged or does not fit is ignored: the
    /// picture is treated as untagged.
    static func colorProfile(_ embedded: EmbeddedColor, format: ImageFormat) -> ColorProfile? {
        if let profile = embeddedProfile(embedded, format: format) { return profile }
        if format == .png, !embedded.declaresSRGB, !embedded.hasCICP, embedded.components == 3,
            let chromaticities = embedded.chromaticities
        {
            return ColorEngine.shared.profile(chromaticities: chromaticities)
        }
        if format == .jpeg, embedded.components == 3, embedded.exifAdobeRGB { return ColorProfile.adobeRGB }
        return nil
    }

    /// The embedded ICC profile, when lcms can use it and it fits the stored colour model.
    static func embeddedProfile(_ embedded: EmbeddedColor, format: ImageFormat) -> ColorProfile? {
        guard let bytes = embedded.iccProfile, let profile = ColorProfile.read(bytes) else { return nil }
        switch profile.space {
        case .gray: return embedded.components == 1 ? profile : nil
        case .rgb: return embedded.components == 3 ? profile : nil
        case .cmyk: return embedded.components == 4 && format == .jpeg ? profile : nil
        }
    }

    /// A PNG's pixels: non-interlaced files stream into a box pre-shrink (never holding the full raster); others
    /// decode whole.
    private static func decodePNG(
        _ bytes: UnsafeRawBufferPointer, header: ImageHeader, minimumSize: (width: Int, height: Int)?
    ) throws(ImageError) -> (pixels: PixelBuffer, shrink: Int) {
        let shrink =
            minimumSize.map {
                PNGStreamDecoder.shrinkFactor(
                    width: header.width, height: header.height, minimumWidth: $0.width, minimumHeight: $0.height)
            } ?? 1
        if let pixels = try PNGStreamDecoder.decode(bytes, header: header, shrink: shrink) { return (pixels, shrink) }
        return (try PNGDecoder.decode(bytes, header: header), 1)
    }

    /// The largest DCT reduction (8, 4, 2, else 1) that keeps a JPEG at least the given size.
    public static func shrinkFactor(for header: ImageHeader, minimumWidth: Int, minimumHeight: Int) -> Int {
        guard header.format == .jpeg else { return 1 }
        for factor in [8, 4, 2] {
            let width = (header.width + factor - 1) / factor
            let height = (header.height + factor - 1) / factor
            if width >= minimumWidth, height >= minimumHeight { return factor }
        }
        return 1
    }
}
