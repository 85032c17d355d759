// A MetadataQuery as PostgreSQL: the filters of MetadataQueryPlan, the GiST box prefilter, the same order/cursor.
import MetadataService

/// The SQL and values for one query.
struct PostgresMetadataQueryPlan {
    var sql: String
    var values: [SQLValue] = []

    /// The time the listing orders by (`StoredImage.listedAt`), as the index `image_listed_at` names it.
    static let listedAt = "COALESCE(taken_at, added_at)"

    init(_ query: MetadataQuery) throws {
        var conditions: [String] = []
        var values: [SQLValue] = []
        func bind(_ value: SQLValue) -> String {
            values.append(value)
            return "$\(values.count)"
        }
        // The keys are indexed by their md5 (a btree entry holds at most 2,704 bytes, and a Make may be longer):
        // the index finds the md5, the key itself decides.
        for (column, value) in [("make_key", query.make), ("model_key", query.model)] {
            guard let value else { continue }
            let key = bind(.text(MetadataQuery.caseKey(value)))
            conditions.append("md5(\(column)) = md5(\(key)) AND \(column) = \(key)")
        }
        if let after = query.takenAfter { conditions.append("taken_at >= \(bind(.text(after)))") }
        if let before = query.takenBefore { conditions.append("taken_at < \(bind(.text(before)))") }
        for box in [query.bbox, query.near?.boundingBox].compactMap({ $0?.searched }) {
            guard box.south <= box.north else { throw MetadataError.invalidQuery("bbox: south is north of north") }
            let south = bind(.real(box.south))
            let north = bind(.real(box.north))
            let west = bind(.real(box.west))
            let east = bind(.real(box.east))
            // The same expression as the GiST index, so the planner can use it; a box across the antimeridian is
            // two boxes.
            let position =
                "gps_latitude IS NOT NULL AND gps_longitude IS NOT NULL AND point(gps_longitude, gps_latitude)"
            if box.west <= box.east {
                conditions.append("\(position) <@ box(point(\(west), \(south)), point(\(east), \(north)))")
                conditions.append("gps_longitude BETWEEN \(west) AND \(east)")
            } else {
                conditions.append(
                    "(\(position) <@ box(point(\(west), \(south)), point(180, \(north))) "
                        + "OR \(position) <@ box(point(-180, \(south)), point(\(east), \(north))))")
                conditions.append("(gps_longitude >= \(west) OR gps_longitude <= \(east))")
            }
            conditions.append("gps_latitude BETWEEN \(south) AND \(north)")
            // A position off the globe (200 E, stored before the metadata function read it as none) is in no box.
            conditions.append("gps_latitude BETWEEN -90 AND 90 AND gps_longitude BETWEEN -180 AND 180")
        }
        let listedAt = Self.listedAt
        if let cursor = query.afterCursor {
            guard let bar = cursor.lastIndex(of: "|") else { throw MetadataError.invalidQuery("invalid cursor") }
            let after = String(cursor[..<bar])
            let sha256 = String(cursor[cursor.index(after: bar)...])
            if after.isEmpty {
                conditions.append("(\(listedAt) IS NULL AND sha256 > \(bind(.text(sha256))))")
            } else {
                let time = bind(.text(after))
                conditions.append(
                    "(\(listedAt) < \(time) OR (\(listedAt) = \(time) AND sha256 > \(bind(.text(sha256)))) "
                        + "OR \(listedAt) IS NULL)")
            }
        }
        var sql = "SELECT * FROM picpipe_metadata.image"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY \(listedAt) DESC NULLS LAST, sha256"
        if let limit = query.limit {
            guard limit >= 0 else { throw MetadataError.invalidQuery("limit must not be negative") }
            // With `near`, rows outside the circle are dropped after the box: the store counts while it reads.
            if query.near == nil { sql += " LIMIT \(limit)" }
        }
        self.sql = sql
        self.values = values
    }
}
