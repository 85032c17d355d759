// The route table's paths as patterns, for what the router cannot say by itself: which methods a path it has routes
// for allows (a method with no route at all, such as WebDAV's PROPFIND, is not registered, so it reached the
// router's 404), and whether a path has a dot segment (`.` or `..`), which no route takes.

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

    /// Whether the path (up to its query) has a `.` or `..` segment, also written `%2e` in any case.
    static func hasDotSegment(_ path: String) -> Bool {
        let bytes = path.utf8
        let end = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.endIndex
        // Most paths have no dot at all: one scan, no allocation.
        guard bytes[..<end].contains(UInt8(ascii: ".")) || bytes[..<end].contains(UInt8(ascii: "%")) else {
            return false
        }
        return path[..<end].split(separator: "/").contains { segment in
            let dots = segment.lowercased().replacingOccurrences(of: "%2e", with: ".")
            return dots == "." || dots == ".."
        }
    }
}
