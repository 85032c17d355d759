// What the store holds against what the configuration makes: each original's missing thumbnails, and the files in
// thumbnails/ that no recipe in force makes (a size taken out of the configuration, an earlier quality or format).
import Foundation
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// An original of the store.
public struct StoredOriginal: Sendable, Hashable {
    /// Its content hash.
    public var hash: ContentHash
    /// Its key in the store: `originals/ab/<sha256>.jpg`.
    public var key: String
    /// Its size in bytes.
    public var bytes: Int
}

/// A file in `thumbnails/` that no recipe in force makes.
public struct LeftoverThumbnail: Sendable, Hashable {
    /// What its path says.
    public var path: ThumbnailPath
    /// Its size in bytes.
    public var bytes: Int
    /// Its path inside `thumbnails/`.
    public var relativePath: String { "\(path.sizeLabel)/\(path.hash.shard)/\(path.hash.hex)-\(path.recipe)" }
}

/// The store's thumbnails measured against the recipes in force.
public struct ThumbnailInventory: Sendable {
    /// The store.
    public let layout: StoreLayout
    /// The thumbnails every original has: one recipe per configured size, in the configured format.
    public let recipes: [ThumbnailRecipe]
    /// The recipe keys (`ThumbnailPath.recipeKey`) whose files are kept: `recipes`, and the same sizes in the other
    /// formats the HTTP API makes on request.
    public let kept: Set<String>
    private let thumbnails: StoreHandle

    /// - Parameters:
    ///   - layout: the store.
    ///   - recipes: the thumbnails every original has (`ThumbnailFunction.recipes`).
    ///   - served: every recipe whose files are kept (`ThumbnailFunction.servedRecipes`).
    public init(layout: StoreLayout, recipes: [ThumbnailRecipe], served: [ThumbnailRecipe]) {
        self.layout = layout
        self.recipes = recipes
        self.kept = Set((recipes + served).map(ThumbnailPath.recipeKey(of:)))
        thumbnails = StoreHandle(area: .thumbnails, access: .write, location: layout.thumbnails, function: "thumbnail")
    }

    /// Every original in the store, in key order (`originals/SHARD/HASH.EXT`; other names are not originals).
    public func originals() -> [StoredOriginal] {
        var found: [StoredOriginal] = []
        for shard in Self.names(in: layout.originals.path) where shard.utf8.count == 2 {
            let folder = layout.originals.path + "/" + shard
            for name in Self.names(in: folder) {
                guard let hash = ContentHash(hex: String(name.prefix(64))), hash.shard == shard,
                    name.utf8.count == 64 || name.dropFirst(64).first == "."
                else { continue }
                var status = stat()
                guard lstat(folder + "/" + name, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
                found.append(StoredOriginal(hash: hash, key: "originals/\(shard)/\(name)", bytes: Int(status.st_size)))
            }
        }
        return found
    }

    /// The recipes whose file the store does not hold for `hash`.
    public func missing(for hash: ContentHash) -> [ThumbnailRecipe] {
        recipes.filter { !thumbnails.isRegularFile($0.relativePath(for: hash)) }
    }

    /// The files in `thumbnails/` that no kept recipe makes, in path order. Files whose name picpipe did not give
    /// (`ThumbnailPath`) and temporary files are not looked at.
    public func leftovers() -> [LeftoverThumbnail] {
        var found: [LeftoverThumbnail] = []
        for label in Self.names(in: layout.thumbnails.path) {
            for shard in Self.names(in: layout.thumbnails.path + "/" + label) {
                let folder = layout.thumbnails.path + "/" + label + "/" + shard
                for name in Self.names(in: folder) {
                    guard let path = ThumbnailPath(label + "/" + shard + "/" + name), !kept.contains(path.recipeKey)
                    else { continue }
                    var status = stat()
                    guard lstat(folder + "/" + name, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
                        continue
                    }
                    found.append(LeftoverThumbnail(path: path, bytes: Int(status.st_size)))
                }
            }
        }
        return found
    }

    /// Removes a leftover; removing one already gone is no error.
    /// - Throws: `StoreError` when it cannot be removed.
    public func remove(_ leftover: LeftoverThumbnail) throws {
        // A recipe put back in force since the look: the file is served again, so it stays.
        guard !kept.contains(leftover.path.recipeKey) else { return }
        try thumbnails.remove(leftover.relativePath)
    }

    /// Removes the folders of sizes no kept recipe has once they are empty (a size taken out of the configuration);
    /// the folders of configured sizes stay, as the thumbnail function may be writing into them.
    /// - Returns: the size folders removed.
    @discardableResult
    public func removeEmptyFoldersOfOtherSizes() -> [String] {
        let labels = Set(kept.compactMap { $0.split(separator: "/").first.map(String.init) })
        var removed: [String] = []
        for label in Self.names(in: layout.thumbnails.path) where !labels.contains(label) {
            let folder = layout.thumbnails.path + "/" + label
            guard Folder.isFolder(folder) else { continue }
            for shard in Self.names(in: folder) { rmdir(folder + "/" + shard) }
            if rmdir(folder) == 0 { removed.append(label) }
        }
        return removed
    }

    /// A folder's names, sorted, without hidden ones (temporary files); empty when it cannot be read.
    private static func names(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }
}
