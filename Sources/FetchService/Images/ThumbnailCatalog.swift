// The configured thumbnail sizes, where each derivative lives, and making a missing one on request.
import Foundation
import ImageCore
import Locking
import PipelineCore
import Synchronization
import ThumbnailService

/// Thumbnails by size label (`256`, `320x200`), from the configured recipes, each also in the other formats the
/// API negotiates; `replace` swaps them on a configuration reload.
final class ThumbnailCatalog: Sendable {
    private struct Sizes {
        /// The configured recipe of each size (the first given for its label).
        var recipes: [String: ThumbnailRecipe]
        /// The same sizes in other formats (the later recipes given for a label).
        var variants: [String: [ImageFormat: ThumbnailRecipe]]
        var labels: [String]
        /// The recipe keys (`ThumbnailPath.recipeKey`) of the files these recipes make: what is served.
        var served: Set<String>
        /// Since when each label has been served by these recipes (seconds since 1970; `ThumbnailRecipeDates`).
        var since: [String: Int] = [:]

        /// Each label's recipes as one string: the configured one's format and tag, then each variant's by format.
        var fingerprints: [String: String] {
            var all: [String: String] = [:]
            for (label, primary) in recipes {
                let others = (variants[label] ?? [:]).sorted { $0.key.rawValue < $1.key.rawValue }.map(\.value)
                all[label] = ([primary] + others).map { "\($0.spec.format.rawValue):\($0.recipeTag)" }
                    .joined(separator: ",")
            }
            return all
        }

        init(_ recipes: [ThumbnailRecipe]) {
            var byLabel: [String: ThumbnailRecipe] = [:]
            var variants: [String: [ImageFormat: ThumbnailRecipe]] = [:]
            var labels: [String] = []
            for recipe in recipes {
                let label = recipe.sizeLabel
                if let primary = byLabel[label] {
                    if recipe.spec.format != primary.spec.format, variants[label]?[recipe.spec.format] == nil {
                        variants[label, default: [:]][recipe.spec.format] = recipe
                    }
                } else {
                    byLabel[label] = recipe
                    labels.append(label)
                }
            }
            self.recipes = byLabel
            self.variants = variants
            self.labels = labels
            served = Set(byLabel.values.map(ThumbnailPath.recipeKey(of:)))
            for recipe in variants.values.flatMap(\.values) { served.insert(ThumbnailPath.recipeKey(of: recipe)) }
        }
    }

    private let sizes: Locked<Sizes>
    /// When each size's recipes took effect, as the store keeps it.
    private let dates: Locked<ThumbnailRecipeDates>
    private let replacements = Atomic<UInt64>(0)
    /// How many times the recipes were replaced.
    var revision: UInt64 { replacements.load(ordering: .acquiring) }
    /// The configured recipes by size label.
    var recipes: [String: ThumbnailRecipe] { sizes.withLock { $0.recipes } }
    /// The size labels, in configuration order.
    var labels: [String] { sizes.withLock { $0.labels } }
    /// `STORE/thumbnails` as a path, so a file path is one concatenation.
    let root: String
    let runtime: FunctionRuntime
    /// The Cache-Control of thumbnails (`http.thumbnail_max_age`).
    let cachePolicy: ThumbnailCachePolicy
    private let inFlight = InFlightGenerations()

    init(recipes: [ThumbnailRecipe], root: String, runtime: FunctionRuntime, maxAge: Int) {
        var dates = ThumbnailRecipeDates(layout: runtime.layout)
        var sizes = Sizes(recipes)
        sizes.since = dates.update(sizes.fingerprints)
        self.sizes = Locked(sizes)
        self.dates = Locked(dates)
        self.root = root
        self.runtime = runtime
        self.cachePolicy = ThumbnailCachePolicy(maxAge: maxAge)
    }

    /// Serves these recipes from now on (a configuration reload); a size whose recipes changed is dated now.
    func replace(_ recipes: [ThumbnailRecipe], now: Date = Date()) {
        var next = Sizes(recipes)
        next.since = dates.withLock { $0.update(next.fingerprints, now: now) }
        sizes.withLock { sizes in
            sizes = next
            replacements.wrappingAdd(1, ordering: .releasing)
        }
    }

    /// Whether a path inside `thumbnails/` is a file of a recipe served now (a size configured, in its recipe or one
    /// of its formats): files of sizes taken out of the configuration, or of an earlier quality or format, stay on
    /// disk until `picpipe thumbnails --prune` but are served by no front door.
    func serves(path: String) -> Bool {
        guard let key = ThumbnailPath.recipeKey(ofPath: path) else { return false }
        return sizes.withLock { $0.served.contains(key) }
    }

    /// The recipe for a size label, or 404.
    func recipe(_ label: String?) throws -> ThumbnailRecipe {
        let sizes = self.sizes.withLock { $0 }
        guard let label, let recipe = sizes.recipes[label] else {
            throw APIError.unknownSize(label ?? "", configured: sizes.labels)
        }
        return recipe
    }

    /// The recipe for a size label in the format `?format=` forces, or chosen from `Accept` when `negotiate` (else
    /// the configured one); 404 for an unknown size, 400 for a format the size is not offered in.
    func recipe(_ label: String?, forced: ImageFormat?, accept: String?, negotiate: Bool) throws -> ThumbnailRecipe {
        let sizes = self.sizes.withLock { $0 }
        guard let label, let primary = sizes.recipes[label] else {
            throw APIError.unknownSize(label ?? "", configured: sizes.labels)
        }
        return try Self.pick(
            primary, variants: sizes.variants[label] ?? [:], forced: forced, accept: accept, negotiate: negotiate)
    }

    /// The recipe of a size already found, by the same rules (the cached fast path's look-up: no throwing
    /// look-up of the label).
    func recipe(cachedLabel label: String, accept: String?, negotiate: Bool) -> ThumbnailRecipe? {
        let sizes = self.sizes.withLock { $0 }
        guard let primary = sizes.recipes[label] else { return nil }
        return try? Self.pick(
            primary, variants: sizes.variants[label] ?? [:], forced: nil, accept: accept, negotiate: negotiate)
    }

    private static func pick(
        _ primary: ThumbnailRecipe, variants: [ImageFormat: ThumbnailRecipe], forced: ImageFormat?, accept: String?,
        negotiate: Bool
    ) throws -> ThumbnailRecipe {
        let format: ImageFormat
        if let forced {
            format = forced
        } else if negotiate {
            format = FormatNegotiation.choose(
                accept: accept, available: Set(variants.keys), fallback: primary.spec.format)
        } else {
            return primary
        }
        if format == primary.spec.format { return primary }
        guard let variant = variants[format] else {
            throw APIError.badRequest(
                "thumbnails of size \(primary.sizeLabel) are made in "
                    + ([primary.spec.format] + variants.keys.sorted { $0.rawValue < $1.rawValue }).map(\.rawValue)
                    .joined(separator: ", "))
        }
        return variant
    }

    /// The file of a thumbnail; the path comes from the hash and the recipe only. Each format has its own ETag
    /// (JPEG and PNG keep the tag they always had), and the ETag names the recipe.
    /// - Parameter contentAddressed: the id is the hash (cached `http.thumbnail_max_age`, else revalidated).
    func file(_ recipe: ThumbnailRecipe, hash: ContentHash, contentAddressed: Bool, protected: Bool) -> StoredFile {
        let format = recipe.spec.format
        let suffix = format == .jpeg || format == .png ? "" : "." + format.fileExtension
        return StoredFile(
            path: root + "/" + recipe.relativePath(for: hash), contentType: format.mediaType,
            eTag: "\"\(hash.hex)-\(recipe.sizeLabel)-\(recipe.recipeTag)\(suffix)\"",
            cacheControl: cachePolicy.value(contentAddressed: contentAddressed, protected: protected),
            modifiedFloor: sizes.withLock { $0.since[recipe.sizeLabel] } ?? 0)
    }

    /// Runs the thumbnail function now (RequestResponse) for an original; concurrent requests for the same
    /// original and format wait for one run. A format other than the configured one is asked for with the
    /// record's `configurationId` (`ThumbnailFunction.variantsConfigurationID`), so only it is made besides the
    /// configured sizes.
    /// - Throws: 422 when the function could not make thumbnails from the original, 503 `function_timeout` when it
    ///   ran past its timeout, 404 when it found none.
    func generate(_ image: ResolvedImage, recipe: ThumbnailRecipe? = nil) async throws {
        var record = S3EventRecord(
            name: .objectCreatedPut, bucket: runtime.layout.root.lastPathComponent,
            key: "originals/" + image.originalPath,
            size: 0, eTag: image.hash.hex, sequence: 0, sourceName: image.id.value)
        if let recipe, recipe != self.recipes[recipe.sizeLabel] {
            record.s3.configurationId = ThumbnailFunction.variantsConfigurationID(for: recipe.spec.format)
        }
        let runtime = self.runtime
        let event = record
        let task = inFlight.task(for: GenerationKey(hash: image.hash, configurationId: event.s3.configurationId)) {
            // A read, not an upload: journaled as one (S3 notifies no read; until session 32 each such GET was a new
            // `ObjectCreated:Put` of size 0 in `events` and on `/events/stream`).
            try await runtime.invoke(
                function: "thumbnail", record: event, type: .requestResponse,
                options: InvocationOptions(journaledAs: .thumbnailRequested))
        }
        let response = try await task.value
        if case .object(let payload)? = response.payload,
            payload["skipped"] != nil || payload["errorType"] == .string("NoSuchKey")
        {
            // The function found no original (removed behind the server's back, before the call: `NoSuchKey`, or
            // while it ran: skipped): the picture is gone.
            throw APIError.imageNotFound(image.id.value)
        }
        if response.failed {
            var reason = "the thumbnail function failed"
            if case .object(let payload)? = response.payload, case .string(let message)? = payload["errorMessage"] {
                reason = message
                if payload["errorType"] == .string("TimedOut") {
                    throw APIError.functionTimeout(
                        "thumbnail", message: message, timeout: runtime.configuration(of: "thumbnail")?.timeout ?? 1)
                }
            }
            throw APIError.unprocessableImage(reason)
        }
    }
}

/// What one generation makes: an original's configured thumbnails, or those and one other format.
struct GenerationKey: Hashable, Sendable {
    var hash: ContentHash
    var configurationId: String
}

/// One thumbnail generation per original and format at a time.
final class InFlightGenerations: Sendable {
    private let tasks = Locked<[GenerationKey: Task<InvocationResponse, any Error>]>([:])

    /// The running generation for `hash`, or a new one started with `work`.
    func task(
        for hash: GenerationKey, _ work: @escaping @Sendable () async throws -> InvocationResponse
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

    private func finish(_ hash: GenerationKey) { _ = tasks.withLock { $0.removeValue(forKey: hash) } }
}
