// GET / (the gallery page) and GET /gallery/{asset} (its scripts, style sheet and icon under content-hashed names).
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import MetadataService

extension ImageAPI {
    /// The gallery's HTML: revalidated on every load (its ETag makes that a 304), under the strict CSP.
    ///
    /// When reads are public it carries the first grid page of the filters in its own URL, the cameras and the
    /// event stream's position as a JSON data block: the page draws the grid while its module runs (no listing
    /// request before the thumbnails start, so the load event means "the first page of thumbnails loaded") and
    /// follows the stream from that position (no update falls between the listing and the stream).
    func galleryPage(_ request: Request, context: some RequestContext) async throws -> Response {
        let query = FormQuery(request.uri.query)
        let initial = access.protectReads ? nil : galleryInitialData { query[$0] }
        let html = GalleryAssets.shared.page(
            writeNeedsKey: access.requiresCredentials, acceptsTokens: access.acceptsTokens,
            readNeedsKey: access.protectReads,
            signedURLs: access.signer != nil,
            thumbnailFormat: thumbnails.labels.first.flatMap { thumbnails.recipes[$0]?.spec.format.rawValue },
            initialData: initial)
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

    /// `{"listing": GET /images?limit=<first page>&<filters>, "cameras": GET /cameras?limit=<camera page>,
    /// "last_event_id": N}`, the cameras with those the filters' make and model name added; a part that cannot be
    /// read is `null` (the page then asks the API and shows its error). Only the most used cameras come, so the page
    /// does not grow with the library (until session 35 every camera came: 156 KB of a 191 KB page at 2,787
    /// cameras); the page finds the others as its user types. Those of the filters come whatever their use: the
    /// page shows them chosen and counts their pictures.
    /// - Parameter query: a parameter of the page's URL by name.
    func galleryInitialData(_ query: (String) -> String?) -> String {
        let filters = GalleryPage.filterNames.reduce(into: [String: String]()) { found, name in
            if let value = query(name), !value.isEmpty { found[name] = value }
        }
        let firstPage = try? self.listing { name in
            name == "limit" ? String(GalleryPage.firstPageSize) : filters[name]
        }
        let cameras = try? camerasJSON(limit: GalleryPage.cameraPageSize) { camera in
            Self.filtered(camera.make, by: filters["make"]) && Self.filtered(camera.model, by: filters["model"])
                && (filters["make"] != nil || filters["model"] != nil)
        }
        let position = try? eventStreamPosition()
        return "{\"listing\":\(firstPage ?? "null"),\"cameras\":\(cameras ?? "null"),"
            + "\"last_event_id\":\(position.map(String.init) ?? "null")}"
    }

    /// Whether a camera's make or model is one a `make`/`model` filter lists (any, without the filter): as the
    /// stores compare them, by their case-folded keys.
    static func filtered(_ text: String?, by filter: String?) -> Bool {
        guard let filter else { return true }
        return text.map(MetadataQuery.caseKey) == MetadataQuery.caseKey(filter)
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
