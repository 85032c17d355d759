// A thumbnail recipe and the derivative name it gives: source hash + recipe, so a changed preset never serves a stale file.
import ImageCore
import PipelineCore

/// How to make one thumbnail: box size, fit, format, quality, background, colour rule. The name of the file it
/// makes depends on the source's hash and on every field here.
public struct ThumbnailRecipe: Sendable, Hashable, Codable {
    /// The ImageCore rendering settings.
    public var spec: ThumbnailSpec

    /// - Parameter spec: the rendering settings.
    public init(spec: ThumbnailSpec) { self.spec = spec }

    /// A square box of `size` with the other settings.
    public init(
        size: Int, fit: FitMode = .inside, format: ImageFormat = .jpeg, quality: Int = 82, progressive: Bool = false,
        background: RGBColor = .white, color: ColorMode = .srgb, lossless: Bool = false, speed: Int = 6
    ) {
        self.spec = ThumbnailSpec(
            width: size, height: size, fit: fit, format: format, quality: quality, progressive: progressive,
            background: background, color: color, lossless: lossless, speed: speed)
    }

    /// The folder under `thumbnails/`: `256` for a square box, `320x200` otherwise.
    public var sizeLabel: String {
        spec.width == spec.height ? "\(spec.width)" : "\(spec.width)x\(spec.height)"
    }

    /// The recipe part of the file name, e.g. `inside-q82-srgb`, `cover-q90p-bg000000-keep` (JPEG),
    /// `inside-q85-srgb` or `inside-lossless-srgb` (WebP), `inside-q70-s6-srgb` (AVIF: quality and speed),
    /// readable and unique per recipe (the format is the extension). The colour rule is always there, so
    /// thumbnails made before colour management (named without it, and unconverted) are never served for the
    /// converted ones.
    public var recipeTag: String {
        var tag = spec.fit.rawValue
        switch spec.format {
        case .jpeg:
            tag += "-q\(spec.quality)"
            if spec.progressive { tag += "p" }
            if spec.background != .white { tag += "-bg\(spec.background.hex)" }
        case .webp:
            tag += spec.lossless ? "-lossless" : "-q\(spec.quality)"
        case .avif:
            tag += "-q\(spec.quality)-s\(spec.speed)"
        case .png, .gif, .heic:
            break
        }
        return tag + "-" + spec.color.rawValue
    }

    /// The same thumbnail in another format, at that format's settings (`quality`, `lossless`, `speed`).
    public func inFormat(_ format: ImageFormat, quality: Int, lossless: Bool = false, speed: Int = 6)
        -> ThumbnailRecipe
    {
        var recipe = self
        recipe.spec.format = format
        recipe.spec.quality = quality
        recipe.spec.lossless = lossless
        recipe.spec.speed = speed
        return recipe
    }

    /// The derivative's path inside `thumbnails/`: `256/ab/<hash>-inside-q82-srgb.jpg`.
    public func relativePath(for hash: ContentHash) -> String {
        "\(sizeLabel)/\(hash.shard)/\(hash.hex)-\(recipeTag).\(spec.format.fileExtension)"
    }

    /// Checks the settings can be applied.
    public func validate() throws {
        guard spec.width > 0, spec.height > 0, spec.width <= 16384, spec.height <= 16384 else {
            throw ImageError.invalidRequest("thumbnail size \(spec.width)x\(spec.height) must be 1 to 16384 pixels")
        }
        guard (1...100).contains(spec.quality) else {
            throw ImageError.invalidRequest("quality \(spec.quality) must be 1 to 100")
        }
        guard spec.format.isWritable else {
            throw ImageError.invalidRequest("picpipe does not write \(spec.format.displayName) thumbnails")
        }
        guard (0...9).contains(spec.speed) else {
            throw ImageError.invalidRequest("AVIF speed \(spec.speed) must be 0 to 9")
        }
    }
}
