import AWSGateway
// Building the functions `serve` and `invoke` run, from the configuration.
import FetchService
import Foundation
import ImageCore
import Logging
import MetadataService
import PipelineCore
import ThumbnailService

/// The functions of picpipe with their configured settings.
enum FunctionCatalog {
    /// Every function, configured.
    /// - Parameters:
    ///   - alsoFormats: formats made for every original besides the configured one (`batch --also-formats`).
    ///   - metadataStore: a shared metadata database (PostgreSQL); `nil`: the store's SQLite file.
    ///   - overlapsResize: whether the thumbnail function resizes on a spare core while it decodes (off for
    ///     `batch`, whose `-j N` means N threads; see `ThumbnailFunction.overlapsResize`).
    ///   - naming: the HTTP API's index and content locks for what the fetch function imports (`nil`: no API ids).
    static func functions(
        for configuration: PicpipeConfiguration, alsoFormats: [ImageFormat] = [],
        metadataStore: (any MetadataStore)? = nil, overlapsResize: Bool = true, pixelLimitSource: String? = nil,
        naming: (any DroppedContentNaming)? = nil
    ) -> [RegisteredFunction] {
        var thumbnails = thumbnail(configuration, alsoFormats: alsoFormats, overlapsResize: overlapsResize)
        thumbnails.pixelLimitSource = pixelLimitSource
        return [
            RegisteredFunction(
                thumbnails,
                configuration: configuration.functions.thumbnail),
            RegisteredFunction(
                metadataStore.map { MetadataFunction(store: $0) } ?? MetadataFunction(),
                configuration: configuration.functions.metadata),
            RegisteredFunction(
                FetchFunction(
                    imports: configuration.imports,
                    limits: DecodeLimits(
                        maxPixels: configuration.limits.maxPixels, maxFileBytes: configuration.limits.maxFileBytes),
                    naming: naming),
                configuration: configuration.functions.fetch),
        ]
    }

    /// The thumbnail function: one recipe per configured size, and each size in the other formats picpipe
    /// writes, made only when the HTTP API asks for one (negotiated from Accept, or forced by `?format=`).
    static func thumbnail(
        _ configuration: PicpipeConfiguration, alsoFormats: [ImageFormat] = [], overlapsResize: Bool = true
    ) -> ThumbnailFunction {
        let settings = configuration.thumbnails
        let format = ImageFormat(rawValue: settings.format) ?? .jpeg
        let recipes = settings.sizes.map { size in
            ThumbnailRecipe(
                size: size, fit: FitMode(rawValue: settings.fit) ?? .inside,
                format: format, quality: settings.quality(for: format.rawValue),
                progressive: settings.progressive, background: RGBColor(hex: settings.background) ?? .white,
                color: ColorMode(rawValue: settings.color) ?? .srgb, lossless: settings.webpLossless,
                speed: settings.avifSpeed)
        }
        let variants = recipes.flatMap { recipe in
            ImageFormat.writable.filter { $0 != format }.map { variant(recipe, $0, settings) }
        }
        let eager = variants.filter { alsoFormats.contains($0.spec.format) }
        return ThumbnailFunction(
            recipes: recipes + eager, variants: variants.filter { !alsoFormats.contains($0.spec.format) },
            limits: DecodeLimits(
                maxPixels: configuration.limits.maxPixels, maxFileBytes: configuration.limits.maxFileBytes),
            overlapsResize: overlapsResize)
    }

    /// A recipe in another format at that format's configured settings.
    static func variant(_ recipe: ThumbnailRecipe, _ format: ImageFormat, _ settings: ThumbnailSettings)
        -> ThumbnailRecipe
    {
        recipe.inFormat(
            format, quality: settings.quality(for: format.rawValue), lossless: settings.webpLossless,
            speed: settings.avifSpeed)
    }

    /// A runtime over the configured journal (`database.url`, else the store's SQLite file) with every function.
    /// Its imports are named beside the HTTP API's ids when the database is shared (`invoke`, `import`: in SQLite
    /// mode the API's index and locks are serve's own, out of this process's reach).
    /// - Parameter workerFunctions: the functions whose workers `run()` starts (`nil`: all).
    static func runtime(
        for configuration: PicpipeConfiguration, logger: Logger, workerFunctions: Set<String>? = nil
    ) throws -> (FunctionRuntime, DatabaseBackends) {
        let (layout, backends) = try open(configuration)
        let runtime = Self.runtime(
            for: configuration, layout: layout, backends: backends,
            turn: try backends.contentTurn(layout: layout, local: false), logger: logger,
            workerFunctions: workerFunctions)
        return (runtime, backends)
    }

    /// The store (its folders made) and the configured databases.
    static func open(_ configuration: PicpipeConfiguration) throws -> (StoreLayout, DatabaseBackends) {
        let layout = StoreLayout(root: configuration.storeURL)
        try layout.createFolders()
        return (layout, try DatabaseBackends.open(url: configuration.database.url, layout: layout))
    }

    /// A runtime over opened databases with every function. `turn`: the HTTP API's index and content locks, when
    /// this process shares them: the fetch function names its imports with them (see `functions`), and every
    /// function writes its outputs in the content's turn (`FunctionContext.contentLocks`).
    static func runtime(
        for configuration: PicpipeConfiguration, layout: StoreLayout, backends: DatabaseBackends,
        turn: ContentTurn?, logger: Logger, workerFunctions: Set<String>? = nil
    ) -> FunctionRuntime {
        let runtime = FunctionRuntime(
            layout: layout, journal: backends.journal,
            functions: functions(for: configuration, metadataStore: backends.metadata, naming: turn?.naming),
            settings: configuration.runtime, logger: logger, workerFunctions: workerFunctions,
            contentLocks: turn?.locks)
        // What the Lambda API changed holds wherever the functions run, as one function has one configuration.
        FunctionOverrides(layout: layout).applyAll(to: runtime)
        return runtime
    }
}
