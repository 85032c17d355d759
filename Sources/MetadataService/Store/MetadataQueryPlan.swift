// A MetadataQuery as SQL: filters, the R*Tree prefilter for GPS boxes, the newest-first order and the cursor.
import GRDB

/// The SQL and arguments for one query.
struct MetadataQueryPlan {
    var sql: String
    var arguments: StatementArguments

    /// The time the listing orders by (`StoredImage.listedAt`), as the index `image_listed_at` names it. Until
    /// session 32 the order was taken_at alone, and a picture without an EXIF date was listed after every dated one.
    static let listedAt = "COALESCE(taken_at, added_at)"

    init(_ query: MetadataQuery) throws {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let make = query.make {
            conditions.append("make_key = ?")
            _ = arguments.append(contentsOf: [MetadataQuery.caseKey(make)])
        }
        if let model = query.model {
            conditions.append("model_key = ?")
            _ = arguments.append(contentsOf: [MetadataQuery.caseKey(model)])
        }
        if let after = query.takenAfter {
            conditions.append("taken_at >= ?")
            _ = arguments.append(contentsOf: [after])
        }
        if let before = query.takenBefore {
            conditions.append("taken_at < ?")
            _ = arguments.append(contentsOf: [before])
        }
        for box in [query.bbox, query.near?.boundingBox].compactMap({ $0?.searched }) {
            guard box.south <= box.north else { throw MetadataError.invalidQuery("bbox: south is north of north") }
            // The R*Tree keeps 32-bit floats rounded outward: it prefilters, the typed columns decide.
            let longitude: String
            if box.west <= box.east {
                longitude = "g.max_lon >= ? AND g.min_lon <= ?"
                _ = arguments.append(contentsOf: [box.west, box.east])
            } else {
                longitude = "(g.max_lon >= ? OR g.min_lon <= ?)"
                _ = arguments.append(contentsOf: [box.west, box.east])
            }
            conditions.append(
                "id IN (SELECT g.id FROM image_geo g WHERE \(longitude) AND g.max_lat >= ? AND g.min_lat <= ?)")
            _ = arguments.append(contentsOf: [box.south, box.north])
            conditions.append("gps_latitude BETWEEN ? AND ?")
            _ = arguments.append(contentsOf: [box.south, box.north])
            if box.west <= box.east {
                conditions.append("gps_longitude BETWEEN ? AND ?")
            } else {
                conditions.append("(gps_longitude >= ? OR gps_longitude <= ?)")
            }
            _ = arguments.append(contentsOf: [box.west, box.east])
            // A position off the globe (200 E, stored before the metadata function read it as none) is in no box:
            // "179 E across to 179 W" would hold 200 E.
            conditions.append("gps_latitude BETWEEN -90 AND 90 AND gps_longitude BETWEEN -180 AND 180")
        }
        if let cursor = query.afterCursor {
            guard let bar = cursor.lastIndex(of: "|") else { throw MetadataError.invalidQuery("invalid cursor") }
            let listedAt = String(cursor[..<bar])
            let sha256 = String(cursor[cursor.index(after: bar)...])
            let time = Self.listedAt
            if listedAt.isEmpty {
                conditions.append("(\(time) IS NULL AND sha256 > ?)")
                _ = arguments.append(contentsOf: [sha256])
            } else {
                conditions.append("(\(time) < ? OR (\(time) = ? AND sha256 > ?) OR \(time) IS NULL)")
                _ = arguments.append(contentsOf: [listedAt, listedAt, sha256])
            }
        }
        var sql = "SELECT * FROM image"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        // SQLite puts nulls first going up, so last going down: the index's order.
        sql += " ORDER BY \(Self.listedAt) DESC, sha256"
        if let limit = query.limit {
            guard limit >= 0 else { throw MetadataError.invalidQuery("limit must not be negative") }
            // With `near`, rows outside the circle are dropped after the box: the store counts while it reads.
            if query.near == nil { sql += " LIMIT \(limit)" }
        }
        self.sql = sql
        self.arguments = arguments
    }
}
