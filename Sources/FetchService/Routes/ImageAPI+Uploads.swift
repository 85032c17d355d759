// POST /images and PUT /images/{id}: stream, check, install, journal ObjectCreated, record the id.
import Foundation
import Hummingbird
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

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
        headers[.eTag] = Self.eTag(of: upload.hash)
        return Self.json("{\"id\":\(JSONText.quoted(id))}", status: .accepted, headers: headers)
    }

    /// Creates or replaces the image under a client-chosen id (the article's CreateOrUpdateContactById).
    /// 201 when the id is new, 200 when it was replaced; the old content is removed when no id uses it any more.
    /// If-Match, If-Unmodified-Since and If-None-Match (`*`: create only) are checked before the body is read,
    /// again once it is in, and the id moves only while it still names what they were checked against (412).
    func putImage(_ request: Request, context: FetchRequestContext) async throws -> Response {
        let id = try Self.id(context)
        if id.contentHash == nil, id.value.utf8.count == 64, ContentHash(hex: id.value) != nil {
            // Else it would be a name that reads as one picture's hash and serves another's bytes.
            throw APIError.badRequest(
                "a 64-hex-digit id is a content id, written in lowercase: \(id.value.lowercased())")
        }
        let preconditions = Preconditions(request.headers)
        let check: () throws -> Void = {
            if !preconditions.isEmpty { _ = try self.currentState(of: id, meeting: preconditions) }
        }
        let upload = try await receive(request, context: context, beforeBody: check)
        if let hash = id.contentHash, upload.hash != hash {
            // A content id can only name its own bytes.
            upload.discard()
            throw APIError.contentIDMismatch(id: id.value, body: upload.hash.hex)
        }
        return try await store(upload, id: id, request: request, preconditions: preconditions)
    }

    private func store(
        _ upload: SpooledUpload, id: ImageID, request: Request, preconditions: Preconditions
    ) async throws -> Response {
        let name = upload.fileName ?? FormQuery(request.uri.query)["name"]
        let storedEarlier = resolver.storedFormat(of: upload.hash) != nil
        let previous = try await accept(
            upload, id: id.value, name: name, event: .objectCreatedCopy,
            preconditions: preconditions.isEmpty ? nil : preconditions)
        // The id names these bytes from now: dated to the move, also when the id is new and the bytes were stored
        // earlier (a name deleted and made again: until session 29 it kept their old date, so a client holding the
        // deleted picture got a 304 for If-Modified-Since).
        if previous?.hash != upload.hash, previous != nil || storedEarlier {
            lifecycle.markChanged(hash: upload.hash, format: upload.format)
        }
        if let previous, previous.hash != upload.hash {
            await lifecycle.removeIfUnused(hash: previous.hash, format: previous.format, sourceName: id.value)
        }
        var headers = HTTPFields()
        headers[.location] = "/images/\(id.value)"
        headers[.eTag] = Self.eTag(of: upload.hash)
        return Self.json(
            "{\"id\":\(JSONText.quoted(id.value)),\"sha256\":\(JSONText.quoted(upload.hash.hex))}",
            status: previous == nil ? .created : .ok, headers: headers)
    }

    /// Streams the body to a checked temporary file. A body refused for its size or pace (413, 408) or for lack of
    /// room (503 too many uploads) stops the connection's reading: the answer is sent, the rest is not drained.
    /// Other refusals (415, 400) let Hummingbird drain the rest, which is within the size limit.
    /// - Parameter beforeBody: a last check before the body is read (a PUT's preconditions: 412 is then answered
    ///   as 415 is, the body within the size limit drained, or not sent at all after `Expect: 100-continue`).
    private func receive(
        _ request: Request, context: FetchRequestContext, beforeBody: () throws -> Void = {}
    ) async throws -> SpooledUpload {
        let upload: SpooledUpload
        do {
            guard let slot = uploadSlots.take() else { throw APIError.tooManyUploads(limit: uploadSlots.limit) }
            defer { slot.release() }
            let kind = try UploadBody.kind(contentType: request.headers[.contentType])
            let declared = request.headers[.contentLength].flatMap { Int($0) }
            if let declared, declared > settings.maxBodyBytes {
                throw APIError.bodyTooLarge(limit: settings.maxBodyBytes)
            }
            try beforeBody()
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
    /// - Parameter preconditions: a conditional PUT's: checked again now the body is in, and the id moved only
    ///   while it names what they held for (else 412, and the upload's content goes if no id uses it).
    @discardableResult
    private func accept(
        _ upload: SpooledUpload, id: String, name: String?, event: EventName, preconditions: Preconditions? = nil
    ) async throws -> IndexedImage? {
        var checked: ResolvedImage?
        if let preconditions, let imageID = ImageID(id) {
            do {
                checked = try currentState(of: imageID, meeting: preconditions)
            } catch {
                upload.discard()
                throw error
            }
        }
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
        let entry = IndexedImage(
            id: id, hash: upload.hash, format: upload.format, size: upload.size, name: name, updatedAt: Date())
        guard let preconditions, let imageID = ImageID(id) else { return try index.upsert(entry) }
        do {
            return try moveIfCurrent(imageID, to: entry, checked: checked, preconditions: preconditions)
        } catch {
            // Installed and journaled, but not named: gone again unless another id uses the bytes.
            await lifecycle.removeIfUnused(hash: upload.hash, format: upload.format, sourceName: id)
            throw error
        }
    }

    /// Points the id at `entry` while it still names the content `checked` resolved to (none: while it has no
    /// entry); when it has moved meanwhile, the preconditions are checked against its new state and the move tried
    /// again. - Returns: the entry replaced. - Throws: 412.
    private func moveIfCurrent(
        _ id: ImageID, to entry: IndexedImage, checked: ResolvedImage?, preconditions: Preconditions
    ) throws -> IndexedImage? {
        var expected = checked?.entry?.hash
        for _ in 0..<Self.conditionalAttempts {
            if case .made(let previous) = try index.upsert(entry, ifNaming: expected) { return previous }
            expected = try currentState(of: id, meeting: preconditions)?.entry?.hash
        }
        throw APIError.preconditionFailed(.changing, target: "'\(id.value)'")
    }

    /// How often a conditional PUT or DELETE whose id keeps changing under it is checked again before its 412.
    static let conditionalAttempts = 3

    /// What an id names now, when the preconditions hold for it (`nil`: it does not exist, which they allow).
    /// - Throws: 412 naming the precondition that does not hold.
    func currentState(of id: ImageID, meeting preconditions: Preconditions) throws -> ResolvedImage? {
        let image = resolver.resolve(id)
        if let failure = preconditions.failure(preconditionState(of: image), changesState: true) {
            throw APIError.preconditionFailed(failure, target: "'\(id.value)'")
        }
        return image
    }

    /// An id's original as preconditions compare it: its ETag and its file's modification second (its
    /// Last-Modified).
    private func preconditionState(of image: ResolvedImage?) -> Preconditions.State? {
        guard let image else { return nil }
        var info = stat()
        let modified =
            (try? resolver.originals.url(image.originalPath)).flatMap { url in
                stat(url.path, &info) == 0 ? Int(info.st_mtim.tv_sec) : nil
            }
        return Preconditions.State(eTag: Self.eTag(of: image.hash), modified: modified)
    }

    /// The ETag of an original (and of every id naming it).
    static func eTag(of hash: ContentHash) -> String { "\"\(hash.hex)\"" }

    /// Removes the id; the content goes too (ObjectRemoved: thumbnails, metadata, original) when no other id
    /// uses it. With preconditions, the id is removed only while it names the content they held for (412).
    func deleteImage(_ request: Request, context: some RequestContext) async throws -> Response {
        let id = try Self.id(context)
        let preconditions = Preconditions(request.headers)
        var image = try resolve(id)
        var removed: IndexedImage?
        if preconditions.isEmpty {
            if image.entry != nil { removed = try index.remove(id: id.value) }
        } else {
            removed = try removeIfCurrent(&image, preconditions: preconditions)
        }
        // The content the id named when it went (a PUT may have moved it since it was resolved).
        await lifecycle.removeIfUnused(
            hash: removed?.hash ?? image.hash, format: removed?.format ?? image.format, sourceName: id.value)
        return Response(status: .noContent)
    }

    /// Removes the id's entry while the preconditions hold for what it names, checked and removed in one step.
    /// - Returns: the entry removed (`nil`: a content id with no entry, named by its dropped picture).
    /// - Throws: 412, or 404 when the id is deleted meanwhile.
    private func removeIfCurrent(_ image: inout ResolvedImage, preconditions: Preconditions) throws -> IndexedImage? {
        for _ in 0..<Self.conditionalAttempts {
            if let failure = preconditions.failure(preconditionState(of: image), changesState: true) {
                throw APIError.preconditionFailed(failure, target: "'\(image.id.value)'")
            }
            // A content id without an entry always names the same bytes: nothing can change under it.
            guard let entry = image.entry else { return nil }
            if case .made(let previous) = try index.remove(id: image.id.value, ifNaming: entry.hash) {
                return previous
            }
            image = try resolve(image.id)
        }
        throw APIError.preconditionFailed(.changing, target: "'\(image.id.value)'")
    }
}
