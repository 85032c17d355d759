// GET / (the gallery page) and GET /gallery/{asset} (its scripts, style sheet and icon under content-hashed names).
import Crypto
import Foundation
import HTTPTypes
import Hummingbird

extension ImageAPI {
    /// The gallery's HTML: revalidated on every load (its ETag makes that a 304), under the strict CSP.
    func galleryPage(_ request: Request, context: some RequestContext) async throws -> Response {
        let html = GalleryAssets.shared.page(
            writeNeedsKey: !settings.apiKeys.isEmpty, readNeedsKey: access.protectReads)
        let bytes = Array(html.utf8)
        let eTag = "\"\(GalleryAsset.contentHash(bytes))\""
        var fields = Self.galleryHeaders()
        fields[.contentType] = "text/html; charset=utf-8"
        fields[.cacheControl] = "no-cache"
        fields[.eTag] = eTag
        if request.headers[.ifNoneMatch].map({ Self.matches($0, eTag: eTag) }) == true {
            return Response(status: .notModified, headers: fields)
        }
        fields[.contentLength] = String(bytes.count)
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// One asset by its hashed name, cached for a year as immutable (a new version has a new name); 404 otherwise.
    func galleryAsset(_ request: Request, context: some RequestContext) async throws -> Response {
        let name = try context.parameters.require("asset")
        guard let asset = GalleryAssets.shared.byHashedName[name] else {
            throw APIError(
                .notFound, code: "not_found",
                message: "no gallery file '\(name)' (names carry the hash of their content)")
        }
        var fields = Self.galleryHeaders()
        fields[.contentType] = asset.contentType
        fields[.cacheControl] = CachePolicy.immutable
        fields[.eTag] = asset.eTag
        if request.headers[.ifNoneMatch].map({ Self.matches($0, eTag: asset.eTag) }) == true {
            return Response(status: .notModified, headers: fields)
        }
        fields[.contentLength] = String(asset.bytes.count)
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    /// Headers every gallery response carries.
    static func galleryHeaders() -> HTTPFields {
        var fields = HTTPFields()
        fields[HTTPField.Name("Content-Security-Policy")!] = GalleryAssets.contentSecurityPolicy
        fields[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        fields[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return fields
    }

    /// Whether an If-None-Match list names the ETag (or is `*`).
    static func matches(_ header: String, eTag: String) -> Bool {
        header.split(separator: ",").contains {
            let tag = $0.trimmingCharacters(in: .whitespaces)
            return tag == "*" || tag == eTag || tag == "W/" + eTag
        }
    }
}
