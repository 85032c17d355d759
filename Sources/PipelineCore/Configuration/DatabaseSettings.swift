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

    /// The URL with its password replaced, for printing.
    public var redactedURL: String? {
        guard let url, var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "redacted"
        return components.string?.replacingOccurrences(of: ":redacted@", with: ":" + PicpipeConfiguration.redacted + "@")
    }
}
