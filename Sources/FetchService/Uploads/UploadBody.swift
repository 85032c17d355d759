// What a POST or PUT body is, from its Content-Type: the image itself, or a multipart form holding it.

/// The two body shapes an upload may have.
package enum UploadBody: Equatable {
    /// `image/jpeg`, `image/png`, `image/webp`, `image/gif`, `image/heic`, `image/heif` or `image/avif`: the body
    /// is the file (its format is sniffed from its bytes all the same).
    case raw
    /// `multipart/form-data; boundary=…`: the first part with a file name (or named `file`) is the file.
    case multipart(boundary: String)

    /// The media types of a raw picture body, the formats the store takes (sniffed from the bytes all the same).
    package static let imageTypes = [
        "image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/heif", "image/avif",
    ]

    /// What to send, for the 415s.
    static let accepted = imageTypes.joined(separator: ", ") + " or multipart/form-data"

    /// Checks that the body is sent as it is: a Content-Encoding other than `identity` (gzip, br, …) is refused by
    /// name, since picpipe does not decode it (until session 36 a gzip upload was called "not a JPEG, PNG…").
    /// - Parameter contentEncoding: the request's Content-Encoding values.
    /// - Throws: 415 with `Accept-Encoding: identity` (RFC 9110 §12.5.3: it tells a coding from a media type).
    package static func requireIdentity(contentEncoding: [String]) throws {
        let codings = contentEncoding.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let coding = codings.first(where: { !$0.isEmpty && $0.lowercased() != "identity" }) else { return }
        var error = APIError.unsupportedMediaType(
            "the body is sent with Content-Encoding: \(JSONText.printable(coding)), which picpipe does not decode: "
                + "send the picture's bytes as they are, without a Content-Encoding; nothing was kept")
        error.headers[.acceptEncoding] = "identity"
        throw error
    }

    /// Reads the Content-Type.
    /// - Throws: 415 for any other type, 400 for a multipart type without a boundary.
    package static func kind(contentType: String?) throws -> UploadBody {
        guard let contentType else {
            throw APIError.unsupportedMediaType("send Content-Type \(accepted)")
        }
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        let type = parts.first?.lowercased() ?? ""
        if imageTypes.contains(type) { return .raw }
        switch type {
        case "multipart/form-data":
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else {
                    continue
                }
                var boundary = pair[1].trimmingCharacters(in: .whitespaces)
                if boundary.hasPrefix("\""), boundary.hasSuffix("\""), boundary.count >= 2 {
                    boundary = String(boundary.dropFirst().dropLast())
                }
                guard (1...70).contains(boundary.utf8.count) else { break }
                return .multipart(boundary: boundary)
            }
            throw APIError.badRequest("multipart/form-data needs a boundary parameter of 1 to 70 characters")
        default:
            throw APIError.unsupportedMediaType(
                "Content-Type '\(JSONText.printable(contentType))' is not accepted: send \(accepted)")
        }
    }
}
