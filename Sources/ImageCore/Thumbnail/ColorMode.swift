// What a thumbnail does with the colour space its source declares.

/// How a thumbnail treats a source tagged with a colour profile (ICC, or EXIF's Adobe RGB marker).
public enum ColorMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Convert the pixels to sRGB, the web's default; the thumbnail carries no profile.
    case srgb
    /// Leave the pixels as they are and embed the source's RGB profile in the thumbnail (JPEG APP2, PNG iCCP).
    /// CMYK and gray profiles are still converted to sRGB: the thumbnail is an RGB picture.
    case keep
}
