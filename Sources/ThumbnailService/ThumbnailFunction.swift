// The thumbnail service as a pipeline function: ObjectCreated makes the configured thumbnails, ObjectRemoved removes them.
import Foundation
import ImageCore
import PipelineCore

/// The thumbnail function. Role: read `originals`, write `thumbnails`.
public struct ThumbnailFunction: PipelineFunction {
    public let name = "thumbnail"
    public let role = FunctionRole(read: [.originals], write: [.thumbnails])
    public let subscriptions: Set<String> = ["ObjectCreated", "ObjectRemoved"]
    /// A picture this function cannot decode is refused on every path: batch, HTTP and the upload folder.
    public var judgesOriginals: Bool { true }

    /// The recipes made for every original.
    public let recipes: [ThumbnailRecipe]
    /// The same thumbnails in the other formats the HTTP API serves (AVIF and WebP by negotiation, any by
    /// `?format=`): made only when a record asks for their format (`variantsConfigurationID(for:)`), the first
    /// time a client wants one, never for every upload.
    public let variants: [ThumbnailRecipe]
    /// Decode limits; the function's memory bound may lower `maxPixels` further.
    public let limits: DecodeLimits
    /// Whether the largest resize may run on a spare core while the original is decoded: the time from upload to
    /// thumbnails at idle (`Thumbnailer.render(overlap:)`). Off for `batch`, whose `-j N` means N threads.
    public let overlapsResize: Bool
    /// What set `limits.maxPixels` when it was not the configuration (`--max-pixels` of batch), for the refusal's
    /// message; `nil`: the configuration or `PICPIPE_MAX_PIXELS` (`explain`).
    public var pixelLimitSource: String?

    /// What the HTTP API serves: the configured recipes first (one per size), then their variants.
    public var servedRecipes: [ThumbnailRecipe] { recipes + variants }

    /// The `configurationId` of a record that asks for the variants in `format` too (the HTTP API's on-demand
    /// request for another format), the way a second notification rule of an S3 bucket triggers the same function.
    public static func variantsConfigurationID(for format: ImageFormat) -> String {
        "picpipe-format-" + format.rawValue
    }

    /// - Parameters:
    ///   - recipes: the thumbnails to make for each original.
    ///   - variants: the thumbnails made only on request (`variantsConfigurationID`).
    ///   - limits: decode limits.
    ///   - overlapsResize: see `overlapsResize`.
    public init(
        recipes: [ThumbnailRecipe], variants: [ThumbnailRecipe] = [], limits: DecodeLimits, overlapsResize: Bool = false
    ) {
        self.recipes = recipes
        self.variants = variants
        self.limits = limits
        self.overlapsResize = overlapsResize
    }

    public func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        try validate(record, context: context)
        guard let hash = record.contentHash else { throw FunctionError.invalidPayload("no content hash") }
        let thumbnails = try context.store.handle(.thumbnails, .write)
        if record.eventName.family == "ObjectRemoved" {
            // Only what a gone original leaves: a removal for a picture that is in the store (a made-up record
            // through invoke, or the same bytes uploaded again since) removes nothing (until session 28 it wiped a
            // live picture's thumbnails).
            let removal = try await context.removeOutputs(of: record) {
                try ThumbnailGenerator.removeAll(hash: hash, from: thumbnails)
            }
            guard let removed = removal else { return Self.kept(hash: hash, name: name) }
            context.logger.info(
                "thumbnails removed", metadata: ["file": "\(Self.file(record))", "count": "\(removed.count)"])
            return [
                "function": .string(name), "sha256": .string(hash.hex),
                "removed": .array(removed.map { .string("thumbnails/" + $0) }),
            ]
        }
        let original: Data
        do {
            original = try context.readOriginal(record)
        } catch StoreError.notFound {
            // Deleted before this invocation ran: nothing to make, and nothing to retry.
            return Self.skipped(hash: hash, name: name)
        }
        try Task.checkCancellation()
        let bound = MemoryBound(function: name, configuration: context.configuration, limits: limits)
        let asked = variants.filter { Self.variantsConfigurationID(for: $0.spec.format) == record.s3.configurationId }
        let wanted = recipes + asked
        let rendered: RenderedThumbnails
        do {
            let (overlap, bounded) = (overlapsResize, bound.limits)
            rendered = try await BlockingWork.run {
                try original.withUnsafeBytes {
                    try ThumbnailGenerator.render(
                        original: $0, hash: hash, recipes: wanted, limits: bounded, missingFrom: thumbnails,
                        overlap: overlap)
                }
            }
        } catch let error as ImageError {
            let reason = Self.explain(error, memoryBound: bound, pixelLimitSource: pixelLimitSource)
            context.logger.error(
                "cannot make thumbnails", metadata: ["file": "\(Self.file(record))", "error": "\(reason)"])
            throw FunctionError.unprocessable(file: Self.file(record), reason: reason)
        }
        // Written in the content's turn while the original is there (deleted meanwhile: nothing is kept).
        let outcome = try await context.writeOutputs(
            of: record, { try rendered.write(into: thumbnails) },
            undo: { _ = try ThumbnailGenerator.removeAll(hash: hash, from: thumbnails) })
        guard let outcome else { return Self.skipped(hash: hash, name: name) }
        context.logger.info(
            "thumbnails made",
            metadata: [
                "file": "\(Self.file(record))", "created": "\(outcome.createdCount)",
                "sizes": "\(wanted.map(\.sizeLabel).joined(separator: ","))", "shrink": "\(outcome.shrink)",
            ])
        return Self.result(outcome, hash: hash, name: name)
    }

    /// The name a person knows the picture by: its upload name, or its key in the store.
    static func file(_ record: S3EventRecord) -> String { record.s3.object.sourceName ?? record.s3.object.key }

    /// The result when the original is gone: nothing made, nothing kept.
    /// A removal of a picture still in the store: nothing removed.
    static func kept(hash: ContentHash, name: String) -> FunctionResult {
        [
            "function": .string(name), "sha256": .string(hash.hex), "removed": .array([]),
            "skipped": .string("the original is in the store: nothing removed"),
        ]
    }

    static func skipped(hash: ContentHash, name: String) -> FunctionResult {
        [
            "function": .string(name), "sha256": .string(hash.hex), "changed": .bool(false),
            "skipped": .string("the original was deleted"),
        ]
    }

    /// The error's sentence, plus where a refusing limit is set, so the user knows which knob to turn.
    /// - Parameters:
    ///   - error: the image error.
    ///   - memoryBound: the limits a function decoded with; named when its `memory_mb`, not `limits.max_pixels`,
    ///     set the pixel limit (the thumbnail function's, or the fetch function's checking an import).
    ///   - pixelLimitSource: what set the pixel limit when not the configuration (`--max-pixels`); without it,
    ///     `PICPIPE_MAX_PIXELS` when that is set (it overrides the file), else `limits.max_pixels`. (Until session 27
    ///     the message named `limits.max_pixels` whatever set the limit.)
    public static func explain(
        _ error: ImageError, memoryBound: MemoryBound? = nil, pixelLimitSource: String? = nil
    ) -> String {
        switch error {
        case .tooManyPixels:
            if let memoryBound, memoryBound.setsPixelLimit { return "\(error) (set by \(memoryBound.knob))" }
            if let pixelLimitSource { return "\(error) (set by \(pixelLimitSource))" }
            if ProcessInfo.processInfo.environment["PICPIPE_MAX_PIXELS"] != nil {
                return "\(error) (set by PICPIPE_MAX_PIXELS in the environment)"
            }
            return "\(error) (set by limits.max_pixels in the configuration; "
                + "batch and thumbnail also take --max-pixels)"
        case .fileTooLarge:
            return "\(error) (\(IngestError.fileBytesKnob))"
        default:
            return error.description
        }
    }

    /// The JSON result of a generation.
    static func result(_ outcome: ThumbnailOutcome, hash: ContentHash, name: String) -> FunctionResult {
        let entries: [JSONValue] = outcome.thumbnails.map { entry in
            var object: [String: JSONValue] = [
                "size": .string(entry.recipe.sizeLabel),
                "format": .string(entry.recipe.spec.format.rawValue),
                "path": .string("thumbnails/" + entry.relativePath),
                "created": .bool(entry.created),
            ]
            if let width = entry.width, let height = entry.height {
                object["width"] = .int(width)
                object["height"] = .int(height)
            }
            if let bytes = entry.bytes { object["bytes"] = .int(bytes) }
            return .object(object)
        }
        var result: FunctionResult = [
            "function": .string(name), "sha256": .string(hash.hex), "shrink": .int(outcome.shrink),
            "thumbnails": .array(entries), "changed": .bool(outcome.createdCount > 0),
        ]
        if let profile = outcome.colorProfile { result["color_profile"] = .string(profile) }
        return result
    }
}
