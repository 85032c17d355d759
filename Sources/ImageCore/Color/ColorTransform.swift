// One lcms2 transform to sRGB for one pixel layout, built once and used by any thread.

import CLCMS

/// A built lcms2 transform (relative colorimetric, lcms's 8-bit optimisations on).
///
/// `@unchecked Sendable`: the transform is never changed after it is built, and `cmsDoTransform` is thread-safe on
/// it (lcms copies the transform's cache onto the stack for each call).
final class ColorTransform: @unchecked Sendable {
    private let handle: cmsHTRANSFORM
    /// Bytes a pixel of input and of output.
    let inputBytes: Int
    let outputBytes: Int

    private init(handle: cmsHTRANSFORM, inputBytes: Int, outputBytes: Int) {
        self.handle = handle
        self.inputBytes = inputBytes
        self.outputBytes = outputBytes
    }

    deinit { cmsDeleteTransform(handle) }

    /// Builds the transform, or `nil` when lcms cannot (a profile without the tags the intent needs).
    static func make(
        context: cmsContext?, from profile: cmsHPROFILE, to target: cmsHPROFILE?, input: UInt32, output: UInt32
    )
        -> ColorTransform?
    {
        guard let target,
            let handle = cmsCreateTransformTHR(
                context, profile, input, target, output, UInt32(INTENT_RELATIVE_COLORIMETRIC), 0)
        else { return nil }
        return ColorTransform(
            handle: handle, inputBytes: bytesPerPixel(input), outputBytes: bytesPerPixel(output))
    }

    /// (channels + extra channels) x bytes a sample, from lcms's format word (T_CHANNELS, T_EXTRA, T_BYTES; 0 bytes
    /// means a double).
    static func bytesPerPixel(_ format: UInt32) -> Int {
        let bytes = Int(format & 7)
        return (Int((format >> 3) & 15) + Int((format >> 7) & 7)) * (bytes == 0 ? 8 : bytes)
    }

    /// Converts `count` pixels; `input` and `output` may be the same buffer when the layouts have the same size.
    func apply(_ input: UnsafeRawPointer, _ output: UnsafeMutableRawPointer, count: Int) {
        // cmsDoTransform counts pixels in 32 bits; a decode is far below that, but stay exact for any size.
        var done = 0
        while done < count {
            let step = min(count - done, 1 << 24)
            cmsDoTransform(handle, input + done * inputBytes, output + done * outputBytes, UInt32(step))
            done += step
        }
    }

    /// Whether the transform leaves every 8-bit RGB value within 1 of where it was, on a 17-level grid per channel
    /// (for gray, on all 256 levels): then the profile is sRGB in all but name and no conversion is needed.
    func isIdentity(gray: Bool) -> Bool {
        let samples = gray ? Self.grayRamp : Self.colourGrid
        var converted = [UInt8](repeating: 0, count: samples.count)
        samples.withUnsafeBytes { from in
            converted.withUnsafeMutableBytes { to in
                guard let source = from.baseAddress, let target = to.baseAddress else { return }
                apply(source, target, count: samples.count / 3)
            }
        }
        for index in samples.indices where abs(Int(samples[index]) - Int(converted[index])) > 1 { return false }
        return true
    }

    /// 0, 16, 32, …, 240, 255 in every combination of R, G and B (4,913 pixels).
    private static let colourGrid: [UInt8] = {
        let levels = (0..<17).map { UInt8(min(255, $0 * 16)) }
        var samples: [UInt8] = []
        samples.reserveCapacity(17 * 17 * 17 * 3)
        for r in levels { for g in levels { for b in levels { samples += [r, g, b] } } }
        return samples
    }()

    /// Every gray level as an RGB pixel (the gray transform reads the first byte of three).
    private static let grayRamp: [UInt8] = (0..<256).flatMap { [UInt8($0), UInt8($0), UInt8($0)] }
}
