// What the verifier needs of a request: its method, path, query and headers as received.

/// A request as SigV4 sees it, independent of the HTTP server.
public struct SignedRequest: Sendable {
    /// The HTTP method.
    public var method: String
    /// The path as sent (percent-encoded).
    public var path: String
    /// The raw query string, without `?` (a change decodes `queryPairs` again).
    public var query: String {
        didSet { queryPairs = query.isEmpty ? [] : SignatureV4.queryPairs(query) }
    }
    /// Every header as (name, value), in the order received.
    public var headers: [(String, String)]
    /// The query's decoded (name, value) pairs, in order (decoded once: the verifier and the APIs read them).
    public private(set) var queryPairs: [(String, String)]

    /// - Parameters: see the properties.
    public init(method: String, path: String, query: String, headers: [(String, String)]) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        queryPairs = query.isEmpty ? [] : SignatureV4.queryPairs(query)
    }

    /// The first value of a header (names compare case-insensitively).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.0.lowercased() == lower }?.1
    }

    /// The decoded query parameters (the first value of each name).
    public var queryItems: [String: String] {
        var items: [String: String] = [:]
        for (name, value) in queryPairs where items[name] == nil { items[name] = value }
        return items
    }
}
