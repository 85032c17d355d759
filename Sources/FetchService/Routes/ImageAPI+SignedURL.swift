// POST /images/{id}/signed-url: mints the signed thumbnail URL the listing signs, for one size and lifetime.
import Foundation
import Hummingbird
import PipelineCore

extension ImageAPI {
    /// The longest lifetime a minted URL may have: 7 days, as S3's presigned URLs.
    static let maxSignedURLLifetime = 7 * 86_400

    /// Mints `/images/{id}/thumbnails/{size}?expires=…&sig=…` with the newest signing key.
    /// Body: `{"size": 256, "expires_in": 3600}` (`size` a configured size label, as a number or text;
    /// `expires_in` 1 s to 7 days, default `http` listing lifetime).
    func signImageURL(_ request: Request, context: FetchRequestContext) async throws -> Response {
        let id = try Self.id(context)
        guard let signer = access.signer else {
            throw APIError(
                .conflict, code: "signing_disabled",
                message: "signed URLs are not enabled: set http.signing_key (PICPIPE_SIGNING_KEY)")
        }
        let body = try await request.wholeBody(upTo: 4096, context: context)
        let asked: SignedURLRequest
        do {
            asked = try JSONDecoder().decode(SignedURLRequest.self, from: Data(body.readableBytesView))
        } catch let error as BodyFieldError {
            throw APIError.badRequest(error.message)
        } catch {
            throw APIError.badRequest(
                "the body must be JSON {\"size\": 256, \"expires_in\": 3600}: size a configured size (number or "
                    + "text), expires_in whole seconds")
        }
        guard thumbnails.recipes[asked.size] != nil else {
            throw APIError.unknownSize(asked.size, configured: thumbnails.labels)
        }
        let lifetime = asked.expiresIn ?? settings.signedURLLifetime
        guard (1...Self.maxSignedURLLifetime).contains(lifetime) else {
            throw APIError.badRequest("expires_in must be 1 to \(Self.maxSignedURLLifetime) seconds")
        }
        let label = asked.size
        _ = try resolve(id)
        let expires = Int(Date().timeIntervalSince1970) + lifetime
        let url = signer.sign(path: "/images/\(id.value)/thumbnails/\(label)", expires: expires)
        let expiresAt = Timestamp.string(Date(timeIntervalSince1970: Double(expires)), fractional: false)
        return Self.json(
            "{\"url\":\(JSONText.quoted(url)),\"expires\":\(expires),\"expires_at\":\(JSONText.quoted(expiresAt))}")
    }
}

/// The body of POST /images/{id}/signed-url.
struct SignedURLRequest: Decodable {
    /// The size label: `256` or `"256"` (`thumbnails.sizes` holds whole numbers).
    var size: String
    /// Seconds the URL stays valid.
    var expiresIn: Int?

    enum CodingKeys: String, CodingKey {
        case size
        case expiresIn = "expires_in"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Named, rather than the whole body's shape (until session 37 `{}` got the generic message).
        guard c.contains(.size) else {
            throw BodyFieldError(message: "size is missing: send {\"size\": 256}, a configured size")
        }
        if let number = try? c.decode(Int.self, forKey: .size) {
            size = String(number)
        } else if let number = try? c.decode(Decimal.self, forKey: .size), let whole = Self.wholeNumber(number) {
            // An integer past Int64 is a size too (the document's schema admits any integer), one no configuration
            // holds: 404 as the thumbnail route answers it in a path, not "the body must be JSON" (until session 32).
            size = whole
        } else {
            size = try c.decode(String.self, forKey: .size)
        }
        expiresIn = try c.wholeSeconds(forKey: .expiresIn)
    }

    /// The digits of a whole number (`nil` for a fraction such as 64.5, which the schema refuses).
    private static func wholeNumber(_ number: Decimal) -> String? {
        var value = number
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 0, .plain)
        guard rounded == number, !number.isNaN else { return nil }
        return NSDecimalNumber(decimal: number).stringValue
    }
}

/// A field of a JSON body that is not what the route takes; the route's 400 says which.
struct BodyFieldError: Error {
    var message: String
}

extension KeyedDecodingContainer {
    /// A lifetime in whole seconds (`expires_in`): `nil` when absent; null, a fraction or text is refused naming the
    /// field, as the document's schema (an integer) refuses it. Until session 32 null meant the default lifetime.
    func wholeSeconds(forKey key: Key) throws -> Int? {
        guard contains(key) else { return nil }
        if try decodeNil(forKey: key) {
            throw BodyFieldError(message: "\(key.stringValue) must be a whole number of seconds, not null")
        }
        guard let seconds = try? decode(Int.self, forKey: key) else {
            throw BodyFieldError(message: "\(key.stringValue) must be a whole number of seconds")
        }
        return seconds
    }
}
