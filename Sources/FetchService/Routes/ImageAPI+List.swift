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

    /// Lists images: for each metadata row (newest `taken_at` first, unknown dates last), the ids that resolve
    /// to it, sorted; an image is listed once the metadata function has read it.
    func listImages(_ request: Request, context: some RequestContext) async throws -> Response {
        let parameters = FormQuery(request.uri.query)
        return Self.json(try listing { parameters[$0] })
    }

    /// The listing's JSON (`{"items": [...], "next_cursor": ...}`) for the query parameters `parameter` names
    /// (`limit`, `cursor`, the filters): what GET /images answers, and what the gallery page embeds.
    func listing(_ parameter: (String) -> String?) throws -> String {
        let limit = try Self.integer(parameter("limit"), name: "limit") ?? Self.defaultPageSize
        guard (1...Self.maxPageSize).contains(limit) else {
            throw APIError.badRequest("limit must be 1 to \(Self.maxPageSize)")
        }
        var position = try parameter("cursor").map { try ListCursor(decoding: $0) } ?? ListCursor()
        // An empty filter is not given: an HTML GET form sends `make=` for "Any" (until session 29 `make=` and
        // `model=` matched nothing while an empty `taken_after`, `bbox` or `near` was a 400).
        func filter(_ name: String) -> String? { parameter(name).flatMap { $0.isEmpty ? nil : $0 } }
        var query = MetadataQuery(
            make: filter("make"), model: filter("model"),
            takenAfter: try Self.time(filter("taken_after"), name: "taken_after"),
            takenBefore: try Self.time(filter("taken_before"), name: "taken_before"))
        if let bbox = filter("bbox") { query.bbox = try Self.box(bbox) }
        if let near = filter("near") { query.near = try Self.circle(near) }
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
                for id in listedIDs(row) where listedThrough.map({ id > $0 }) ?? true {
                    if items.count == limit {
                        next = ListCursor(afterRow: before, row: row.cursor, afterID: lastInRow)
                        break scan
                    }
                    items.append(item(id: id, row: row))
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
    func listedIDs(_ row: StoredImage) -> [String] {
        guard let hash = ContentHash(hex: row.id) else { return [] }
        let named = index.ids(using: hash)
        guard named.isEmpty else { return named }
        return originalExists(row.metadata.file) ? [hash.hex] : []
    }

    /// Whether a metadata row's original (`file`, relative to the store or absolute) is in the store.
    func originalExists(_ file: String) -> Bool {
        let original = file.hasPrefix("/") ? file : layout.root.appendingPathComponent(file).path
        return Glibc.access(original, F_OK) == 0
    }

    /// One list item as JSON.
    func item(id: String, row: StoredImage) -> String {
        let entry = index.entry(for: id)
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
        return "{\"id\":\(JSONText.quoted(id)),\"sha256\":\(JSONText.quoted(row.id)),\"name\":\(text(name)),"
            + "\"size\":\(number(entry?.size ?? meta.bytes)),\"format\":\(text(entry?.format.rawValue ?? meta.format)),"
            + "\"width\":\(number(meta.width)),\"height\":\(number(meta.height)),\"taken_at\":\(text(meta.takenAt)),"
            + "\"urls\":{\"original\":\(JSONText.quoted(base)),\"metadata\":\(JSONText.quoted(base + "/metadata")),"
            + "\"thumbnails\":{\(thumbs.joined(separator: ","))}}}"
    }

    static func integer(_ text: String?, name: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text) else { throw APIError.badRequest("\(name) must be an integer") }
        return value
    }

    /// A `taken_after`/`taken_before` bound, normalised (`TakenTime`).
    static func time(_ text: String?, name: String) throws -> String? {
        guard let text else { return nil }
        guard let time = TakenTime.normalised(text) else {
            throw APIError.badRequest("\(name) must be \(TakenTime.shape), not '\(JSONText.printable(text))'")
        }
        return time
    }

    /// `S,W,N,E` in decimal degrees.
    static func box(_ text: String) throws -> GeoBox {
        let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0) }
        guard values.count == 4, let south = values[0], let west = values[1], let north = values[2],
            let east = values[3], (-90...90).contains(south), (-90...90).contains(north), south <= north,
            (-180...180).contains(west), (-180...180).contains(east)
        else {
            throw APIError.badRequest(
                "bbox must be S,W,N,E in decimal degrees (latitudes -90..90, S <= N; longitudes -180..180)")
        }
        return GeoBox(south: south, west: west, north: north, east: east)
    }
}

extension ImageAPI {
    /// `LAT,LON,KM`: a centre in decimal degrees and a radius in kilometres.
    static func circle(_ text: String) throws -> GeoCircle {
        let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0) }
        guard values.count == 3, let latitude = values[0], let longitude = values[1], let kilometres = values[2],
            (-90...90).contains(latitude), (-180...180).contains(longitude), kilometres > 0, kilometres <= 20_000
        else {
            throw APIError.badRequest(
                "near must be LAT,LON,KM (latitude -90..90, longitude -180..180, 0 < km <= 20000)")
        }
        return GeoCircle(latitude: latitude, longitude: longitude, kilometres: kilometres)
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
