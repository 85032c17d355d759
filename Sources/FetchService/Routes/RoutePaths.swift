// The route table's paths as patterns, for what the router cannot say by itself: which methods a path it has routes
// for allows (a method with no route at all, such as WebDAV's PROPFIND, is not registered, so it reached the
// router's 404), and whether a path it does not know climbs out of `/images/` with `..`.

/// The paths of the route table (`{parameter}` segments match any one segment) and the methods each allows.
struct RoutePaths: Sendable {
    private struct Pattern: Sendable {
        /// The path's segments; nil where any one segment matches.
        var segments: [Substring?]
        var methods: [String]
    }

    private let patterns: [Pattern]

    init(_ routes: [Route]) {
        var patterns: [Pattern] = []
        for route in routes {
            let segments = route.path.split(separator: "/").map { $0.hasPrefix("{") ? nil : $0 }
            if let index = patterns.firstIndex(where: { $0.segments == segments }) {
                patterns[index].methods.append(route.method.rawValue)
            } else {
                patterns.append(Pattern(segments: segments, methods: [route.method.rawValue]))
            }
        }
        self.patterns = patterns
    }

    /// The methods the routes of `path` allow, as `Allow` lists them; nil when no route has that path.
    func methods(forPath path: String) -> [String]? {
        let segments = path.split(separator: "/")
        return patterns.first { pattern in
            pattern.segments.count == segments.count
                && zip(pattern.segments, segments).allSatisfy { expected, segment in
                    expected.map { $0 == segment } ?? true
                }
        }?.methods
    }

    /// The id part of a path under `/images/` with a `..` segment (`..` or `%2e%2e`, in any case), else nil.
    static func climbingImageID(_ path: String) -> String? {
        guard path.hasPrefix("/images/") else { return nil }
        let rest = path.dropFirst("/images/".count)
        let climbs = rest.split(separator: "/", omittingEmptySubsequences: false).contains { segment in
            segment.lowercased().replacingOccurrences(of: "%2e", with: ".") == ".."
        }
        return climbs ? String(rest) : nil
    }
}
