// A query string read as HTML forms and most HTTP clients write it (application/x-www-form-urlencoded).
import Foundation

/// The parameters of a query string, with `+` read as a space before percent-decoding.
///
/// Python's `requests`, `URLSearchParams` and every HTML form write a space as `+`; Hummingbird's parser keeps it
/// a plus, so `make=NIKON+CORPORATION` matched no camera. A plus sign itself arrives as `%2B`.
struct FormQuery {
    private var values: [String: String] = [:]

    /// - Parameter query: the raw query (no `?`), or `nil`.
    init(_ query: String?) {
        for pair in (query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = Self.decode(parts[0]) else { continue }
            // The first value of a repeated parameter counts, as in Hummingbird's dictionary.
            if values[key] == nil { values[key] = parts.count > 1 ? Self.decode(parts[1]) ?? String(parts[1]) : "" }
        }
    }

    /// The value of a parameter, or `nil`.
    subscript(_ name: String) -> String? { values[name] }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
