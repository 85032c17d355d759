// The image harnesses' body: header probe, limits, one decode with shrink-on-load, resize, orient, encode, and a
// check of what the thumbnails promise.
import ImageCore

/// Runs `Thumbnailer.render` on untrusted bytes of one format and checks its results.
package enum ThumbnailHarness {
    /// Tight limits, so a header that declares a huge picture is refused before any buffer is allocated and the
    /// fuzzer cannot reach an out-of-memory by asking for one (16 MP at 8 bytes a pixel is 128 MB).
    /// Under libFuzzer the cap is 1 MP, as OSS-Fuzz's libjpeg-turbo and libwebp harnesses have it: a 64 KB input
    /// that declares 16 MP spends most of a second decoding grey under ASan, which is time not spent on new paths.
    /// The replay tool and the regression suite keep 16 MP, so the large-picture fixtures still decode there.
    #if FUZZING
        package static let limits = DecodeLimits(maxPixels: 1_048_576, maxFileBytes: 4 * 1024 * 1024)
    #else
        package static let limits = DecodeLimits(maxPixels: 16_000_000, maxFileBytes: 4 * 1024 * 1024)
    #endif

    /// Small boxes of every kind: inside and cover, JPEG and PNG, baseline and progressive, a thin one.
    package static let specs = [
        ThumbnailSpec(width: 48, height: 48),
        ThumbnailSpec(width: 32, height: 20, fit: .cover, format: .png),
        ThumbnailSpec(width: 7, height: 300, quality: 30, progressive: true),
    ]

    /// Renders the thumbnails of `bytes` when they announce `format`; other bytes are left to the other harness.
    package static func run(
        _ bytes: UnsafeRawBufferPointer, format: ImageFormat, limits: DecodeLimits = limits
    ) -> FuzzOutcome {
        run(bytes, formats: [format], limits: limits)
    }

    /// Renders the thumbnails of `bytes` when they announce one of `formats` (HEIC and AVIF share libheif, so one
    /// harness takes both); other bytes are left to the other harnesses.
    package static func run(
        _ bytes: UnsafeRawBufferPointer, formats: Set<ImageFormat>, limits: DecodeLimits = limits
    ) -> FuzzOutcome {
        guard let sniffed = ImageFormat.sniff(bytes), formats.contains(sniffed) else {
            let names = formats.map(\.rawValue).sorted().joined(separator: " or ")
            return .refused("not \(names) (left to the other harnesses)")
        }
        let probed: ImageHeader
        do {
            probed = try ImageHeader.read(from: bytes)
        } catch {
            return .refused("header: \(error)")
        }
        let render: ThumbnailRender
        do {
            render = try Thumbnailer.render(bytes, specs: specs, limits: limits)
        } catch {
            return .refused(error.description)
        }
        return check(render, probed: probed)
    }

    private static func check(_ render: ThumbnailRender, probed: ImageHeader) -> FuzzOutcome {
        guard render.header == probed else {
            return .invariantBroken("render read header \(render.header), the probe \(probed)")
        }
        guard render.thumbnails.count == specs.count else {
            return .invariantBroken("\(render.thumbnails.count) thumbnails for \(specs.count) specs")
        }
        let swaps = probed.orientation >= 5
        let upright = swaps ? (probed.height, probed.width) : (probed.width, probed.height)
        for (thumbnail, spec) in zip(render.thumbnails, specs) {
            let size = "\(thumbnail.width)x\(thumbnail.height)"
            guard thumbnail.spec == spec else { return .invariantBroken("thumbnail \(size) answers another spec") }
            guard (1...spec.width).contains(thumbnail.width), (1...spec.height).contains(thumbnail.height) else {
                return .invariantBroken("thumbnail \(size) outside its box \(spec.width)x\(spec.height)")
            }
            guard thumbnail.width <= upright.0, thumbnail.height <= upright.1 else {
                return .invariantBroken("thumbnail \(size) larger than the upright source \(upright.0)x\(upright.1)")
            }
            let planned = ThumbnailGeometry.size(
                sourceWidth: upright.0, sourceHeight: upright.1, boxWidth: spec.width, boxHeight: spec.height,
                fit: spec.fit)
            guard planned == (thumbnail.width, thumbnail.height) else {
                return .invariantBroken("thumbnail \(size), ThumbnailGeometry plans \(planned.width)x\(planned.height)")
            }
            let written: ImageHeader
            do {
                written = try thumbnail.bytes.withUnsafeBytes { bytes throws(ImageError) in
                    try ImageHeader.read(from: bytes)
                }
            } catch {
                return .invariantBroken("thumbnail \(size) cannot be read back: \(error)")
            }
            guard written.format == spec.format, written.width == thumbnail.width, written.height == thumbnail.height
            else {
                return .invariantBroken("thumbnail \(size) was written as \(written)")
            }
        }
        return .accepted("\(probed.width)x\(probed.height) orientation \(probed.orientation), shrink \(render.shrink)")
    }
}
