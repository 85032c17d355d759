// Little CMS 2 for the whole process: one lcms context whose error handler drops every message (nothing is ever
// printed), the sRGB output profile and the built-in Adobe RGB (1998) profile made once, and a cache of the profiles
// read from files, keyed by their bytes, so a tagged picture opens, checks and builds its transform only the first
// time that profile is seen.

import CLCMS
import Locking

/// The lcms2 context, the built-in profiles and the profile cache.
///
/// Every lcms call that opens a profile or builds a transform runs under `cache`'s lock; afterwards the objects are
/// only read. `cmsDoTransform` on a built transform is thread-safe (lcms copies the transform's cache onto the
/// stack for each call), so conversions run outside the lock. That is why `@unchecked Sendable` is safe here.
final class ColorEngine: @unchecked Sendable {
    /// The one engine of the process.
    static let shared = ColorEngine()

    /// The most profiles kept, and the most bytes of them (CMYK profiles run to megabytes); past either the cache
    /// starts again (a store holds few distinct profiles).
    static let cacheLimit = 32
    static let cacheByteLimit = 16 << 20

    let context: cmsContext?
    /// lcms's sRGB (IEC 61966-2-1), the target of every conversion.
    let sRGB: cmsHPROFILE?
    /// Adobe RGB (1998) built from its primaries, D65 white and gamma 563/256, for EXIF's "R03" marker.
    let adobeRGB: ColorProfile?
    private let cache = Locked<[[UInt8]: ColorProfile]>([:])

    private init() {
        let context = cmsCreateContext(nil, nil)
        // lcms 2.14's default handler prints nothing either; this one makes sure no lcms build ever does.
        cmsSetLogErrorHandlerTHR(context) { _, _, _ in }
        self.context = context
        let sRGB = cmsCreate_sRGBProfileTHR(context)
        self.sRGB = sRGB
        adobeRGB = Self.makeAdobeRGB(context: context).flatMap { Self.open($0, context: context, sRGB: sRGB) }
    }

    /// The profile for `bytes`, opened and checked once; `nil` when lcms cannot use it (garbage, truncated, a
    /// device link, a colour model other than RGB, gray or CMYK, or no transform to sRGB can be built).
    func profile(_ bytes: [UInt8]) -> ColorProfile? {
        cache.withLock { cache in
            if let known = cache[bytes] { return known }
            guard let opened = Self.open(bytes, context: context, sRGB: sRGB) else { return nil }
            let held = cache.keys.reduce(bytes.count) { $0 + $1.count }
            if cache.count >= Self.cacheLimit || held > Self.cacheByteLimit { cache.removeAll() }
            cache[bytes] = opened
            return opened
        }
    }

    /// Builds a transform from `profile` to sRGB; runs under the lock (lcms reads the profiles while building).
    func makeTransform(from profile: cmsHPROFILE, input: UInt32, output: UInt32) -> ColorTransform? {
        cache.withLock { _ in
            ColorTransform.make(context: context, from: profile, to: sRGB, input: input, output: output)
        }
    }

    /// Opens and checks a profile. Called under the lock (or before the engine is shared).
    private static func open(_ bytes: [UInt8], context: cmsContext?, sRGB: cmsHPROFILE?) -> ColorProfile? {
        // 128-byte header plus the tag count; lcms checks the rest (declared size, tag table bounds).
        guard bytes.count >= 132, bytes.count <= Int(UInt32.max) else { return nil }
        guard
            let handle = bytes.withUnsafeBytes({ raw in
                cmsOpenProfileFromMemTHR(context, raw.baseAddress, UInt32(raw.count))
            })
        else { return nil }
        let space: ColorProfile.Space
        switch cmsGetColorSpace(handle) {
        case cmsSigRgbData: space = .rgb
        case cmsSigGrayData: space = .gray
        case cmsSigCmykData: space = .cmyk
        default:
            cmsCloseProfile(handle)
            return nil
        }
        let input =
            switch space {
            case .rgb: CLCMS_typeRGB8()
            case .gray: CLCMS_typeGray8Extra(2)
            case .cmyk: CLCMS_typeCMYK8()
            }
        guard
            let transform = ColorTransform.make(
                context: context, from: handle, to: sRGB, input: input, output: CLCMS_typeRGB8())
        else {
            cmsCloseProfile(handle)
            return nil
        }
        return ColorProfile(
            handle: handle, bytes: bytes, space: space, name: description(of: handle),
            isSRGB: space != .cmyk && transform.isIdentity(gray: space == .gray), firstTransform: transform,
            inputFormat: input)
    }

    /// The profile's description tag ("Adobe RGB (1998)"), or "" when it has none.
    private static func description(of handle: cmsHPROFILE) -> String {
        var text = [CChar](repeating: 0, count: 256)
        let written = cmsGetProfileInfoASCII(handle, cmsInfoDescription, "en", "US", &text, UInt32(text.count))
        guard written > 0 else { return "" }
        return String(decoding: text.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Adobe RGB (1998) as ICC bytes, built by lcms from the specification's values, so no file is needed.
    private static func makeAdobeRGB(context: cmsContext?) -> [UInt8]? {
        makeRGBProfile(
            context: context, chromaticities: [0.3127, 0.3290, 0.64, 0.33, 0.21, 0.71, 0.15, 0.06],
            curve: cmsBuildGamma(context, 563.0 / 256.0), description: "Adobe RGB (1998) compatible, built by picpipe")
    }

    /// An RGB profile for a PNG's cHRM chunk: its white point and primaries with sRGB's tone curve (the decoder has
    /// already applied any gAMA), or `nil` when the values describe no colour space lcms can build.
    func profile(chromaticities: [Double]) -> ColorProfile? {
        guard chromaticities.count == 8, chromaticities.allSatisfy({ $0 > 0 && $0 < 1 }) else { return nil }
        let bytes: [UInt8]? = cache.withLock { _ in
            var parameters: [Double] = [2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045]
            return Self.makeRGBProfile(
                context: context, chromaticities: chromaticities,
                curve: cmsBuildParametricToneCurve(context, 4, &parameters), description: "PNG cHRM, sRGB curve")
        }
        return bytes.flatMap { profile($0) }
    }

    /// An RGB profile for a HEIC's or AVIF's nclx box when its pixels are not sRGB (Display P3, BT.2020; a linear
    /// or gamma curve): its primaries with its transfer curve. `nil` for sRGB (BT.709 or unspecified primaries with
    /// an sRGB, BT.709 or unspecified curve: most files, left as they are, as browsers show them) and for curves a
    /// matrix/TRC profile cannot hold (PQ and HLG HDR, logarithmic): those pixels stay untagged.
    func profile(nclx: NCLXColor) -> ColorProfile? {
        let srgbLikeCurves: Set<Int> = [1, 2, 6, 13, 14, 15]
        if [1, 2].contains(nclx.primaries), srgbLikeCurves.contains(nclx.transfer) { return nil }
        let chromaticities =
            nclx.primaries == 2 ? [0.3127, 0.3290, 0.64, 0.33, 0.30, 0.60, 0.15, 0.06] : nclx.chromaticities
        guard chromaticities.count == 8, chromaticities.allSatisfy({ $0 > 0 && $0 < 1 }) else { return nil }
        let bytes: [UInt8]? = cache.withLock { _ in
            let curve: OpaquePointer?
            switch nclx.transfer {
            case 2, 13:
                var parameters: [Double] = [2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045]
                curve = cmsBuildParametricToneCurve(context, 4, &parameters)
            case 1, 6, 14, 15:
                // BT.709's (and BT.601's, BT.2020's) inverse OETF: linear below 0.081, else ((v + 0.099) / 1.099)^(1/0.45).
                var parameters: [Double] = [1 / 0.45, 1 / 1.099, 0.099 / 1.099, 1 / 4.5, 0.081]
                curve = cmsBuildParametricToneCurve(context, 4, &parameters)
            case 8: curve = cmsBuildGamma(context, 1.0)
            case 4: curve = cmsBuildGamma(context, 2.2)
            case 5: curve = cmsBuildGamma(context, 2.8)
            default: return nil
            }
            return Self.makeRGBProfile(
                context: context, chromaticities: chromaticities, curve: curve,
                description: "nclx \(nclx.primaries)/\(nclx.transfer), built by picpipe")
        }
        return bytes.flatMap { profile($0) }
    }

    /// An RGB matrix/TRC profile as ICC bytes, from white x, y and red, green, blue x, y; the date in its header is
    /// zeroed so the same values give the same bytes (the cache's key). Takes ownership of `curve`.
    private static func makeRGBProfile(
        context: cmsContext?, chromaticities c: [Double], curve: OpaquePointer?, description: String
    ) -> [UInt8]? {
        guard let curve else { return nil }
        defer { cmsFreeToneCurve(curve) }
        var white = cmsCIExyY(x: c[0], y: c[1], Y: 1)
        var primaries = cmsCIExyYTRIPLE(
            Red: cmsCIExyY(x: c[2], y: c[3], Y: 1), Green: cmsCIExyY(x: c[4], y: c[5], Y: 1),
            Blue: cmsCIExyY(x: c[6], y: c[7], Y: 1))
        var curves: [OpaquePointer?] = [curve, curve, curve]
        guard let profile = cmsCreateRGBProfileTHR(context, &white, &primaries, &curves) else { return nil }
        defer { cmsCloseProfile(profile) }
        if let text = cmsMLUalloc(context, 1) {
            cmsMLUsetASCII(text, "en", "US", description)
            cmsWriteTag(profile, cmsSigProfileDescriptionTag, UnsafeMutableRawPointer(text))
            cmsMLUfree(text)
        }
        var size: UInt32 = 0
        guard cmsSaveProfileToMem(profile, nil, &size) != 0, size >= 128 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        guard bytes.withUnsafeMutableBytes({ cmsSaveProfileToMem(profile, $0.baseAddress, &size) }) != 0 else {
            return nil
        }
        bytes.replaceSubrange(24..<36, with: repeatElement(0, count: 12))  // creation date and time
        return bytes
    }
}
