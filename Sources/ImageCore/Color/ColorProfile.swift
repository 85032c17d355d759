// An ICC profile a picture carries, opened and checked by lcms2, and the conversions of pixels to sRGB.

import CLCMS
import Locking

/// A usable ICC profile: RGB, gray or CMYK, from which lcms2 can build a transform to sRGB.
///
/// Profiles come from `ColorProfile.read(_:)`, which caches them by their bytes: a picture tagged with a profile
/// seen before costs one dictionary look-up. `@unchecked Sendable`: the lcms profile is only read after it is
/// opened, and transforms are built under the engine's lock (see `ColorEngine`).
public final class ColorProfile: @unchecked Sendable, Equatable, CustomStringConvertible {
    /// The colour model a profile describes.
    public enum Space: String, Sendable {
        /// Red, green and blue (ICC 'RGB ').
        case rgb
        /// One gray channel (ICC 'GRAY').
        case gray
        /// Cyan, magenta, yellow and black ink (ICC 'CMYK').
        case cmyk
    }

    /// The profile as stored in the file: what `ColorMode.keep` embeds in a thumbnail.
    public let bytes: [UInt8]
    /// RGB, gray or CMYK.
    public let space: Space
    /// The profile's description, e.g. "Adobe RGB (1998)" (empty when it has none).
    public let name: String
    /// Whether the profile is sRGB in effect: converting to sRGB moves no 8-bit value by more than 1 (tested on a
    /// grid of colours when the profile is first seen). Such pictures are not converted at all.
    public let isSRGB: Bool

    private let handle: cmsHPROFILE
    /// Transforms by input and output format; the 3-channel one is built when the profile is opened.
    private let transforms: Locked<[UInt64: ColorTransform]>

    init(
        handle: cmsHPROFILE, bytes: [UInt8], space: Space, name: String, isSRGB: Bool,
        firstTransform: ColorTransform, inputFormat: UInt32
    ) {
        self.handle = handle
        self.bytes = bytes
        self.space = space
        self.name = name
        self.isSRGB = isSRGB
        let key = UInt64(inputFormat) << 32 | UInt64(CLCMS_typeRGB8())
        transforms = Locked([key: firstTransform])
    }

    deinit { cmsCloseProfile(handle) }

    /// The profile for ICC bytes, or `nil` when lcms cannot use them: garbage, truncated, a device link or
    /// abstract profile, a colour model other than RGB, gray or CMYK. Cached by the bytes.
    public static func read(_ bytes: [UInt8]) -> ColorProfile? { ColorEngine.shared.profile(bytes) }

    /// Adobe RGB (1998), built by lcms from the specification's primaries, D65 white point and gamma 563/256:
    /// what EXIF's "R03" marker means when a file carries no profile.
    public static var adobeRGB: ColorProfile? { ColorEngine.shared.adobeRGB }

    /// Profiles are equal when their bytes are.
    public static func == (lhs: ColorProfile, rhs: ColorProfile) -> Bool { lhs.bytes == rhs.bytes }

    /// `RGB profile "Adobe RGB (1998)" (560 bytes)`, for messages and logs.
    public var description: String {
        "\(space.rawValue.uppercased()) profile \"\(name)\" (\(bytes.count) bytes\(isSRGB ? ", sRGB in effect" : ""))"
    }

    /// The pixels converted to sRGB, or `nil` when this profile cannot convert them (a CMYK profile, or a layout
    /// lcms refused). Alpha is kept as it was.
    /// - Parameter image: RGB or RGBA pixels described by this RGB or gray profile (gray pictures are decoded to RGB
    ///   with R = G = B; the gray value is read from R).
    public func convertedToSRGB(_ image: PixelBuffer) -> PixelBuffer? {
        guard space != .cmyk, image.channels == 3 || image.channels == 4 else { return nil }
        let hasAlpha = image.channels == 4
        let input: UInt32
        switch space {
        case .rgb: input = hasAlpha ? CLCMS_typeRGBA8() : CLCMS_typeRGB8()
        case .gray: input = CLCMS_typeGray8Extra(Int32(image.channels - 1))
        case .cmyk: return nil
        }
        let output = hasAlpha ? CLCMS_typeRGBA8() : CLCMS_typeRGB8()
        guard let transform = transform(input: input, output: output) else { return nil }
        var result = image
        let count = image.width * image.height
        result.bytes.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            transform.apply(base, base, count: count)
        }
        // lcms leaves the output's extra channel alone in place, but do not depend on it: alpha is copied back.
        if hasAlpha {
            for index in stride(from: 3, to: result.bytes.count, by: 4) { result.bytes[index] = image.bytes[index] }
        }
        return result
    }

    /// CMYK ink amounts (0 = no ink, 4 bytes a pixel) converted to sRGB, or `nil` when this is not a CMYK profile.
    public func convertedToSRGB(ink: [UInt8], width: Int, height: Int) -> PixelBuffer? {
        guard space == .cmyk, ink.count == width * height * 4,
            let transform = transform(input: CLCMS_typeCMYK8(), output: CLCMS_typeRGB8())
        else { return nil }
        let count = width * height
        let rgb = [UInt8](unsafeUninitializedCapacity: count * 3) { buffer, initialized in
            ink.withUnsafeBytes { from in
                guard let source = from.baseAddress, let target = buffer.baseAddress else { return }
                transform.apply(source, target, count: count)
            }
            initialized = count * 3
        }
        return PixelBuffer(width: width, height: height, channels: 3, bytes: rgb)
    }

    /// The transform for a layout, built the first time it is asked for.
    private func transform(input: UInt32, output: UInt32) -> ColorTransform? {
        let key = UInt64(input) << 32 | UInt64(output)
        if let known = transforms.withLock({ $0[key] }) { return known }
        guard let made = ColorEngine.shared.makeTransform(from: handle, input: input, output: output) else {
            return nil
        }
        transforms.withLock { $0[key] = made }
        return made
    }
}
