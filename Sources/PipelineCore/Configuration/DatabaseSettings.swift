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
        guard var components = URLComponents(string: text) else { return text }
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
}
