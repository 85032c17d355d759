// The thumbnail recipe options shared by `thumbnail` and `batch`.
import ArgumentParser
import ImageCore
import ThumbnailService

extension FitMode: ExpressibleByArgument {}
extension ImageFormat: ExpressibleByArgument {}

/// `--fit`, `--format`, `--quality`, `--progressive`, `--background`.
struct RecipeOptions: ParsableArguments {
    @Option(help: "How the picture fills the box: inside (keep aspect, never upscale) or cover (fill, centre crop).")
    var fit: FitMode = .inside

    @Option(help: "Output format: jpeg or png (default: jpeg; `thumbnail` follows the output's extension).")
    var format: ImageFormat?

    @Option(help: "JPEG quality, 1-100.")
    var quality: Int = 82

    @Flag(help: "Write progressive JPEGs.")
    var progressive = false

    @Option(help: "Background for flattening alpha in JPEG output, as hex RRGGBB.")
    var background: String = "ffffff"

    @Option(help: "Refuse images with more pixels than this (decompression bombs).")
    var maxPixels: Int = DecodeLimits.default.maxPixels

    @Option(help: "Refuse files larger than this many bytes.")
    var maxFileBytes: Int = DecodeLimits.default.maxFileBytes

    func validate() throws {
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1 to 100, not \(quality)") }
        guard RGBColor(hex: background) != nil else {
            throw ValidationError("--background must be a hex colour like ffffff, not '\(background)'")
        }
        guard maxPixels > 0, maxFileBytes > 0 else { throw ValidationError("limits must be positive") }
    }

    /// A recipe for a box of `width` x `height`.
    func recipe(width: Int, height: Int, defaultFormat: ImageFormat = .jpeg) -> ThumbnailRecipe {
        ThumbnailRecipe(
            spec: ThumbnailSpec(
                width: width, height: height, fit: fit, format: format ?? defaultFormat, quality: quality, progressive: progressive,
                background: RGBColor(hex: background) ?? .white))
    }

    /// The decode limits.
    var limits: DecodeLimits { DecodeLimits(maxPixels: maxPixels, maxFileBytes: maxFileBytes) }
}
