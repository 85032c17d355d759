// GET|HEAD /images/{id} and GET|HEAD /images/{id}/thumbnails/{size}: files streamed from the store.
import Foundation
import Hummingbird
import PipelineCore

extension ImageAPI {
    /// The original's bytes.
    func getOriginal(_ request: Request, context: some RequestContext) async throws -> Response {
        let image = try resolve(Self.id(context))
        let file = StoredFile(
            path: try resolver.originals.url(image.originalPath).path, contentType: image.format.mediaType,
            eTag: "\"\(image.hash.hex)\"",
            cacheControl: CachePolicy.forFile(immutable: image.isContentID, protected: access.protectReads))
        guard let response = try await files.respond(to: request, file: file, context: context) else {
            throw APIError.imageNotFound(image.id.value)
        }
        return response
    }

    /// A thumbnail of a configured size, made now (RequestResponse) when it does not exist yet.
    func getThumbnail(_ request: Request, context: some RequestContext) async throws -> Response {
        let id = try Self.id(context)
        let recipe = try thumbnails.recipe(context.parameters.get("size"))
        let protected = access.protectReads
        // Fast path: the id names its content without a disk look-up, and the file is opened directly.
        if let hash = resolver.hashWithoutDisk(id) {
            let file = thumbnails.file(recipe, hash: hash, immutable: id.value == hash.hex, protected: protected)
            if let response = try await files.respond(
                to: request, file: file, cacheAs: hash, sources: resolver.originalPaths(of: hash), context: context)
            {
                return response
            }
        }
        let image = try resolve(id)
        try await thumbnails.generate(image)
        let file = thumbnails.file(recipe, hash: image.hash, immutable: image.isContentID, protected: protected)
        guard
            let response = try await files.respond(
                to: request, file: file, cacheAs: image.hash, sources: resolver.originalPaths(of: image.hash),
                context: context)
        else {
            throw APIError.internalError("the thumbnail function ran but \(recipe.sizeLabel) is missing")
        }
        return response
    }

    /// The metadata JSON (the metadata function's, with the id first); read now if the function has not run yet.
    func getMetadata(_ request: Request, context: some RequestContext) async throws -> Response {
        let image = try resolve(Self.id(context))
        if let stored = try metadata.image(sha256: image.hash.hex) {
            return Self.json(stored.metadata.jsonLine(id: image.id.value), headers: metadataHeaders(image))
        }
        let record = S3EventRecord(
            name: .objectCreatedPut, bucket: layout.root.lastPathComponent, key: "originals/" + image.originalPath,
            size: 0, eTag: image.hash.hex, sequence: 0, sourceName: image.id.value)
        let response = try await runtime.invoke(function: "metadata", record: record, type: .requestResponse)
        guard !response.failed, let stored = try metadata.image(sha256: image.hash.hex) else {
            throw APIError.unprocessableImage("the metadata of '\(image.id.value)' could not be read")
        }
        return Self.json(stored.metadata.jsonLine(id: image.id.value), headers: metadataHeaders(image))
    }

    private func metadataHeaders(_ image: ResolvedImage) -> HTTPFields {
        var fields = HTTPFields()
        fields[.cacheControl] = access.protectReads ? CachePolicy.privateRevalidate : CachePolicy.revalidate
        return fields
    }
}
