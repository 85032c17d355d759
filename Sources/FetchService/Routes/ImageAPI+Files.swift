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

    /// A thumbnail of a configured size, made now (RequestResponse) when it does not exist yet. Its format is the
    /// one `?format=` forces, else the one `Accept` prefers when `http.negotiate_formats` is on (then the answer
    /// says `Vary: Accept`), else the configured one; each format is its own file with its own ETag.
    func getThumbnail(_ request: Request, context: some RequestContext) async throws -> Response {
        let id = try Self.id(context)
        let forced = try request.uri.queryParameters.get("format").map { try FormatNegotiation.forced(String($0)) }
        let recipe = try thumbnails.recipe(
            context.parameters.get("size"), forced: forced, accept: request.headers[.accept],
            negotiate: settings.negotiateFormats)
        let varies = forced == nil && settings.negotiateFormats
        let protected = access.protectReads
        // Fast path: the id names its content without a disk look-up, and the file is opened directly.
        if let hash = try resolver.hashWithoutDisk(id) {
            let file = thumbnails.file(recipe, hash: hash, contentAddressed: id.value == hash.hex, protected: protected)
            if let response = try await files.respond(
                to: request, file: file, cacheAs: hash, sources: resolver.originalPaths(of: hash), context: context)
            {
                return Self.signedLifetime(Self.varying(response, varies), request)
            }
        }
        // A name whose picture is replaced or deleted meanwhile (the old thumbnails go with the old content) is
        // resolved again: the answer is the new content's thumbnail, or 404 once the name is gone, never a 500.
        var image = try resolve(id)
        for _ in 0..<3 {
            do {
                try await thumbnails.generate(image, recipe: recipe)
            } catch {
                // Its original may have gone with the old content: then the name's new content is made instead.
                let now = try resolve(id)
                guard now.hash != image.hash else { throw error }
                image = now
                continue
            }
            let file = thumbnails.file(
                recipe, hash: image.hash, contentAddressed: image.isContentID, protected: protected)
            if let response = try await files.respond(
                to: request, file: file, cacheAs: image.hash, sources: resolver.originalPaths(of: image.hash),
                context: context)
            {
                return Self.signedLifetime(Self.varying(response, varies), request)
            }
            // The file went between its making and its opening: the content was deleted, and maybe stored again
            // under the same hash (a DELETE and a PUT of the same bytes): it is made again for what the id names now.
            image = try resolve(id)
        }
        throw APIError.unavailable(
            "the \(recipe.sizeLabel) thumbnail of '\(id.value)' was removed each time it was made (the picture is "
                + "being replaced or deleted); try again", retryAfter: 1)
    }

    /// A signed URL's answer is cached no longer than the URL is valid: a year-long `max-age` kept showing the
    /// picture from a browser's or a CDN's cache long after the URL expired (the route already refused a wrong or
    /// expired signature).
    static func signedLifetime(_ response: Response, _ request: Request) -> Response {
        guard request.uri.queryParameters["sig"] != nil,
            let expires = request.uri.queryParameters["expires"].flatMap({ Int($0) }),
            let policy = response.headers[.cacheControl], policy.contains("max-age=")
        else { return response }
        let left = max(0, expires - Int(Date().timeIntervalSince1970))
        var response = response
        response.headers[.cacheControl] = policy.split(separator: ",").map { part -> String in
            let directive = part.trimmingCharacters(in: .whitespaces)
            guard directive.hasPrefix("max-age="), let age = Int(directive.dropFirst("max-age=".count)) else {
                return directive
            }
            return "max-age=\(min(age, left))"
        }.joined(separator: ", ")
        return response
    }

    /// The response with `Vary: Accept` when its format was chosen from the Accept header (so a shared cache keeps
    /// one copy per Accept, never serves AVIF to a client that did not ask for it).
    static func varying(_ response: Response, _ varies: Bool) -> Response {
        guard varies else { return response }
        var response = response
        response.headers[.vary] = "Accept"
        return response
    }

    /// The metadata JSON (the metadata function's, with the id first); read now if the function has not run yet.
    func getMetadata(_ request: Request, context: some RequestContext) async throws -> Response {
        let image = try resolve(Self.id(context))
        if let stored = try metadata.image(sha256: image.hash.hex) {
            return Self.json(
                stored.jsonLine(id: image.id.value), validating: request, headers: metadataHeaders(image))
        }
        let record = S3EventRecord(
            name: .objectCreatedPut, bucket: layout.root.lastPathComponent, key: "originals/" + image.originalPath,
            size: 0, eTag: image.hash.hex, sequence: 0, sourceName: image.id.value)
        let response = try await runtime.invoke(function: "metadata", record: record, type: .requestResponse)
        if response.failed, case .object(let payload)? = response.payload, payload["errorType"] == .string("TimedOut"),
            case .string(let message)? = payload["errorMessage"]
        {
            throw APIError.functionTimeout(
                "metadata", message: message, timeout: runtime.configuration(of: "metadata")?.timeout ?? 1)
        }
        guard !response.failed, let stored = try metadata.image(sha256: image.hash.hex) else {
            throw APIError.unprocessableImage("the metadata of '\(image.id.value)' could not be read")
        }
        return Self.json(
            stored.jsonLine(id: image.id.value), validating: request, headers: metadataHeaders(image))
    }

    private func metadataHeaders(_ image: ResolvedImage) -> HTTPFields {
        var fields = HTTPFields()
        fields[.cacheControl] = access.protectReads ? CachePolicy.privateRevalidate : CachePolicy.revalidate
        return fields
    }
}
