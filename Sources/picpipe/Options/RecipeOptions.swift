// The thumbnail recipe options shared by `thumbnail` and `batch`: each one overrides the configuration.
import ArgumentParser
import ImageCore
import PipelineCore
import ThumbnailService

extension FitMode: ExpressibleByArgument {}
extension ImageFormat: ExpressibleByArgument {}
extension ColorMode: ExpressibleByArgument {}

/// `--fit`, `--format`, `--quality`, `--progressive`, `--background`, `--color`, `--max-pixels`, `--max-file-bytes`.
/// Options not given keep the configured values (`picpipe config` shows them).
struct RecipeOptions: ParsableArguments {
    @Option(help: "How the picture fills the box: inside (keep aspect, never upscale) or cover (fill, centre crop). Default: inside.")
    var fit: FitMode?

    @Option(help: "Output format: jpeg or png (default: the configured thumbnails.format, jpeg).")
    var format: ImageFormat?

    @Option(help: "JPEG quality, 1-100 (default: 82).")
    var quality: Int?

    @Flag(help: "Write progressive JPEGs.")
    var progressive = false

    @Option(help: "Background for flattening alpha in JPEG output, as hex RRGGBB (default: ffffff).")
    var background: String?

    @Option(help: "Tagged pictures (ICC, Adobe RGB): srgb (convert to sRGB) or keep (embed the profile). Default srgb.")
    var color: ColorMode?

    @Option(help: "Refuse images with more pixels than this (decompression bombs; default: 100000000).")
    var maxPixels: Int?

    @Option(help: "Refuse files larger than this many bytes (default: 268435456).")
    var maxFileBytes: Int?

    func validate() throws {
        if let quality, !(1...100).contains(quality) {
            throw ValidationError("--quality must be 1 to 100, not \(quality)")
        }
        if let background, RGBColor(hex: background) == nil {
            throw ValidationError("--background must be a hex colour like ffffff, not '\(background)'")
        }
        if let maxPixels, maxPixels <= 0 { throw ValidationError("--max-pixels must be positive") }
        if let maxFileBytes, maxFileBytes <= 0 { throw ValidationError("--max-file-bytes must be positive") }
    }

    /// The configuration with these options applied over it.
    func applied(to configuration: PicpipeConfiguration, defaultFormat: ImageFormat? = nil) -> PicpipeConfiguration {
        var result = configuration
        if let fit { result.thumbnails.fit = fit.rawValue }
        if let format = format ?? defaultFormat { result.thumbnails.format = format.rawValue }
        if let quality { result.thumbnails.quality = quality }
        if progressive { result.thumbnails.progressive = true }
        if let background { result.thumbnails.background = background }
        if let color { result.thumbnails.color = color.rawValue }
        if let maxPixels { result.limits.maxPixels = maxPixels }
        if let maxFileBytes { result.limits.maxFileBytes = maxFileBytes }
        return result
    }
}
