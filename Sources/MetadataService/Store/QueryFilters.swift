// The filters of a metadata query as people write them (GET /images' parameters, `picpipe query`'s options), read by
// one set of rules, so the API and the command answer the same query the same way.
import Foundation

/// The filters of a query as text, each `nil` when not given. An empty value is not given either: it is what an HTML
/// GET form sends for "Any".
public struct QueryFilters: Sendable, Equatable {
    /// Camera make, compared without case.
    public var make: String?
    /// Camera model, compared without case.
    public var model: String?
    /// `taken_at` at or after this time prefix (`TakenTime`).
    public var takenAfter: String?
    /// `taken_at` before this time prefix.
    public var takenBefore: String?
    /// `S,W,N,E` in decimal degrees (W > E crosses the antimeridian).
    public var bbox: String?
    /// `LAT,LON,KM`: a centre in decimal degrees and a radius in kilometres.
    public var near: String?

    /// The widest circle `near` takes, in kilometres (half the way round the Earth is 20,015 km).
    public static let maxKilometres = 20_000.0

    /// - Parameters: see the properties.
    public init(
        make: String? = nil, model: String? = nil, takenAfter: String? = nil, takenBefore: String? = nil,
        bbox: String? = nil, near: String? = nil
    ) {
        self.make = make
        self.model = model
        self.takenAfter = takenAfter
        self.takenBefore = takenBefore
        self.bbox = bbox
        self.near = near
    }

    /// The query these filters ask for (no limit, no cursor). `bbox` and `near` together keep what is in both.
    /// - Throws: `QueryFilterError`, naming the filter and what is wrong with its value.
    public func query() throws(QueryFilterError) -> MetadataQuery {
        var query = MetadataQuery(make: Self.given(make), model: Self.given(model))
        query.takenAfter = try Self.time(Self.given(takenAfter), filter: .takenAfter)
        query.takenBefore = try Self.time(Self.given(takenBefore), filter: .takenBefore)
        query.bbox = try Self.given(bbox).map(Self.box)
        query.near = try Self.given(near).map(Self.circle)
        return query
    }

    /// A limit as both front doors take it: at least 1 (0 would list nothing, and a page of nothing pages on for
    /// ever), at most `maximum` when there is one (an HTTP page).
    public static func limit(_ value: Int, atMost maximum: Int? = nil) throws(QueryFilterError) -> Int {
        guard value >= 1, maximum.map({ value <= $0 }) ?? true else {
            let range = maximum.map { "1 to \($0)" } ?? "1 or more"
            throw QueryFilterError(filter: .limit, problem: " must be \(range), not \(value)")
        }
        return value
    }

    private static func given(_ text: String?) -> String? { text.flatMap { $0.isEmpty ? nil : $0 } }

    private static func time(_ text: String?, filter: QueryFilterError.Filter) throws(QueryFilterError) -> String? {
        guard let text else { return nil }
        guard let time = TakenTime.normalised(text) else {
            throw QueryFilterError(filter: filter, problem: " must be \(TakenTime.shape), not '\(printable(text))'")
        }
        return time
    }

    private static func box(_ text: String) throws(QueryFilterError) -> GeoBox {
        let parts = try numbers(
            text, names: ["S", "W", "N", "E"], filter: .bbox, shape: "four decimal numbers (degrees)")
        try latitude(parts[0], filter: .bbox)
        try longitude(parts[1], filter: .bbox)
        try latitude(parts[2], filter: .bbox)
        try longitude(parts[3], filter: .bbox)
        guard parts[0].value <= parts[2].value else {
            throw QueryFilterError(
                filter: .bbox, problem: ": S (\(parts[0].text)) must not be north of N (\(parts[2].text))")
        }
        return GeoBox(south: parts[0].value, west: parts[1].value, north: parts[2].value, east: parts[3].value)
    }

    private static func circle(_ text: String) throws(QueryFilterError) -> GeoCircle {
        let parts = try numbers(text, names: ["LAT", "LON", "KM"], filter: .near, shape: "three decimal numbers")
        try latitude(parts[0], filter: .near)
        try longitude(parts[1], filter: .near)
        guard parts[2].value > 0, parts[2].value <= maxKilometres else {
            throw QueryFilterError(
                filter: .near,
                problem: ": KM must be more than 0 and at most \(Int(maxKilometres)) (kilometres), not \(parts[2].text)"
            )
        }
        return GeoCircle(latitude: parts[0].value, longitude: parts[1].value, kilometres: parts[2].value)
    }

    /// One number of a list, with its name in the list's shape and the text it was written as.
    private struct Part {
        var name: String
        var text: String
        var value: Double
    }

    /// Decimal numbers separated by commas, blanks around each allowed (`5, 170, 15, 180`).
    private static func numbers(_ text: String, names: [String], filter: QueryFilterError.Filter, shape: String)
        throws(QueryFilterError) -> [Part]
    {
        let texts = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let values = texts.map(decimal)
        guard texts.count == names.count, values.allSatisfy({ $0?.isFinite == true }) else {
            throw QueryFilterError(
                filter: filter,
                problem: " must be \(names.joined(separator: ",")), \(shape) separated by commas, "
                    + "not '\(printable(text))'")
        }
        return names.indices.map { Part(name: names[$0], text: texts[$0], value: values[$0] ?? 0) }
    }

    /// A decimal number (`-33.5`, `.5`, `1e3`), or `nil`: `Double(String)` also reads hexadecimal (`0x10` is 16,
    /// `0x0.8p0` is 0.5), `nan` and `inf`, and a typo such as `0x10` was taken as a place until session 31.
    private static func decimal(_ text: String) -> Double? {
        guard text.wholeMatch(of: #/[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?/#) != nil else { return nil }
        return Double(text)
    }

    private static func latitude(_ part: Part, filter: QueryFilterError.Filter) throws(QueryFilterError) {
        guard (-90...90).contains(part.value) else {
            throw QueryFilterError(
                filter: filter, problem: ": \(part.name) must be a latitude from -90 to 90, not \(part.text)")
        }
    }

    private static func longitude(_ part: Part, filter: QueryFilterError.Filter) throws(QueryFilterError) {
        guard (-180...180).contains(part.value) else {
            throw QueryFilterError(
                filter: filter, problem: ": \(part.name) must be a longitude from -180 to 180, not \(part.text)")
        }
    }

    /// A value as a message may show it: control characters as `?`, at most 200 characters.
    private static func printable(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.prefix(200).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
    }
}

/// A filter whose value cannot be used: which filter, and what is wrong, for a message that names the filter the
/// way its front door spells it (`taken_after`, `--taken-after`).
public struct QueryFilterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The filters (and the limit) a query takes.
    public enum Filter: String, Sendable, CaseIterable {
        case takenAfter = "taken_after"
        case takenBefore = "taken_before"
        case bbox
        case near
        case limit

        /// The query parameter of `GET /images`.
        public var parameter: String { rawValue }
        /// The option of `picpipe query`.
        public var option: String { "--" + rawValue.replacingOccurrences(of: "_", with: "-") }
    }

    /// The filter.
    public var filter: Filter
    /// What is wrong, written to follow the filter's name: " must be …, not '2020-13'", ": KM must be …, not 0".
    public var problem: String

    /// - Parameters: see the properties.
    public init(filter: Filter, problem: String) {
        self.filter = filter
        self.problem = problem
    }

    /// The sentence with the filter named `name`.
    public func message(naming name: String) -> String { name + problem }

    /// The sentence with the query parameter's name.
    public var description: String { message(naming: filter.parameter) }
}
