// The configured thumbnail sizes, where each derivative lives, and making a missing one on request.
import Foundation
import PipelineCore
import Synchronization
import ThumbnailService

/// Thumbnails by size label (`256`, `320x200`), from the configured recipes; `replace` swaps them on a
/// configuration reload.
final class ThumbnailCatalog: Sendable {
    private struct Sizes {
        var recipes: [String: ThumbnailRecipe]
        var labels: [String]

        init(_ recipes: [ThumbnailRecipe]) {
            var byLabel: [String: ThumbnailRecipe] = [:]
            var labels: [String] = []
            for recipe in recipes where byLabel[recipe.sizeLabel] == nil {
                byLabel[recipe.sizeLabel] = recipe
                labels.append(recipe.sizeLabel)
            }
            self.recipes = byLabel
            self.labels = labels
        }
    }

    private let sizes: Mutex<Sizes>
    /// The recipes by size label.
    var recipes: [String: ThumbnailRecipe] { sizes.withLock { $0.recipes } }
    /// The size labels, in configuration order.
    var labels: [String] { sizes.withLock { $0.labels } }
    /// `STORE/thumbnails` as a path, so a file path is one concatenation.
    let root: String
    let runtime: FunctionRuntime
    private let inFlight = InFlightGenerations()

    init(recipes: [ThumbnailRecipe], root: String, runtime: FunctionRuntime) {
        self.sizes = Mutex(Sizes(recipes))
        self.root = root
        self.runtime = runtime
    }

    /// Serves these recipes from now on (a configuration reload).
    func replace(_ recipes: [ThumbnailRecipe]) {
        sizes.withLock { $0 = Sizes(recipes) }
    }

    /// The recipe for a size label, or 404.
    func recipe(_ label: String?) throws -> ThumbnailRecipe {
        let sizes = self.sizes.withLock { $0 }
        guard let label, let recipe = sizes.recipes[label] else {
            throw APIError.unknownSize(label ?? "", configured: sizes.labels)
        }
        return recipe
    }

    /// The file of a thumbnail; the path comes from the hash and the recipe only.
    func file(_ recipe: ThumbnailRecipe, hash: ContentHash, immutable: Bool, protected: Bool) -> StoredFile {
        StoredFile(
            path: root + "/" + recipe.relativePath(for: hash), contentType: recipe.spec.format.mediaType,
            eTag: "\"\(hash.hex)-\(recipe.sizeLabel)-\(recipe.recipeTag)\"",
            cacheControl: CachePolicy.forFile(immutable: immutable, protected: protected))
    }

    /// Runs the thumbnail function now (RequestResponse) for an original; concurrent requests for the same
    /// original wait for one run.
    /// - Throws: 422 when the function could not make thumbnails from the original.
    func generate(_ image: ResolvedImage) async throws {
        let record = S3EventRecord(
            name: .objectCreatedPut, bucket: runtime.layout.root.lastPathComponent, key: "originals/" + image.originalPath,
            size: 0, eTag: image.hash.hex, sequence: 0, sourceName: image.id.value)
        let runtime = self.runtime
        let task = inFlight.task(for: image.hash) {
            try await runtime.invoke(function: "thumbnail", record: record, type: .requestResponse)
        }
        let response = try await task.value
        if response.failed {
            var reason = "the thumbnail function failed"
            if case .object(let payload)? = response.payload, case .string(let message)? = payload["errorMessage"] {
                reason = message
            }
            throw APIError.unprocessableImage(reason)
        }
    }
}

/// One thumbnail generation per original at a time.
final class InFlightGenerations: Sendable {
    private let tasks = Mutex<[ContentHash: Task<InvocationResponse, any Error>]>([:])

    /// The running generation for `hash`, or a new one started with `work`.
    func task(
        for hash: ContentHash, _ work: @escaping @Sendable () async throws -> InvocationResponse
    ) -> Task<InvocationResponse, any Error> {
        tasks.withLock { tasks in
            if let running = tasks[hash] { return running }
            let task = Task {
                defer { self.finish(hash) }
                return try await work()
            }
            tasks[hash] = task
            return task
        }
    }

    private func finish(_ hash: ContentHash) { _ = tasks.withLock { $0.removeValue(forKey: hash) } }
}
