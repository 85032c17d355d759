// A token's payload as it came: every claim by name, so the configured scope claim (`cognito:groups`, …) can be
// read, and the standard claims checked by `TokenVerifier` with its clock skew.
import Foundation
import JWTKit

/// One claim's value: a string, a number, a list of strings, or something picpipe does not read.
enum ClaimValue: Codable, Sendable, Equatable {
    case string(String)
    case number(Double)
    case strings([String])
    case other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let list = try? container.decode([String].self) {
            self = .strings(list)
        } else {
            self = .other
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        case .number(let number): try container.encode(number)
        case .strings(let list): try container.encode(list)
        case .other: try container.encodeNil()
        }
    }

    /// The value as a list of words: a space-separated string (OAuth's `scope`) or a list.
    var words: [String] {
        switch self {
        case .string(let text): return text.split(separator: " ").map(String.init)
        case .strings(let list): return list
        case .number, .other: return []
        }
    }
}

/// The payload, every claim by name. Its signature is checked by jwt-kit; the claims by `TokenVerifier`.
struct TokenClaims: JWTPayload {
    var claims: [String: ClaimValue]

    private struct Name: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Name.self)
        var claims: [String: ClaimValue] = [:]
        for key in container.allKeys { claims[key.stringValue] = try container.decode(ClaimValue.self, forKey: key) }
        self.claims = claims
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Name.self)
        for (name, value) in claims { try container.encode(value, forKey: Name(stringValue: name)) }
    }

    /// The claims are checked after the signature, with the configured skew (`TokenVerifier.check`).
    func verify(using algorithm: some JWTAlgorithm) async throws {}

    func string(_ name: String) -> String? {
        if case .string(let text)? = claims[name] { return text }
        return nil
    }

    func number(_ name: String) -> Double? {
        if case .number(let number)? = claims[name] { return number }
        return nil
    }
}
