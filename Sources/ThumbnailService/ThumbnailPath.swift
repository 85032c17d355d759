// A path inside thumbnails/ read back into what named it: the size folder, the content's hash and the recipe part.
import PipelineCore

/// A derivative's path, `256/ab/<sha256>-inside-q82-srgb.jpg`, read back: size folder `256`, the content's hash and
/// the recipe part `inside-q82-srgb.jpg` (`ThumbnailRecipe.recipeTag` and the format's extension). Every content's
/// file of one recipe shares `sizeLabel/recipe`, its `recipeKey`.
public struct ThumbnailPath: Sendable, Hashable {
    /// The size folder: `256`, `320x200`.
    public var sizeLabel: String
    /// The content the file was made from.
    public var hash: ContentHash
    /// The recipe part of the name with its extension: `inside-q82-srgb.jpg`.
    public var recipe: String

    /// Reads `LABEL/SHARD/HASH-RECIPE.EXT`; `nil` for any other path (a file picpipe did not name).
    public init?(_ path: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, let key = Self.recipeKey(ofPath: path),
            let hash = ContentHash(hex: String(parts[2].prefix(64))), parts[1] == hash.shard
        else { return nil }
        sizeLabel = String(parts[0])
        self.hash = hash
        recipe = String(key.dropFirst(sizeLabel.utf8.count + 1))
    }

    /// `sizeLabel/recipe`: the same for every content's file of one recipe.
    public var recipeKey: String { sizeLabel + "/" + recipe }

    /// The recipe key of the files `recipe` makes: `256/inside-q82-srgb.jpg`.
    public static func recipeKey(of recipe: ThumbnailRecipe) -> String {
        recipe.sizeLabel + "/" + recipe.recipeTag + "." + recipe.spec.format.fileExtension
    }

    /// The recipe key of a path, read without checking the hash (for a look-up on every request): the first
    /// component and what follows `HASH-` in the last; `nil` when the last is not 64 characters, `-` and more.
    public static func recipeKey(ofPath path: String) -> String? {
        guard let firstSlash = path.utf8.firstIndex(of: UInt8(ascii: "/")),
            let lastSlash = path.utf8.lastIndex(of: UInt8(ascii: "/")), firstSlash != lastSlash
        else { return nil }
        let name = path[path.utf8.index(after: lastSlash)...]
        guard name.utf8.count > 65 else { return nil }
        let dash = name.utf8.index(name.startIndex, offsetBy: 64)
        guard name.utf8[dash] == UInt8(ascii: "-") else { return nil }
        let label = path[..<firstSlash]
        return label.isEmpty ? nil : label + "/" + name[name.utf8.index(after: dash)...]
    }
}
