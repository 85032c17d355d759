// The `database` section: where the journal, the metadata and the id index live when they are shared.
import Foundation

/// The `database` section. No URL (the default): SQLite files in `STORE/db/`, one `serve` per store. A
/// `postgres://` URL: every picpipe process of the installation shares that PostgreSQL database.
public struct DatabaseSettings: Codable, Sendable, Equatable {
    /// `postgres://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=…]` or `postgres:///DATABASE?host=/socket/dir`.
    public var url: String?

    /// The defaults.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case url
    }

    /// Decodes a partial section: missing keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decodeIfPresent(String.self, forKey: .url)
    }

    /// The URL with its secrets replaced, for printing.
    public var redactedURL: String? { url.map(Self.redact) }

    /// A database URL text with its secrets (the password, and `password=` and `sslpassword=` in its query)
    /// replaced by `<redacted>`.
    public static func redact(_ text: String) -> String {
        guard var components = URLComponents(string: text) else { return redactText(text) }
        let secrets: Set = ["password", "sslpassword"]
        if let items = components.queryItems, items.contains(where: { secrets.contains($0.name) }) {
            components.queryItems = items.map { item in
                secrets.contains(item.name) ? URLQueryItem(name: item.name, value: "redacted") : item
            }
        }
        if components.password != nil { components.password = "redacted" }
        guard let redacted = components.string, redacted != text else { return text }
        let shown = PicpipeConfiguration.redacted
        return redacted.replacingOccurrences(of: ":redacted@", with: ":\(shown)@")
            .replacingOccurrences(of: "password=redacted", with: "password=\(shown)")
    }

    /// The redaction of a text that does not parse as a URL (a port that is not a number, a stray space): the
    /// password of `scheme://user:password@` and the values of `password=` and `sslpassword=` go, whatever the rest.
    /// Until session 27 such a text was printed whole, its password with it.
    static func redactText(_ text: String) -> String {
        // Greedy up to the last @: a password holding a / or an @ is what makes such a text unparseable.
        let patterns = [#"(://[^:/?#@]*:).*@"#, #"((?:^|[?&])(?:ssl)?password=)[^&]*"#]
        var result = text
        for pattern in patterns {
            guard let expression = try? NSRegularExpression(pattern: pattern) else { continue }
            let template =
                "$1" + NSRegularExpression.escapedTemplate(for: PicpipeConfiguration.redacted)
                + (pattern.hasSuffix("@") ? "@" : "")
            result = expression.stringByReplacingMatches(
                in: result, range: NSRange(result.startIndex..., in: result), withTemplate: template)
        }
        return result
    }
}
