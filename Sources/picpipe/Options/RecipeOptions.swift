// The thumbnail recipe options shared by `thumbnail` and `batch`: each one overrides the configuration.
import ArgumentParser
import ImageCore
import PipelineCore
import ThumbnailService

extension FitMode: ExpressibleByArgument {}
extension ImageFormat: ExpressibleByArgument {
    /// The values `--format`'s help lists: those written (until session 27 it listed gif and heic too, then refused
    /// them). GIF and HEIC are still parsed, so that `checkWritable` can say why they are refused.
    public static var allValueStrings: [String] { writable.map(\.rawValue) }
}
extension ColorMode: ExpressibleByArgument {}

/// `--fit`, `--format`, `--quality`, `--progressive`, `--lossless`, `--speed`, `--background`, `--color`,
/// `--max-pixels`, `--max-file-bytes`.
/// Options not given keep the configured values (`picpipe config` shows them).
struct RecipeOptions: ParsableArguments {
    @Option(
        help:
            "How the picture fills the box: inside (keep aspect, never upscale) or cover (fill, centre crop). Default: inside."
    )
    var fit: FitMode?

    @Option(help: "Output format: jpeg, png, webp or avif (default: the configured thumbnails.format, jpeg).")
    var format: ImageFormat?

    @Option(
        help: "Quality of the format written, 1-100 (defaults: JPEG 82, WebP 85, AVIF 70: the same SSIM); not for PNG.")
    var quality: Int?

    @Flag(help: "Write progressive JPEGs.")
    var progressive = false

    @Flag(help: "Write lossless WebP (with --format webp).")
    var lossless = false

    @Option(help: "AVIF encoder speed, 0 (slowest, smallest) to 9 (fastest) (default: 6).")
    var speed: Int?

    @Option(help: "Background for flattening alpha in JPEG output, as hex RRGGBB (default: ffffff).")
    var background: String?

    @Option(help: "Tagged pictures (ICC, Adobe RGB): srgb (convert to sRGB) or keep (embed the profile). Default srgb.")
    var color: ColorMode?

    @Option(help: "Refuse images with more pixels than this (decompression bombs; default: 100000000).")
    var maxPixels: Int?

    @Option(help: "Refuse files larger than this many bytes (default: 268435456).")
    var maxFileBytes: Int?

    func validate() throws {
        if let format { try Self.checkWritable(format, given: "--format \(format.rawValue)") }
        if let speed, !(0...9).contains(speed) { throw ValidationError("--speed must be 0 to 9, not \(speed)") }
        if let quality, !(1...100).contains(quality) {
            throw ValidationError("--quality must be 1 to 100, not \(quality)")
        }
        if let background, RGBColor(hex: background) == nil {
            throw ValidationError("--background must be a hex colour like ffffff, not '\(background)'")
        }
        if let maxPixels, maxPixels <= 0 { throw ValidationError("--max-pixels must be positive") }
        if let maxFileBytes, maxFileBytes <= 0 { throw ValidationError("--max-file-bytes must be positive") }
    }

    /// `--max-pixels` when it set the pixel limit, for a refusal's message (`ThumbnailFunction.explain`).
    var pixelLimitSource: String? { maxPixels == nil ? nil : "--max-pixels" }

    /// Refuses options that do nothing for the format written (until session 27 they were ignored without a word):
    /// `--lossless` is WebP's, `--speed` AVIF's, `--progressive` JPEG's, `--background` JPEG's (the colour alpha is
    /// flattened onto: PNG, WebP and AVIF keep alpha), and `--quality` the main format's when it has one (JPEG,
    /// lossy WebP, AVIF; with `--format png` it is JPEG's setting, so it counts when `--also-formats` writes JPEG).
    /// - Parameters:
    ///   - format: the format the thumbnails are written in (the configured one when none is given).
    ///   - also: the formats written besides (batch's `--also-formats`).
    func checkApplies(to format: String, also: [ImageFormat] = []) throws {
        let written = Set([format] + also.map(\.rawValue))
        let names = ([ImageFormat(rawValue: format)?.displayName ?? format] + also.map(\.displayName))
            .joined(separator: ", ")
        if lossless && !written.contains(ImageFormat.webp.rawValue) {
            throw ValidationError("--lossless applies to WebP output only, and the thumbnails are written as \(names)")
        }
        if speed != nil && !written.contains(ImageFormat.avif.rawValue) {
            throw ValidationError("--speed applies to AVIF output only, and the thumbnails are written as \(names)")
        }
        // (until session 28 --progressive was taken without a word for PNG, WebP and AVIF output)
        if progressive && !written.contains(ImageFormat.jpeg.rawValue) {
            throw ValidationError(
                "--progressive applies to JPEG output only, and the thumbnails are written as \(names)")
        }
        // (until session 31 --background and --quality were taken without a word for PNG output, --background for
        // WebP and AVIF too)
        if background != nil && !written.contains(ImageFormat.jpeg.rawValue) {
            throw ValidationError(
                "--background applies to JPEG output only (the colour transparent pixels are flattened onto; PNG, "
                    + "WebP and AVIF keep transparency), and the thumbnails are written as \(names)")
        }
        if quality != nil {
            // Where `applied(to:)` puts it: the main format's setting, JPEG's for PNG.
            let takesIt: Bool
            switch ImageFormat(rawValue: format) {
            case .webp: takesIt = !lossless
            case .png: takesIt = also.contains(.jpeg)
            default: takesIt = true
            }
            guard takesIt else {
                let shown =
                    format == ImageFormat.webp.rawValue
                    ? (["lossless WebP"] + also.map(\.displayName)).joined(separator: ", ") : names
                throw ValidationError(
                    "--quality applies to JPEG, lossy WebP and AVIF output, and the thumbnails are written as \(shown)"
                        + (also.isEmpty ? "" : " (--quality sets --format's; --also-formats take the configured one)"))
            }
        }
    }

    /// The configuration with these options applied over it.
    func applied(to configuration: PicpipeConfiguration, defaultFormat: ImageFormat? = nil) -> PicpipeConfiguration {
        var result = configuration
        if let fit { result.thumbnails.fit = fit.rawValue }
        if let format = format ?? defaultFormat { result.thumbnails.format = format.rawValue }
        if let quality { result.thumbnails.setQuality(quality, for: result.thumbnails.format) }
        if progressive { result.thumbnails.progressive = true }
        if lossless { result.thumbnails.webpLossless = true }
        if let speed { result.thumbnails.avifSpeed = speed }
        if let background { result.thumbnails.background = background }
        if let color { result.thumbnails.color = color.rawValue }
        if let maxPixels { result.limits.maxPixels = maxPixels }
        if let maxFileBytes {
            result.limits.maxFileBytes = maxFileBytes
            IngestError.fileBytesSource.withLock { $0 = "--max-file-bytes" }
        }
        return result
    }

    /// Refuses a format picpipe reads but cannot write (GIF, HEIC), listing those it writes.
    static func checkWritable(_ format: ImageFormat, given: String) throws {
        guard !format.isWritable else { return }
        throw ValidationError(
            "\(given): picpipe reads \(format.displayName) but cannot write it; it writes "
                + ImageFormat.writable.map { "\($0.rawValue) (.\($0.fileExtension))" }.joined(separator: ", "))
    }
}
