// The static API keys: `http.api_keys` (every scope, as before) and `auth.api_keys` (each with its scopes).
import PipelineCore

/// Finds the caller an API key belongs to, comparing every key in constant time.
struct APIKeyring: Sendable {
    private struct Entry: Sendable {
        let key: [UInt8]
        let caller: Caller
    }

    private let entries: [Entry]

    /// - Parameters:
    ///   - plainKeys: `http.api_keys`: each holds every scope; named `http.api_keys[N]` in counts and plans.
    ///   - scopedKeys: `auth.api_keys`.
    init(plainKeys: [String], scopedKeys: [ScopedAPIKey]) {
        var entries: [Entry] = []
        for (index, key) in plainKeys.enumerated() where !key.isEmpty {
            entries.append(
                Entry(key: Array(key.utf8), caller: Caller(subject: "key:http.api_keys[\(index)]", scopes: [.admin])))
        }
        for key in scopedKeys where !key.key.isEmpty {
            let scopes = Set(key.scopes.compactMap(Scope.init(rawValue:)))
            entries.append(
                Entry(
                    key: Array(key.key.utf8),
                    caller: Caller(subject: "key:\(key.name)", scopes: scopes, planName: key.usagePlan == nil ? nil : key.name)))
        }
        self.entries = entries
    }

    /// Whether no key is configured.
    var isEmpty: Bool { entries.isEmpty }

    /// The caller whose key this is, or `nil`. Every key is compared, so the time does not say which one matched.
    func caller(presenting sent: [UInt8]) -> Caller? {
        var found: Caller?
        for entry in entries where URLSigner.constantTimeEqual(entry.key, sent) { found = entry.caller }
        return found
    }
}
