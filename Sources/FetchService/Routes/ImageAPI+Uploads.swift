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
        // New bytes under a key are ObjectCreated:Put, as S3 PutObject notifies for a new key and an overwrite alike
        // (until session 37 ObjectCreated:Copy, which S3 sends for CopyObject only).
        let previous = try await accept(
            upload, id: id.value, name: name, event: .objectCreatedPut,
            preconditions: preconditions.isEmpty ? nil : preconditions)
        // The id names these bytes from now: dated to the move, also when the id is new and the bytes were stored
        // earlier (a name deleted and made again: until session 29 it kept their old date, so a client holding the
        // deleted picture got a 304 for If-Modified-Since).
        if previous?.hash != upload.hash, previous != nil || storedEarlier {
            lifecycle.markChanged(hash: upload.hash, format: upload.format)
        }
        var headers = HTTPFields()
        headers[.location] = "/images/\(id.value)"
        headers[.eTag] = Self.eTag(of: upload.hash)
        return Self.json(
            "{\"id\":\(JSONText.quoted(id.value)),\"sha256\":\(JSONText.quoted(upload.hash.hex))}",
            status: previous == nil ? .created : .ok, headers: headers)
    }

    /// Streams the body to a checked temporary file. A body refused before its end (413, 408, 415, 503 too many
    /// uploads, 412) is not drained: the answer says `Connection: close` and the connection closes once it is sent
    /// (`ExpectContinueHandler`; until session 32 a 415 or a 400 let Hummingbird read the rest, however long).
    /// - Parameter beforeBody: a last check before the body is read (a PUT's preconditions: 412).
    private func receive(
        _ request: Request, context: FetchRequestContext, beforeBody: () throws -> Void = {}
    ) async throws -> SpooledUpload {
        let upload: SpooledUpload
        do {
            // The declared length first, as nginx checks `client_max_body_size`: a body that can never be taken is
            // 413 whatever its type or the server's load (until session 32 a 2 GB text/plain body was a 415).
            let declared = request.headers[.contentLength].flatMap { Int($0) }
            if let declared, declared > settings.maxBodyBytes {
                throw APIError.bodyTooLarge(limit: settings.maxBodyBytes)
            }
            guard let slot = uploadSlots.take() else { throw APIError.tooManyUploads(limit: uploadSlots.limit) }
            defer { slot.release() }
            let kind = try UploadBody.kind(contentType: request.headers[.contentType])
            try UploadBody.requireIdentity(contentEncoding: request.headers[values: .contentEncoding])
            try beforeBody()
            context.willReadBody(minimumRate: settings.minUploadRate)
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

    /// Installs the upload, journals its event and records the id, holding the lock of the content and of the one
    /// the id named before: a DELETE of either is then done or not begun, and the old content's removal (when no id
    /// uses it any more) is part of the same step, so a PUT of the old bytes cannot take them for a dropped picture
    /// in between (until session 30 it could). - Returns: the entry the id had before.
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
        let condition = checked
        var named = id == upload.hash.hex ? nil : try index.entry(for: id)?.hash
        // Tried again while other PUTs move the id (each miss is another PUT's success); only a last try goes on
        // without the lock of what the id names (until session 30 that was the third, and a busy id lost pictures).
        for attempt in 1...Self.namingAttempts {
            let expected = named
            // What the id names now, or, while it names nothing, the id itself: every PUT that would create it takes
            // that lock, so two cannot both find it free (until session 30 one then replaced the other's new
            // content without its lock, and that content's removal came after: a PUT of it in between named it by
            // its hash, and mini5.py left a picture in 1 round of 8).
            let held = expected ?? (id == upload.hash.hex ? nil : Self.creationLock(of: id))
            let outcome: Acceptance
            do {
                outcome = try await lifecycle.exclusively([upload.hash] + (held.map { [$0] } ?? [])) {
                    // The id moved meanwhile: its new content's lock is needed (the last attempt goes on without).
                    let now = id == upload.hash.hex ? nil : try index.entry(for: id)?.hash
                    if now != expected, attempt < Self.namingAttempts { return .moved(now) }
                    return try await nameUnderLock(
                        upload, id: id, name: name, event: event, preconditions: preconditions, checked: condition,
                        locked: expected)
                }
            } catch {
                upload.discard()
                throw error
            }
            switch outcome {
            case .moved(let now):
                named = now
            case .named(let previous, let removedPrevious):
                if let removedPrevious {
                    await lifecycle.announceRemoval(removedPrevious, sourceName: id)
                } else if let previous, previous.hash != upload.hash, previous.hash != expected {
                    // Moved from content whose lock was not held: its removal under its own.
                    await lifecycle.removeIfUnused(hash: previous.hash, format: previous.format, sourceName: id)
                }
                return previous
            case .refused(let error, let removed):
                // Installed and journaled, but not named: gone again unless another id uses the bytes.
                if let removed { await lifecycle.announceRemoval(removed, sourceName: id) }
                throw error
            }
        }
        upload.discard()
        throw APIError.preconditionFailed(.changing, target: "'\(id)'")
    }

    /// What `accept` did under the contents' locks.
    private enum Acceptance: Sendable {
        /// The id names the upload; the entry it had before, and that content's original when it went with it.
        case named(previous: IndexedImage?, removedPrevious: ContentLifecycle.RemovedOriginal?)
        /// The preconditions refused the move; the original removed again when no id uses it.
        case refused(any Error, removed: ContentLifecycle.RemovedOriginal?)
        /// The id names this content now, not the one whose lock was taken: nothing was done.
        case moved(ContentHash?)
    }

    /// `accept`'s work under the contents' locks (`locked`: the content the id named, whose lock is held too).
    private func nameUnderLock(
        _ upload: SpooledUpload, id: String, name: String?, event: EventName, preconditions: Preconditions?,
        checked: ResolvedImage?, locked: ContentHash?
    ) async throws -> Acceptance {
        // Content the upload folder or batch stored is listed by its hash while no id of the API names it; a new
        // id naming it must not hide it, nor take it along when that id is deleted: its hash becomes an id too.
        // (Under the lock, a content no id names is never one a DELETE is removing.)
        let storedFormat = resolver.storedFormat(of: upload.hash)
        if id != upload.hash.hex, try index.ids(using: upload.hash).isEmpty, let format = storedFormat {
            try index.upsert(
                IndexedImage(
                    id: upload.hash.hex, hash: upload.hash, format: format, size: upload.size, name: nil,
                    updatedAt: Date()))
        }
        // The same bytes posted again keep their first name (its entry's, else the dropped file's the listing
        // falls back to): until session 28 every POST renamed the picture.
        let name =
            id == upload.hash.hex && storedFormat != nil
            ? try index.entry(for: id)?.name : name
        try await lifecycle.install(upload, event: event, sourceName: id)
        let entry = IndexedImage(
            id: id, hash: upload.hash, format: upload.format, size: upload.size, name: name, updatedAt: Date())
        let previous: IndexedImage?
        if let preconditions, let imageID = ImageID(id) {
            do {
                previous = try moveIfCurrent(imageID, to: entry, checked: checked, preconditions: preconditions)
            } catch {
                // (An index that cannot be read now keeps the upload's original: another id may name it.)
                let removed = try? lifecycle.removeOriginalIfUnused(hash: upload.hash, format: upload.format)
                return .refused(error, removed: removed ?? nil)
            }
        } else {
            previous = try index.upsert(entry)
        }
        // The content the id moved away from goes in the same step when no id uses it.
        guard let previous, previous.hash != upload.hash, previous.hash == locked else {
            return .named(previous: previous, removedPrevious: nil)
        }
        let removedPrevious: ContentLifecycle.RemovedOriginal?
        do {
            removedPrevious = try lifecycle.removeOriginalIfUnused(hash: previous.hash, format: previous.format)
        } catch {
            // The id has moved; the content it left stays whole, listed by its hash (a read-only original folder).
            logger.error(
                "could not remove the content a PUT moved its id from; it stays, listed by its hash",
                metadata: ["sha256": "\(previous.hash.hex)", "error": "\(error)"])
            removedPrevious = nil
        }
        return .named(previous: previous, removedPrevious: removedPrevious)
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

    /// How often a PUT takes the locks again when the id moved between its look and its locks.
    static let namingAttempts = 100

    /// The lock a PUT creating `id` holds: a hash of the name in a space of its own, beside the contents' locks.
    package static func creationLock(of id: String) -> ContentHash {
        Array(("picpipe.id-creation:" + id).utf8).withUnsafeBytes { ContentHash(of: $0) }
    }

    /// What an id names now, when the preconditions hold for it (`nil`: it does not exist, which they allow).
    /// - Throws: 412 naming the precondition that does not hold.
    func currentState(of id: ImageID, meeting preconditions: Preconditions) throws -> ResolvedImage? {
        let image = try resolver.resolve(id)
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
    /// The id and the original go under the content's lock, so a PUT of the same bytes waits for both.
    func deleteImage(_ request: Request, context: some RequestContext) async throws -> Response {
        let id = try Self.id(context)
        let preconditions = Preconditions(request.headers)
        // The content whose lock to take: a content id's own (what it resolves to is then read under the lock: a
        // PUT of the same bytes may be naming it meanwhile), else the one the id's entry names now.
        var target = try id.contentHash ?? resolve(id).hash
        for _ in 0..<(preconditions.isEmpty ? Self.namingAttempts : Self.conditionalAttempts) {
            let locked = target
            let outcome = try await lifecycle.exclusively(locked) {
                try removeIfCurrent(id, naming: locked, preconditions: preconditions)
            }
            switch outcome {
            case .removed(let removed, let image):
                if let removed {
                    await lifecycle.announceRemoval(removed, sourceName: id.value)
                } else {
                    lifecycle.announceKeptContent(hash: image.hash, format: image.format, sourceName: id.value)
                }
                return Response(status: .noContent)
            case .moved(let now):
                // A PUT moved the id meanwhile: checked and tried again on what it names now (404 when gone).
                guard let now else { throw APIError.imageNotFound(id.value) }
                target = now
            }
        }
        guard preconditions.isEmpty else { throw APIError.preconditionFailed(.changing, target: "'\(id.value)'") }
        // An id moving under every attempt: removed whatever it names, its content checked under its own lock.
        if let removed = try index.remove(id: id.value),
            await !lifecycle.removeIfUnused(hash: removed.hash, format: removed.format, sourceName: id.value)
        {
            lifecycle.announceKeptContent(hash: removed.hash, format: removed.format, sourceName: id.value)
        }
        return Response(status: .noContent)
    }

    /// What `removeIfCurrent` did.
    private enum Removal: Sendable {
        /// The id (`image`) is gone; the original too when no other id used it.
        case removed(ContentLifecycle.RemovedOriginal?, image: ResolvedImage)
        /// The id names other content than the one locked now (`nil`: none): nothing was changed.
        case moved(ContentHash?)
    }

    /// Removes the id's entry while it names the `locked` content and the preconditions hold for it, then the
    /// original when no id names it: `deleteImage`'s work under that content's lock, the id resolved under it (until
    /// session 30 it was resolved before: a PUT that made a dropped picture's hash an id of its own in between was
    /// missed, and the DELETE of that hash answered 204 or 404 and left it). - Throws: 412.
    private func removeIfCurrent(_ id: ImageID, naming locked: ContentHash, preconditions: Preconditions) throws
        -> Removal
    {
        guard let image = try resolver.resolve(id) else { return .moved(nil) }
        guard image.hash == locked else { return .moved(image.hash) }
        if let failure = preconditions.failure(preconditionState(of: image), changesState: true) {
            throw APIError.preconditionFailed(failure, target: "'\(image.id.value)'")
        }
        // A content id without an entry names its dropped picture, which nothing can change.
        var freed: ContentLifecycle.RemovedOriginal?
        if let entry = image.entry {
            let change: IndexChange
            do {
                change = try index.remove(id: image.id.value, ifNaming: entry.hash)
            } catch let error where Self.isDiskFull(error) {
                // DELETE is the call that frees space: on a full disk the index cannot write the removal, so the
                // original of a picture no other id names goes first and its space takes the index's write, then
                // the journal's event (until session 36 such a DELETE answered 507 and freed nothing).
                guard
                    let removed = try lifecycle.removeOriginalToFreeSpace(
                        hash: image.hash, format: image.format, namedOnlyBy: image.id.value)
                else { throw error }
                freed = removed
                change = try index.remove(id: image.id.value, ifNaming: entry.hash)
            }
            guard case .made = change else { return .moved(try index.entry(for: image.id.value)?.hash) }
        }
        do {
            let removed = try freed ?? lifecycle.removeOriginalIfUnused(hash: image.hash, format: image.format)
            return .removed(removed, image: image)
        } catch {
            // The original stays (a read-only store): the id is put back, so the refused DELETE changes nothing.
            if freed == nil, let entry = image.entry { _ = try? index.upsert(entry) }
            throw error
        }
    }

    /// Whether a failed write found no space left on the store's disk.
    private static func isDiskFull(_ error: any Error) -> Bool {
        if case .full? = StoreHealth.diskCondition(of: error) { return true }
        return false
    }
}
