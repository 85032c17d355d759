// The thumbnail service's work: one decode of an original serves every missing recipe, each written atomically.
import Foundation
import ImageCore
import PipelineCore

/// What one generation did.
public struct ThumbnailOutcome: Sendable {
    /// One entry per recipe, in order.
    public var thumbnails: [Entry]
    /// The shrink-on-load factor used: the DCT denominator for JPEG, the streaming box factor for PNG (1 when
    /// nothing was decoded).
    public var shrink: Int
    /// The original's header, when it was decoded.
    public var header: ImageHeader?
    /// The description of the original's RGB or gray colour profile ("Adobe RGB (1998)"), when it was decoded and
    /// carries one.
    public var colorProfile: String? = nil

    /// A thumbnail of the outcome.
    public struct Entry: Sendable {
        /// Its recipe.
        public var recipe: ThumbnailRecipe
        /// Its path inside `thumbnails/`.
        public var relativePath: String
        /// Whether it was made now (false: it was already in the store).
        public var created: Bool
        /// Its pixel size, when made now.
        public var width: Int?
        public var height: Int?
        /// Its size in bytes, when made now.
        public var bytes: Int?
    }

    /// How many thumbnails were made now.
    public var createdCount: Int { thumbnails.filter(\.created).count }
}

/// The thumbnails of an original that are not in the store yet, rendered and not yet written: the CPU's part of a
/// generation, so a caller can have the disk's part (`write(into:)`) done elsewhere.
public struct RenderedThumbnails: Sendable {
    /// The content hash naming the derivatives.
    let hash: ContentHash
    /// One entry per recipe, in order; `created` is set by `write(into:)`.
    var entries: [ThumbnailOutcome.Entry]
    /// The recipes rendered now, with their thumbnails.
    var made: [(recipe: ThumbnailRecipe, thumbnail: RenderedThumbnail)]
    /// As in `ThumbnailOutcome`.
    var shrink: Int
    var header: ImageHeader?
    var colorProfile: String?

    /// Writes each rendered thumbnail atomically through `thumbnails`.
    /// - Throws: `StoreError` for write failures.
    public func write(into thumbnails: StoreHandle) throws -> ThumbnailOutcome {
        var entries = self.entries
        for (recipe, thumbnail) in made {
            let path = recipe.relativePath(for: hash)
            try thumbnails.write(thumbnail.bytes, to: path)
            if let index = entries.firstIndex(where: { $0.recipe == recipe }) {
                entries[index].created = true
                entries[index].width = thumbnail.width
                entries[index].height = thumbnail.height
                entries[index].bytes = thumbnail.bytes.count
            }
        }
        return ThumbnailOutcome(thumbnails: entries, shrink: shrink, header: header, colorProfile: colorProfile)
    }
}

/// Makes the thumbnails of an original that are not in the store yet.
public enum ThumbnailGenerator {
    /// Renders the missing recipes from `original` and writes them through `thumbnails`.
    /// - Parameters:
    ///   - original: the original's bytes.
    ///   - hash: its content hash (names the derivatives).
    ///   - recipes: the recipes to have.
    ///   - limits: decode limits (pixels, bytes).
    ///   - thumbnails: a writable handle on the `thumbnails` area.
    ///   - force: render even recipes whose file exists.
    ///   - overlap: resize the largest thumbnail on a spare core while decoding (`Thumbnailer.render(overlap:)`).
    /// - Throws: `ImageError` for an undecodable original, `StoreError` for write failures.
    public static func generate(
        original: UnsafeRawBufferPointer, hash: ContentHash, recipes: [ThumbnailRecipe], limits: DecodeLimits,
        into thumbnails: StoreHandle, force: Bool = false, overlap: Bool = false
    ) throws -> ThumbnailOutcome {
        try render(
            original: original, hash: hash, recipes: recipes, limits: limits, missingFrom: thumbnails, force: force,
            overlap: overlap
        ).write(into: thumbnails)
    }

    /// Renders the recipes whose file `thumbnails` does not hold (all of them with `force`), writing nothing.
    /// - Throws: `ImageError` for an undecodable original; `StoreError.accessDenied` for a read-only handle.
    public static func render(
        original: UnsafeRawBufferPointer, hash: ContentHash, recipes: [ThumbnailRecipe], limits: DecodeLimits,
        missingFrom thumbnails: StoreHandle, force: Bool = false, overlap: Bool = false
    ) throws -> RenderedThumbnails {
        try thumbnails.requireWrite()
        let missing = recipes.filter { force || !thumbnails.exists($0.relativePath(for: hash)) }
        let entries = recipes.map {
            ThumbnailOutcome.Entry(recipe: $0, relativePath: $0.relativePath(for: hash), created: false)
        }
        guard !missing.isEmpty else {
            return RenderedThumbnails(hash: hash, entries: entries, made: [], shrink: 1, header: nil, colorProfile: nil)
        }
        let render = try Thumbnailer.render(original, specs: missing.map(\.spec), limits: limits, overlap: overlap)
        let profile = render.colorProfile.map { $0.name.isEmpty ? "unnamed \($0.space.rawValue) profile" : $0.name }
        return RenderedThumbnails(
            hash: hash, entries: entries,
            made: Array(zip(missing, render.thumbnails)).map { (recipe: $0, thumbnail: $1) },
            shrink: render.shrink, header: render.header, colorProfile: profile)
    }

    /// Removes every derivative of `hash`, whatever recipe made it (an `ObjectRemoved` clean-up).
    /// - Returns: the removed paths inside `thumbnails/`.
    @discardableResult
    public static func removeAll(hash: ContentHash, from thumbnails: StoreHandle) throws -> [String] {
        let found = try files(of: hash, in: thumbnails)
        for file in found { try thumbnails.remove(file) }
        return found
    }

    /// Every thumbnail of a content, in any size and format (`LABEL/SHARD/HASH-…`), sorted.
    public static func files(of hash: ContentHash, in thumbnails: StoreHandle) throws -> [String] {
        var found: [String] = []
        for label in try thumbnails.list() where !label.hasPrefix(".") {
            let folder = "\(label)/\(hash.shard)"
            for name in try thumbnails.list(folder) where name.hasPrefix(hash.hex + "-") {
                found.append("\(folder)/\(name)")
            }
        }
        return found.sorted()
    }
}
