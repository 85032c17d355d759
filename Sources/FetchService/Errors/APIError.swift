// Every error the HTTP API answers with: a status, a stable code and a sentence, rendered as
// {"error": {"code": …, "message": …}}.
import Foundation
import Hummingbird
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// An error with an HTTP meaning; the router turns it into a JSON error response.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible, Sendable {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// A stable, machine-readable code (`not_found`, `unsupported_media_type`, …).
    public var code: String
    /// A sentence a person can act on.
    public var message: String
    /// Extra headers (`Allow` for 405, `WWW-Authenticate` for 401, `Content-Range` for 416).
    public var headers: HTTPFields

    /// - Parameters: see the properties.
    public init(_ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    /// Hummingbird's error (a body over `collect(upTo:)`'s limit, …) in the API's form: its status, the status's
    /// reason as the code (`content_too_large`), its message or the reason.
    init(_ error: HTTPError) {
        self.init(
            error.status, code: error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_"),
            message: error.body ?? error.status.reasonPhrase)
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// The JSON body: `{"error":{"code":"…","message":"…"}}`, with `"request_id":"…"` when the request has one
    /// (until session 32 no answer named its request).
    public func jsonBody(requestID: String? = nil) -> String {
        let id = requestID.flatMap { $0.isEmpty ? nil : ",\"request_id\":\(JSONText.quoted($0))" } ?? ""
        return "{\"error\":{\"code\":\(JSONText.quoted(code)),\"message\":\(JSONText.quoted(message))\(id)}}"
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response(from: request, requestID: (context as? FetchRequestContext)?.requestID)
    }

    /// The JSON answer to `request`, its body naming `requestID`.
    func response(from request: Request, requestID: String?) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        let body = ByteBuffer(string: jsonBody(requestID: requestID))
        fields[.contentLength] = String(body.readableBytes)
        // HEAD answers carry the headers of the GET answer, without the body.
        return Response(
            status: status, headers: fields,
            body: request.method == .head ? ResponseBody() : ResponseBody(byteBuffer: body))
    }
}

extension APIError {
    /// 400: a malformed parameter, header or body.
    static func badRequest(_ message: String) -> APIError {
        APIError(.badRequest, code: "bad_request", message: message)
    }
    /// 400: an id that does not match `[A-Za-z0-9._-]{1,128}`.
    static func invalidID(_ id: String) -> APIError {
        APIError(
            .badRequest, code: "invalid_id",
            message: "id '\(JSONText.printable(id))' must match [A-Za-z0-9._-]{1,128} and not be '.' or '..'")
    }
    /// 404: no image with this id.
    static func imageNotFound(_ id: String) -> APIError {
        APIError(.notFound, code: "not_found", message: "no image with id '\(id)'")
    }
    /// 400: a path with a `.` or `..` segment, which picpipe does not resolve (nothing outside the store is reached).
    static func dotSegment(_ path: String) -> APIError {
        APIError(
            .badRequest, code: "invalid_path",
            message: "the path '\(JSONText.printable(path))' has a '.' or '..' segment: picpipe does not resolve dot "
                + "segments, so such a path is refused whole; send it without them")
    }
    /// 404: no such route.
    static func routeNotFound(_ path: String) -> APIError {
        APIError(.notFound, code: "not_found", message: "no route for \(JSONText.printable(path))")
    }
    /// 404: a thumbnail size that is not configured.
    static func unknownSize(_ size: String, configured: [String]) -> APIError {
        APIError(
            .notFound, code: "unknown_size",
            message: "thumbnail size '\(JSONText.printable(size))' is not configured; sizes: "
                + configured.joined(separator: ", "))
    }
    /// 405: the path exists, the method does not.
    static func methodNotAllowed(_ method: HTTPRequest.Method, allowed: [String]) -> APIError {
        var headers = HTTPFields()
        headers[.allow] = allowed.joined(separator: ", ")
        return APIError(
            .methodNotAllowed, code: "method_not_allowed",
            message: "\(method.rawValue) is not allowed here; allowed: \(allowed.joined(separator: ", "))",
            headers: headers)
    }
    /// 401: a key is needed and none (or an unknown one) was sent.
    static func unauthorized(_ message: String) -> APIError {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = "Bearer realm=\"picpipe\""
        return APIError(.unauthorized, code: "unauthorized", message: message, headers: headers)
    }
    /// 403: a signed URL that is wrong or expired.
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, code: "forbidden", message: message) }
    /// 413: the body is larger than `http.max_body_bytes`.
    static func bodyTooLarge(limit: Int) -> APIError {
        APIError(
            .contentTooLarge, code: "body_too_large",
            message: "the request body is over the limit of \(limit) bytes (http.max_body_bytes)")
    }
    /// 408: the body arrives slower than `http.min_upload_rate`.
    static func uploadTooSlow(received: Int, seconds: Double, minimum: Int) -> APIError {
        APIError(
            .requestTimeout, code: "upload_too_slow",
            message: "the body arrived at \(Int(Double(received) / max(seconds, 1))) bytes/s, under the minimum of "
                + "\(minimum) bytes/s (http.min_upload_rate); nothing was kept")
    }
    /// 503: the body was still arriving when serve's shutdown grace ended, and was cut.
    static func cutAtShutdown(_ cut: BodyCutAtShutdown) -> APIError {
        APIError(.serviceUnavailable, code: "shutting_down", message: cut.description)
    }
    /// 503: too many uploads at once (`http.max_concurrent_uploads`).
    static func tooManyUploads(limit: Int) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = "1"
        return APIError(
            .serviceUnavailable, code: "too_many_uploads",
            message: "\(limit) uploads are being received (http.max_concurrent_uploads); retry shortly",
            headers: headers)
    }
    /// 400: a request the HTTP parser refuses; the connection is closed, since where the next request would start
    /// cannot be trusted (two Content-Length headers, or one beside Transfer-Encoding, is how requests are smuggled).
    static func malformedRequest(_ reason: String) -> APIError {
        APIError(
            .badRequest, code: "malformed_request",
            message: "\(reason); the connection is closed")
    }
    /// 400: a body whose framing the decoder could not read (a chunk size that is not hex): the connection closes
    /// after the answer, which says so (`Connection: close`, RFC 9112 §9.6).
    static func malformedBody(_ reason: String) -> APIError {
        var headers = HTTPFields()
        headers[.connection] = "close"
        return APIError(
            .badRequest, code: "malformed_request", message: "\(reason); the connection is closed", headers: headers)
    }
    /// 501: the request asks for something the server does not implement (a transfer coding other than chunked);
    /// the connection is closed, since the body cannot be read.
    static func notImplemented(_ reason: String) -> APIError {
        APIError(.notImplemented, code: "not_implemented", message: "\(reason); the connection is closed")
    }
    /// 501: a request line whose method is a token the server does not implement (`FOO`); the connection is closed,
    /// since the rest of the head was not read.
    static func methodNotImplemented(_ method: String) -> APIError {
        notImplemented(
            "the method '\(JSONText.printable(method))' is not implemented: picpipe serves GET, HEAD, POST, PUT, "
                + "DELETE and OPTIONS")
    }
    /// 505: a request line with a well-formed HTTP version other than 1.0 and 1.1 (`HTTP/2.0`); the connection is
    /// closed.
    static func versionNotSupported(_ version: String) -> APIError {
        APIError(
            .httpVersionNotSupported, code: "http_version_not_supported",
            message: "\(JSONText.printable(version)) is not supported: picpipe speaks HTTP/1.1 and HTTP/1.0 (an "
                + "HTTP/2 client must not send an HTTP/2 version in an HTTP/1 request line); the connection is closed")
    }
    /// 408: the request head did not arrive within `http.header_timeout`.
    static func headerTimeout(seconds: Double) -> APIError {
        let shown = seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
        return APIError(
            .requestTimeout, code: "header_timeout",
            message: "the request head was not complete \(shown) s after its first byte "
                + "(http.header_timeout); the connection is closed")
    }
    /// 414: the request target is longer than `http.max_uri_bytes`.
    static func uriTooLong(limit: Int) -> APIError {
        APIError(
            .uriTooLong, code: "uri_too_long",
            message: "the request target (path and query) is over the limit of \(limit) bytes (http.max_uri_bytes)")
    }
    /// 431: the header section is larger than `http.max_header_bytes`.
    static func headerFieldsTooLarge(limit: Int) -> APIError {
        APIError(
            .requestHeaderFieldsTooLarge, code: "header_fields_too_large",
            message: "the request's headers are over the limit of \(limit) bytes (http.max_header_bytes); "
                + "send fewer or shorter headers")
    }
    /// 431: the request has more header fields than a head may have (a count, not `http.max_header_bytes`).
    static func tooManyHeaderFields(limit: Int) -> APIError {
        APIError(
            .requestHeaderFieldsTooLarge, code: "header_fields_too_large",
            message: "the request has more than \(limit) header fields, the most a request may have; send fewer")
    }
    /// 503: more connections than `http.max_connections` are open.
    static func tooManyConnections(limit: Int) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = "1"
        return APIError(
            .serviceUnavailable, code: "too_many_connections",
            message: "\(limit) connections are open (http.max_connections); retry shortly", headers: headers)
    }
    /// 400: a multipart upload with a second file part (one file per request; nothing is kept).
    /// - Parameter secondName: the second file part's file name, when it has one.
    static func tooManyFiles(secondName: String?) -> APIError {
        let named = secondName.map { " ('\(JSONText.printable($0))')" } ?? ""
        return APIError(
            .badRequest, code: "too_many_files",
            message: "one file per request: this one has a second file part\(named); send each file in a request "
                + "of its own. Nothing was kept")
    }
    /// 409: a content id (64 hex digits) PUT with a body whose hash is another.
    static func contentIDMismatch(id: String, body: String) -> APIError {
        APIError(
            .conflict, code: "content_id_mismatch",
            message: "a 64-hex-digit id is a content id: the body's SHA-256 is \(body), not \(id)")
    }
    /// 415: the body is not an image picpipe reads (or the Content-Type is not one the route takes).
    static func unsupportedMediaType(_ message: String) -> APIError {
        APIError(.unsupportedMediaType, code: "unsupported_media_type", message: message)
    }
    /// 422: an image that cannot be decoded within the limits (corrupt, truncated, a decompression bomb).
    static func unprocessableImage(_ reason: String) -> APIError {
        APIError(.unprocessableContent, code: "unprocessable_image", message: reason)
    }
    /// 416: a Range outside the file.
    static func rangeNotSatisfiable(size: Int) -> APIError {
        var headers = HTTPFields()
        headers[.contentRange] = "bytes */\(size)"
        return APIError(
            .rangeNotSatisfiable, code: "range_not_satisfiable",
            message: "the range is outside the \(size) bytes of the file",
            headers: headers)
    }
    /// 500: something failed on the server; the message says what, never a path outside the store.
    static func internalError(_ message: String) -> APIError {
        APIError(.internalServerError, code: "internal_error", message: message)
    }
    /// 507 when the store's disk is full, 503 when it is read-only, else 500: a write of the store failed.
    /// The disk's condition is recorded (and logged once) in `StoreHealth`, with the bytes the write needed
    /// (`needing`: the upload's size, when known).
    static func storeWriteFailed(errno code: Int32, path: String, doing what: String, needing: Int = 0) -> APIError {
        switch StoreHealth.shared.recordFailure(errno: code, path: path, needing: needing) {
        case .full?: return .insufficientStorage(what)
        case .readOnly?: return .storeReadOnly(what)
        default: return .internalError("could not \(what) (\(String(cString: strerror(code))))")
        }
    }
    /// 503 when the store is read-only, else 500: a file of the store could not be removed, so nothing was (the
    /// request changed nothing). The disk's condition is recorded in `StoreHealth`.
    static func storeRemovalFailed(errno code: Int32, path: String, doing what: String) -> APIError {
        guard case .readOnly? = StoreHealth.shared.recordFailure(errno: code, path: path, needing: 0) else {
            return .internalError("could not \(what) (\(String(cString: strerror(code)))); nothing was removed")
        }
        return APIError(
            .serviceUnavailable, code: "store_read_only",
            message: "could not \(what): the store is read-only; nothing was removed, try again when it is writable")
    }
    /// 507: no space left on the store's disk.
    static func insufficientStorage(_ what: String) -> APIError {
        APIError(
            HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), code: "insufficient_storage",
            message: "could not \(what): the store's disk is full; nothing was kept, try again when space is freed")
    }
    /// 503: the store is read-only.
    static func storeReadOnly(_ what: String) -> APIError {
        APIError(
            .serviceUnavailable, code: "store_read_only",
            message: "could not \(what): the store is read-only; nothing was kept")
    }
    /// 503: the pipeline could not take the work now.
    static func unavailable(_ message: String) -> APIError {
        APIError(.serviceUnavailable, code: "unavailable", message: message)
    }
    /// 503 with `Retry-After`: a function making the answer on request (a missing thumbnail, metadata not read yet)
    /// ran past its timeout. The picture is not at fault (a 422 said it was, until session 34, and clients that take
    /// a 4xx as final never asked again): the same request may pass, and the queued invocation, with its own
    /// attempts, may make it meanwhile. Not kept by caches (`no-store`).
    /// - Parameters:
    ///   - function: the function's name (`thumbnail`).
    ///   - message: what the runtime said (`timed out after 0.5 s`).
    ///   - timeout: the function's timeout in seconds: `Retry-After` is that, rounded up, at least 1 and at most 60.
    static func functionTimeout(_ function: String, message: String, timeout: Double) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(min(60, max(1, Int(timeout.rounded(.up)))))
        headers[.cacheControl] = "no-store"
        return APIError(
            .serviceUnavailable, code: "function_timeout",
            message: "the \(function) function \(message) (functions.\(function).timeout); the picture is not at "
                + "fault: retry later",
            headers: headers)
    }
    /// 503 with `Retry-After`: the same request may pass after `seconds`.
    static func unavailable(code: String = "unavailable", _ message: String, retryAfter seconds: Int) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(seconds)
        return APIError(.serviceUnavailable, code: code, message: message, headers: headers)
    }
}
