// POST /images with {"url": …}: the picture is fetched from the URL (URLImporter) into the same upload path as a
// posted body: spooled in uploads/, sniffed, checked, installed, journaled, indexed under its content id, with
// the source URL as its name and the event record's source name.
import Foundation
import Hummingbird
import PipelineCore

extension ImageAPI {
    /// Imports the picture at the body's `url`; 202 with its id, as an upload.
    func importImage(_ request: Request, context: FetchRequestContext) async throws -> Response {
        if access.requiresCredentials, let caller = context.caller, !caller.holds(.functionsInvoke) {
            throw APIError.insufficientScope(.functionsInvoke, caller: caller)
        }
        let asked = try await ImportRequest.read(request)
        guard let slot = uploadSlots.take() else { throw APIError.tooManyUploads(limit: uploadSlots.limit) }
        defer { slot.release() }
        let upload = try await Self.download(asked.url, importer: importer, spool: importSpool)
        do {
            try await validator.validate(upload)
        } catch {
            upload.discard()
            throw error
        }
        let id = upload.hash.hex
        try await lifecycle.install(upload, event: .objectCreatedPut, sourceName: asked.url)
        try index.upsert(
            IndexedImage(
                id: id, hash: upload.hash, format: upload.format, size: upload.size, name: asked.url, updatedAt: Date()))
        logger.info("imported", metadata: ["url": "\(asked.url)", "id": "\(id)", "bytes": "\(upload.size)"])
        var headers = HTTPFields()
        headers[.location] = "/images/\(id)"
        return Self.json(
            "{\"id\":\(JSONText.quoted(id)),\"source\":\(JSONText.quoted(asked.url)),\"size\":\(upload.size)}",
            status: .accepted, headers: headers)
    }

    /// Downloads the URL into a checked temporary file of `spool` within the import timeout; the 413 of the
    /// spool's cap becomes `import_too_large`.
    static func download(_ url: String, importer: URLImporter, spool: UploadSpool) async throws -> SpooledUpload {
        try await importer.withinTimeout {
            let source = try await importer.open(url)
            do {
                return try await spool.spool(source.body, kind: .raw, declaredLength: nil)
            } catch let error as APIError where error.status == .contentTooLarge {
                throw importer.tooLarge()
            } catch let error as APIError where error.status == .unsupportedMediaType {
                throw APIError.unsupportedMediaType(
                    "\(source.finalURL) is not a JPEG, PNG, WebP, GIF, HEIC or AVIF image (sniffed from its bytes); nothing was kept")
            } catch let error as APIError where error.code == "bad_request" {
                throw URLImporter.failed("\(source.finalURL): \(error.message)")
            }
        }
    }
}

/// The body of an import: `{"url": "https://…"}`.
struct ImportRequest: Decodable {
    var url: String

    /// Whether a POST /images is an import (a JSON body) rather than an upload.
    static func isImport(_ request: Request) -> Bool {
        guard let type = request.headers[.contentType] else { return false }
        return type.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    static func read(_ request: Request) async throws -> ImportRequest {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: 16 * 1024)
        } catch {
            throw APIError.badRequest("an import body is JSON of at most 16 KiB: {\"url\": \"https://…\"}")
        }
        guard let asked = try? JSONDecoder().decode(ImportRequest.self, from: Data(body.readableBytesView)),
            !asked.url.isEmpty
        else { throw APIError.badRequest("the body must be JSON {\"url\": \"https://…\"} with an http or https URL") }
        return asked
    }
}
