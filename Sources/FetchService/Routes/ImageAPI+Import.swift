// POST /images with {"url": …}: an invocation of the fetch function (FetchFunction), Event by default (202 with the
// invocation and its journal record; serve's fetch workers download it) or RequestResponse (the picture, once
// stored: 201, or 200 when the same URL had given the same bytes before). The function takes a dropped file's path:
// the original, then ObjectCreated:Put with the URL as its source name, which fans out to the thumbnail and metadata
// functions.
import Foundation
import Hummingbird
import PipelineCore

extension ImageAPI {
    /// Invokes the fetch function for the body's `url` (the route has checked `functions:invoke`).
    func importImage(_ request: Request, context: FetchRequestContext) async throws -> Response {
        let asked = try await ImportRequest.read(request, context: context)
        // A URL that is not http(s) is refused before anything is journaled; addresses are checked by the function.
        _ = try URLImporter.parse(asked.url)
        let record = FetchFunction.request(url: asked.url, bucket: layout.root.lastPathComponent)
        let type = asked.invocationType
        if type == .event {
            let queued = try await invoke(record, type: .event)
            let event = queued.eventID.flatMap { try? runtime.journal.event(id: $0) }
            let recordJSON =
                event.flatMap { try? JSONEncoder().encode($0.record) }.map { String(decoding: $0, as: UTF8.self) }
                ?? "null"
            logger.info(
                "import queued", metadata: ["url": "\(asked.url)", "invocation": "\(queued.invocationID ?? 0)"])
            return Self.json(
                "{\"function\":\"fetch\",\"invocation_type\":\"Event\",\"state\":\"queued\","
                    + "\"invocation_id\":\(queued.invocationID.map(String.init) ?? "null"),"
                    + "\"event_id\":\(queued.eventID.map(String.init) ?? "null"),"
                    + "\"source\":\(JSONText.quoted(asked.url)),\"record\":\(recordJSON)}",
                status: .accepted)
        }
        guard let slot = uploadSlots.take() else { throw APIError.tooManyUploads(limit: uploadSlots.limit) }
        defer { slot.release() }
        let answer = try await invoke(record, type: .requestResponse)
        guard case .object(let result)? = answer.payload, !answer.failed,
            case .string(let id)? = result["id"]
        else { throw Self.importError(answer.payload, url: asked.url) }
        var headers = HTTPFields()
        headers[.location] = "/images/\(id)"
        // The ETag of what it stored, as a POST's or a PUT's answer carries (until session 31 it had none).
        if case .string(let sha256)? = result["sha256"], let hash = ContentHash(hex: sha256) {
            headers[.eTag] = Self.eTag(of: hash)
        }
        let fields = result.merging([
            "invocation_id": answer.invocationID.map { .int(Int($0)) } ?? .null,
            "invocation_type": .string("RequestResponse"),
        ]) { $1 }
        let encoded = try? JSONEncoder().encode(JSONValue.object(fields))
        let body = encoded.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        // The same bytes from the same URL again created nothing: 200, as a PUT of an id that exists (until session
        // 37 a 201 Created with "duplicate": true).
        let duplicate = result["duplicate"] == .bool(true)
        return Self.json(body, status: duplicate ? .ok : .created, headers: headers)
    }

    /// Invokes the fetch function; a journal that cannot record it is 503 (nothing was queued).
    private func invoke(_ record: S3EventRecord, type: InvocationType) async throws -> InvocationResponse {
        do {
            return try await runtime.invoke(function: "fetch", record: record, type: type)
        } catch let error as RuntimeError {
            throw APIError.unavailable("the fetch function is not available: \(error)")
        } catch {
            switch StoreHealth.shared.recordFailure(error) {
            case .full?: throw APIError.insufficientStorage("journal the import")
            case .readOnly?: throw APIError.storeReadOnly("journal the import")
            default: throw APIError.unavailable("the import could not be journaled: \(error)")
            }
        }
    }

    /// The API error of a failed RequestResponse fetch of `url`: its code and status from the function's error
    /// message.
    static func importError(_ payload: JSONValue?, url: String) -> APIError {
        let shown = URLImporter.shown(url)
        guard case .object(let error)? = payload, case .string(let message)? = error["errorMessage"] else {
            return APIError(
                .unprocessableContent, code: "import_failed", message: "\(shown): the import failed; nothing was kept")
        }
        var type = ""
        if case .string(let text)? = error["errorType"] { type = text }
        let (code, status) = ImportFailure.status(ofMessage: message, errorType: type)
        var text = clientMessage(message, code: code)
        // A runtime timeout ("timed out after 30.0 s") does not name it.
        if !text.hasPrefix(shown) { text = "\(shown): \(text)" }
        return APIError(HTTPResponse.Status(code: status), code: code, message: text)
    }

    /// The function's error message as a client reads it beside its code: `<URL>: <reason>`, without the code the
    /// function's error carries after the URL (a client printing `code: message` read "import_failed:
    /// import_failed: …"), and without the source locations of a TLS library's errors (`at /…/tls_record.cc:127`:
    /// build paths). Until session 31 the URL went with the code, so some refusals did not name it.
    static func clientMessage(_ message: String, code: String) -> String {
        message.replacingOccurrences(of: code + ": ", with: "").replacing(#/ at /[^\s\])]*:\d+/#, with: "")
    }

    /// Downloads the URL into a checked temporary file of `spool` within the import timeout; the 413 of the
    /// spool's cap becomes `import_too_large`.
    /// - Throws: `APIError`s whose messages start with the URL (and where redirects led).
    static func download(_ url: String, importer: URLImporter, spool: UploadSpool) async throws -> SpooledUpload {
        try await importer.withinTimeout(url) {
            try await importer.open(url) { source in
                do {
                    return try await spool.spool(source.body, kind: .raw, declaredLength: nil)
                } catch let error as APIError where error.status == .contentTooLarge {
                    throw importer.tooLarge(source.label)
                } catch let error as APIError where error.status == .unsupportedMediaType {
                    throw APIError.unsupportedMediaType(
                        "\(source.label): not a JPEG, PNG, WebP, GIF, HEIC or AVIF image (sniffed from its bytes); "
                            + "nothing was kept")
                } catch let error as APIError where error.code == "bad_request" {
                    throw URLImporter.failed("\(source.label): \(error.message)")
                }
            }
        }
    }
}

/// The body of an import: `{"url": "https://…", "invocation_type": "Event" | "RequestResponse"}`.
struct ImportRequest: Decodable {
    var url: String
    /// Event (the default: queued, 202) or RequestResponse (fetched now, 201 with the picture).
    var invocationType: InvocationType

    enum CodingKeys: String, CodingKey {
        case url
        case invocationType = "invocation_type"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        url = try container.decode(String.self, forKey: .url)
        // Absent means Event; present it must be a type (null is refused, not taken as absent).
        invocationType =
            container.contains(.invocationType)
            ? try container.decode(InvocationType.self, forKey: .invocationType) : .event
        guard invocationType != .dryRun else {
            throw DecodingError.dataCorruptedError(
                forKey: .invocationType, in: container, debugDescription: "Event or RequestResponse")
        }
    }

    /// Whether a POST /images is an import (a JSON body) rather than an upload.
    static func isImport(_ request: Request) -> Bool {
        guard let type = request.headers[.contentType] else { return false }
        return type.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    /// The import asked for: a JSON body of at most 16 KiB (413 past it; 400 cut short or not this JSON).
    static func read(_ request: Request, context: FetchRequestContext) async throws -> ImportRequest {
        // Until session 33 a body cut short, or one whose framing broke, was refused as "an import body is JSON of at
        // most 16 KiB", as a longer one was (a 400).
        let body = try await request.wholeBody(upTo: 16 * 1024, context: context)
        let data = Data(body.readableBytesView)
        guard let asked = try? JSONDecoder().decode(ImportRequest.self, from: data), !asked.url.isEmpty else {
            throw APIError.badRequest(
                "\(problem(in: data)): the body must be JSON {\"url\": \"https://…\"} with an http or https URL, and "
                    + "\"invocation_type\" (if given) Event or RequestResponse")
        }
        return asked
    }

    /// What is wrong with an import body that does not decode, named (until session 37 every such body got the same
    /// sentence, whether the URL was missing, null or empty or the invocation type unknown).
    static func problem(in data: Data) -> String {
        guard let object = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) else {
            return "the body is not JSON"
        }
        guard let fields = object as? [String: Any] else { return "the body is not a JSON object" }
        switch fields["url"] {
        case nil: return "\"url\" is missing"
        case is NSNull: return "\"url\" is null"
        case let url as String where url.isEmpty: return "\"url\" is empty"
        case is String: break
        default: return "\"url\" is not a string"
        }
        let type = fields["invocation_type"]
        if let type = type as? String, type == InvocationType.dryRun.rawValue {
            return "\"invocation_type\" DryRun is not taken by an import (nothing would be fetched)"
        }
        if let type = type as? String { return "\"invocation_type\" \"\(type)\" is not an invocation type" }
        if type != nil { return "\"invocation_type\" is not a string" }
        return "the body cannot be read"
    }
}
