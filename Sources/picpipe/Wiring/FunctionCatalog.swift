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
    static func functions(for configuration: PicpipeConfiguration) -> [RegisteredFunction] {
        [
            RegisteredFunction(thumbnail(configuration), configuration: configuration.functions.thumbnail),
            RegisteredFunction(MetadataFunction(), configuration: configuration.functions.metadata),
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

    /// A runtime over the store's journal with every function.
    static func runtime(for configuration: PicpipeConfiguration, logger: Logger) throws -> FunctionRuntime {
        let layout = StoreLayout(root: configuration.storeURL)
        try layout.createFolders()
        let journal = try StoreOptions.openDatabase(at: layout.eventsDatabase) {
            try SQLiteInvocationJournal(layout: layout)
        }
        return FunctionRuntime(
            layout: layout, journal: journal, functions: functions(for: configuration), settings: configuration.runtime,
            logger: logger)
    }
}
