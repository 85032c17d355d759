// POST /events/stream/signed-url: a signed URL for GET /events/stream, for clients that cannot send a header (a
// browser's EventSource) when reads need credentials: `/events/stream?expires=…&sig=…`, checked as the signed
// thumbnail URLs are (same key, same HMAC over the path and the expiry).
import Foundation
import Hummingbird
import PipelineCore

extension ImageAPI {
    /// The longest lifetime a stream URL may have: a day (the page mints a new one before it expires).
    static let maxEventStreamURLLifetime = 86_400
    /// The lifetime of a stream URL when the request names none.
    static let defaultEventStreamURLLifetime = 3600

    /// Mints `/events/stream?expires=…&sig=…` with the newest signing key. Body: empty, or
    /// `{"expires_in": 3600}` (1 s to a day). A browser reconnects to the same URL after the stream ends or the
    /// server restarts, so the URL is valid until it expires, across restarts while the signing key stays.
    func signEventStreamURL(_ request: Request, context: FetchRequestContext) async throws -> Response {
        guard let signer = access.signer else {
            throw APIError(
                .conflict, code: "signing_disabled",
                message: "signed URLs are not enabled: set http.signing_key (PICPIPE_SIGNING_KEY)")
        }
        let body = try await request.wholeBody(upTo: 4096, context: context)
        var lifetime = Self.defaultEventStreamURLLifetime
        if body.readableBytes > 0 {
            let asked: EventStreamURLRequest
            do {
                asked = try JSONDecoder().decode(EventStreamURLRequest.self, from: Data(body.readableBytesView))
            } catch let error as BodyFieldError {
                throw APIError.badRequest(error.message)
            } catch {
                throw APIError.badRequest(
                    "the body must be empty or JSON {\"expires_in\": 3600} (whole seconds)")
            }
            lifetime = asked.expiresIn ?? lifetime
        }
        guard (1...Self.maxEventStreamURLLifetime).contains(lifetime) else {
            throw APIError.badRequest("expires_in must be 1 to \(Self.maxEventStreamURLLifetime) seconds")
        }
        let expires = Int(Date().timeIntervalSince1970) + lifetime
        let url = signer.sign(path: "/events/stream", expires: expires)
        let expiresAt = Timestamp.string(Date(timeIntervalSince1970: Double(expires)), fractional: false)
        return Self.json(
            "{\"url\":\(JSONText.quoted(url)),\"expires\":\(expires),\"expires_at\":\(JSONText.quoted(expiresAt))}")
    }
}

/// The body of POST /events/stream/signed-url.
struct EventStreamURLRequest: Decodable {
    /// Seconds the URL stays valid.
    var expiresIn: Int?

    enum CodingKeys: String, CodingKey {
        case expiresIn = "expires_in"
    }

    init(from decoder: any Decoder) throws {
        expiresIn = try decoder.container(keyedBy: CodingKeys.self).wholeSeconds(forKey: .expiresIn)
    }
}
