// Partial configuration files: a missing key keeps its default.

extension KeyedDecodingContainer {
    /// The value under `key`, or `fallback` when the key is absent or null.
    func decode<T: Decodable>(_ key: Key, default fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}
