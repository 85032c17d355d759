// GET /images: newest first, filtered, with cursor pagination over (metadata row, id) positions.
import Foundation
import Hummingbird
import MetadataService
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

extension ImageAPI {
    /// The most items a page may hold, and the default.
    static let maxPageSize = 1000
    static let defaultPageSize = 50

    /// Lists images: for each metadata row (newest first by `taken_at`, else `added_at`: `StoredImage.listedAt`),
    /// the ids that resolve to it, sorted; an image is listed once the metadata function has read it.
    func listImages(_ request: Request, context: some RequestContext) async throws -> Response {
        let parameters = FormQuery(request.uri.query)
        // Its signed thumbnail URLs expire and its pictures come and go: checked before every use (until session 32
        // it said nothing, so a cache could keep it, and its expired URLs, as long as it liked).
        var headers = HTTPFields()
        headers[.cacheControl] = CachePolicy.revalidatedJSON(protected: access.protectReads)
        return Self.json(try listing { parameters[$0] }, headers: headers)
    }

    /// The listing's JSON (`{"items": [...], "next_cursor": ...}`) for the query parameters `parameter` names
    /// (`limit`, `cursor`, the filters): what GET /images answers, and what the gallery page embeds.
    func listing(_ parameter: (String) -> String?) throws -> String {
        // The filters and the limit are read as `picpipe query` reads them (QueryFilters: one set of rules; until
        // session 29 each front door had its own, and they differed on near's KM, blanks in bbox, bbox with near and
        // limit 0). An empty filter is not given: an HTML GET form sends `make=` for "Any".
        let filters = QueryFilters(
            make: parameter("make"), model: parameter("model"), takenAfter: parameter("taken_after"),
            takenBefore: parameter("taken_before"), bbox: parameter("bbox"), near: parameter("near"))
        let limit: Int
        var query: MetadataQuery
        do {
            let asked = try Self.integer(parameter("limit"), name: "limit") ?? Self.defaultPageSize
            limit = try QueryFilters.limit(asked, atMost: Self.maxPageSize)
            query = try filters.query()
        } catch let error as QueryFilterError {
            throw APIError.badRequest(error.message(naming: error.filter.parameter))
        }
        var position = try parameter("cursor").map { try ListCursor(decoding: $0) } ?? ListCursor()
        query.limit = limit + 1

        var items: [String] = []
        var next: ListCursor?
        var before = position.afterRow
        scan: while true {
            query.afterCursor = before
            let rows = try metadata.query(query)
            for row in rows {
                // The ids already listed are skipped only in the row they belong to: when that row is gone (its
                // picture deleted since), the next row is listed whole.
                let listedThrough = position.row.map { $0 == row.cursor } ?? true ? position.afterID : nil
                var lastInRow = listedThrough
                for id in try listedIDs(row) where listedThrough.map({ id > $0 }) ?? true {
                    if items.count == limit {
                        next = ListCursor(afterRow: before, row: row.cursor, afterID: lastInRow)
                        break scan
                    }
                    items.append(try item(id: id, row: row))
                    lastInRow = id
                }
                position.afterID = nil
                position.row = nil
                before = row.cursor
            }
            if rows.count < limit + 1 { break }
        }
        let nextText = next.map { JSONText.quoted($0.encoded) } ?? "null"
        return "{\"items\":[\(items.joined(separator: ","))],\"next_cursor\":\(nextText)}"
    }

    /// The ids that name a metadata row's content: the index's ids, else the content id itself while its original
    /// is in the store. A delete or a replace removes the index's id, then the original, then the metadata row: a
    /// listing read in between must not offer the content by its hash, whose thumbnails are already gone.
    func listedIDs(_ row: StoredImage) throws -> [String] {
        guard let hash = ContentHash(hex: row.id) else { return [] }
        let named = try index.ids(using: hash)
        guard named.isEmpty else { return named }
        return originalExists(row.metadata.file) ? [hash.hex] : []
    }

    /// Whether a metadata row's original (`file`, relative to the store or absolute) is in the store.
    func originalExists(_ file: String) -> Bool {
        let original = file.hasPrefix("/") ? file : layout.root.appendingPathComponent(file).path
        return Glibc.access(original, F_OK) == 0
    }

    /// One list item as JSON.
    func item(id: String, row: StoredImage) throws -> String {
        let entry = try index.entry(for: id)
        let meta = row.metadata
        // A content id keeps the name its picture arrived under (the dropped file's), with an entry or without.
        let name = entry?.name ?? (entry == nil || id == row.id ? row.displayName : id)
        let base = "/images/\(id)"
        let now = Int(Date().timeIntervalSince1970)
        let thumbs = thumbnails.labels.map { label -> String in
            var url = "\(base)/thumbnails/\(label)"
            if let signer = access.signer { url = signer.sign(path: url, expires: now + settings.signedURLLifetime) }
            return "\(JSONText.quoted(label)):\(JSONText.quoted(url))"
        }
        func number(_ value: Int?) -> String { value.map(String.init) ?? "null" }
        func text(_ value: String?) -> String { value.map(JSONText.quoted) ?? "null" }
        // The EXIF orientation beside the stored width and height, so a client lays out a turned photo without one
        // metadata request per picture (until session 29 items had no orientation). It is the value `/metadata` and
        // `query --json` give, exiftool's -n: 0 or 9, which EXIF leaves undefined, turn nothing but are not null
        // (until session 34 the listing alone gave null for them).
        let orientation = meta.orientation
        return "{\"id\":\(JSONText.quoted(id)),\"sha256\":\(JSONText.quoted(row.id)),\"name\":\(text(name)),"
            + "\"size\":\(number(entry?.size ?? meta.bytes)),\"format\":\(text(entry?.format.rawValue ?? meta.format)),"
            + "\"width\":\(number(meta.width)),\"height\":\(number(meta.height)),"
            + "\"orientation\":\(number(orientation)),\"taken_at\":\(text(meta.takenAt)),"
            + "\"added_at\":\(text(row.addedAt)),"
            + "\"urls\":{\"original\":\(JSONText.quoted(base)),\"metadata\":\(JSONText.quoted(base + "/metadata")),"
            + "\"thumbnails\":{\(thumbs.joined(separator: ","))}}}"
    }

    static func integer(_ text: String?, name: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text) else { throw APIError.badRequest("\(name) must be an integer") }
        return value
    }

}

/// Where a page ends: after the metadata row before the current one, and after one id of the current row.
struct ListCursor: Equatable {
    /// The metadata cursor of the row before the current one (`nil`: the current row is the first).
    var afterRow: String?
    /// The metadata cursor of the current row, whose ids `afterID` counts (`nil` in a v1 cursor: the first row read).
    var row: String?
    /// The last id of the current row already listed.
    var afterID: String?

    init(afterRow: String? = nil, row: String? = nil, afterID: String? = nil) {
        self.afterRow = afterRow
        self.row = row
        self.afterID = afterID
    }

    /// Decodes the opaque text the previous page returned (v2; a v1 cursor of earlier versions too).
    init(decoding text: String) throws {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64) else {
            throw APIError.badRequest("cursor is not one this API returned")
        }
        let parts = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? nil : String($0) }
        switch (parts.first, parts.count) {
        case ("v1", 3): (afterRow, row, afterID) = (parts[1], nil, parts[2])
        case ("v2", 4): (afterRow, row, afterID) = (parts[1], parts[2], parts[3])
        default: throw APIError.badRequest("cursor is not one this API returned")
        }
    }

    /// Opaque URL-safe text.
    var encoded: String {
        Data("v2\n\(afterRow ?? "")\n\(row ?? "")\n\(afterID ?? "")".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
