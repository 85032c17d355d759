// Building the functions `serve` and `invoke` run, from the configuration.
import Foundation
import ImageCore
import Logging
import MetadataService
import PipelineCore
import ThumbnailService

/// The functions of picpipe with their configured settings.
enum FunctionCatalog {
    /// Every function, configured.
    /// - Parameter metadataStore: a shared metadata database (PostgreSQL); `nil`: the store's SQLite file.
    static func functions(for configuration: PicpipeConfiguration, metadataStore: (any MetadataStore)? = nil)
        -> [RegisteredFunction]
    {
        [
            RegisteredFunction(thumbnail(configuration), configuration: configuration.functions.thumbnail),
            RegisteredFunction(
                metadataStore.map { MetadataFunction(store: $0) } ?? MetadataFunction(),
                configuration: configuration.functions.metadata),
        ]
    }

    /// The thumbnail function: one recipe per configured size.
    static func thumbnail(_ configuration: PicpipeConfiguration) -> ThumbnailFunction {
        let settings = configuration.thumbnails
        let recipes = settings.sizes.map { size in
            ThumbnailRecipe(
                size: size, fit: FitMode(rawValue: settings.fit) ?? .inside,
                format: settings.format == "png" ? .png : .jpeg, quality: settings.quality,
                progressive: settings.progressive, background: RGBColor(hex: settings.background) ?? .white,
                color: ColorMode(rawValue: settings.color) ?? .srgb)
        }
        return ThumbnailFunction(
            recipes: recipes,
            limits: DecodeLimits(
                maxPixels: configuration.limits.maxPixels, maxFileBytes: configuration.limits.maxFileBytes))
    }

    /// A runtime over the configured journal (`database.url`, else the store's SQLite file) with every function.
    /// - Parameter workerFunctions: the functions whose workers `run()` starts (`nil`: all).
    static func runtime(
        for configuration: PicpipeConfiguration, logger: Logger, workerFunctions: Set<String>? = nil
    ) throws -> (FunctionRuntime, DatabaseBackends) {
        let layout = StoreLayout(root: configuration.storeURL)
        try layout.createFolders()
        let backends = try DatabaseBackends.open(url: configuration.database.url, layout: layout)
        let runtime = FunctionRuntime(
            layout: layout, journal: backends.journal,
            functions: functions(for: configuration, metadataStore: backends.metadata),
            settings: configuration.runtime, logger: logger, workerFunctions: workerFunctions)
        return (runtime, backends)
    }
}
