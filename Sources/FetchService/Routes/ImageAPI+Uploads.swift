// POST /images and PUT /images/{id}: stream, check, install, journal ObjectCreated, record the id.
import Foundation
import Hummingbird
import PipelineCore

extension ImageAPI {
    /// Uploads an image; its id is the SHA-256 of its bytes, so the same bytes always get the same id.
    func uploadImage(_ request: Request, context: FetchRequestContext) async throws -> Response {
        if ImportRequest.isImport(request) { return try await importImage(request, context: context) }
        let upload = try await receive(request, context: context)
        let id = upload.hash.hex
        let name = upload.fileName ?? FormQuery(request.uri.query)["name"]
        try await accept(upload, id: id, name: name, event: .objectCreatedPut)
        var headers = HTTPFields()
        headers[.location] = "/images/\(id)"
        return Self.json("{\"id\":\(JSONText.quoted(id))}", status: .accepted, headers: headers)
    }

    /// Creates or replaces the image under a client-chosen id (the article's CreateOrUpdateContactById).
    /// 201 when the id is new, 200 when it was replaced; the old content is removed when no id uses it any more.
    func putImage(_ request: Request, context: FetchRequestContext) async throws -> Response {
        let id = try Self.id(context)
        if id.contentHash == nil, id.value.utf8.count == 64, ContentHash(hex: id.value) != nil {
            // Else it would be a name that reads as one picture's hash and serves another's bytes.
            throw APIError.badRequest(
                "a 64-hex-digit id is a content id, written in lowercase: \(id.value.lowercased())")
        }
        if let hash = id.contentHash {
            // A content id can only name its own bytes.
            let upload = try await receive(request, context: context)
            guard upload.hash == hash else {
                upload.discard()
                throw APIError.contentIDMismatch(id: id.value, body: upload.hash.hex)
            }
            return try await store(upload, id: id, request: request)
        }
        return try await store(try await receive(request, context: context), id: id, request: request)
    }

    private func store(_ upload: SpooledUpload, id: ImageID, request: Request) async throws -> Response {
        let name = upload.fileName ?? FormQuery(request.uri.query)["name"]
        let previous = try await accept(upload, id: id.value, name: name, event: .objectCreatedCopy)
        if let previous, previous.hash != upload.hash {
            lifecycle.markChanged(hash: upload.hash, format: upload.format)
            await lifecycle.removeIfUnused(hash: previous.hash, format: previous.format, sourceName: id.value)
        }
        var headers = HTTPFields()
        headers[.location] = "/images/\(id.value)"
        return Self.json(
            "{\"id\":\(JSONText.quoted(id.value)),\"sha256\":\(JSONText.quoted(upload.hash.hex))}",
            status: previous == nil ? .created : .ok, headers: headers)
    }

    /// Streams the body to a checked temporary file. A body refused for its size or pace (413, 408) or for lack of
    /// room (503 too many uploads) stops the connection's reading: the answer is sent, the rest is not drained.
    /// Other refusals (415, 400) let Hummingbird drain the rest, which is within the size limit.
    private func receive(_ request: Request, context: FetchRequestContext) async throws -> SpooledUpload {
        let upload: SpooledUpload
        do {
            guard let slot = uploadSlots.take() else { throw APIError.tooManyUploads(limit: uploadSlots.limit) }
            defer { slot.release() }
            let kind = try UploadBody.kind(contentType: request.headers[.contentType])
            let declared = request.headers[.contentLength].flatMap { Int($0) }
            if let declared, declared > settings.maxBodyBytes {
                throw APIError.bodyTooLarge(limit: settings.maxBodyBytes)
            }
            context.willReadBody()
            upload = try await spool.spool(request.body, kind: kind, declaredLength: declared)
        } catch let error as APIError {
            if [413, 408, 503].contains(error.status.code) { context.stopReading() }
            throw error
        }
        do {
            try await validator.validate(upload)
        } catch {
            upload.discard()
            throw error
        }
        return upload
    }

    /// Installs the upload, journals its event and records the id. - Returns: the entry the id had before.
    @discardableResult
    private func accept(_ upload: SpooledUpload, id: String, name: String?, event: EventName) async throws
        -> IndexedImage?
    {
        // Content the upload folder or batch stored is listed by its hash while no id of the API names it; a new
        // id naming it must not hide it, nor take it along when that id is deleted: its hash becomes an id too.
        if id != upload.hash.hex, index.ids(using: upload.hash).isEmpty,
            let format = resolver.storedFormat(of: upload.hash)
        {
            try index.upsert(
                IndexedImage(
                    id: upload.hash.hex, hash: upload.hash, format: format, size: upload.size, name: nil,
                    updatedAt: Date()))
        }
        // The same bytes posted again keep their first name (its entry's, else the dropped file's the listing
        // falls back to): until session 28 every POST renamed the picture.
        let name =
            id == upload.hash.hex && resolver.storedFormat(of: upload.hash) != nil
            ? index.entry(for: id)?.name : name
        try await lifecycle.install(upload, event: event, sourceName: id)
        return try index.upsert(
            IndexedImage(
                id: id, hash: upload.hash, format: upload.format, size: upload.size, name: name, updatedAt: Date()))
    }

    /// Removes the id; the content goes too (ObjectRemoved: thumbnails, metadata, original) when no other id
    /// uses it.
    func deleteImage(_ request: Request, context: some RequestContext) async throws -> Response {
        let image = try resolve(Self.id(context))
        if image.entry != nil { try index.remove(id: image.id.value) }
        await lifecycle.removeIfUnused(hash: image.hash, format: image.format, sourceName: image.id.value)
        return Response(status: .noContent)
    }
}
