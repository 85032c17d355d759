// The policy of an S3 POST Object form: base64 JSON with an expiration and the conditions the form must meet,
// checked as S3 checks it (exact and starts-with matches, content-length-range, and no field without a condition,
// so a signed form cannot carry fields its signer did not allow).
import Foundation

/// A POST Object policy.
struct PostPolicy: Sendable {
    /// One condition of the policy's `conditions`.
    enum Condition: Sendable, Equatable {
        /// `{"field": "value"}` or `["eq", "$field", "value"]`.
        case equals(field: String, value: String)
        /// `["starts-with", "$field", "prefix"]` (an empty prefix allows any value).
        case startsWith(field: String, prefix: String)
        /// `["content-length-range", min, max]`: the file's size in bytes, both ends included.
        case contentLength(ClosedRange<Int>)
    }

    /// After this instant the policy allows nothing.
    let expiration: Date
    let conditions: [Condition]

    /// Decodes the `policy` field.
    /// - Throws: `InvalidPolicyDocument` (400) saying what is wrong with it.
    init(encoded: String) throws {
        guard let data = Data(base64Encoded: encoded.trimmingCharacters(in: .whitespacesAndNewlines)),
            let json = try? JSONSerialization.jsonObject(with: data), let object = json as? [String: Any]
        else { throw Self.invalid("Invalid JSON (the policy field is base64 of a JSON object).") }
        for name in object.keys where name != "expiration" && name != "conditions" {
            throw Self.invalid("Unexpected field '\(name)'; a policy has 'expiration' and 'conditions'.")
        }
        guard let expirationText = object["expiration"] as? String else {
            throw Self.invalid("Policy missing expiration.")
        }
        guard let expiration = Self.parseExpiration(expirationText) else {
            throw Self.invalid(
                "Invalid 'expiration' value: '\(expirationText)' (ISO 8601 GMT, 2026-12-06T12:00:00.000Z).")
        }
        guard let list = object["conditions"] as? [Any] else { throw Self.invalid("Policy missing conditions.") }
        var conditions: [Condition] = []
        for element in list {
            if let pairs = element as? [String: Any] {
                for (name, value) in pairs {
                    guard let value = value as? String else {
                        throw Self.invalid("The condition on '\(name)' must have a text value.")
                    }
                    conditions.append(.equals(field: name.lowercased(), value: value))
                }
            } else if let parts = element as? [Any] {
                conditions.append(try Self.condition(parts))
            } else {
                throw Self.invalid("A condition must be an object or a list of three: \(element).")
            }
        }
        self.expiration = expiration
        self.conditions = conditions
    }

    /// The smallest and largest size the file may have: every `content-length-range` at once (nil when the policy
    /// sets none; a largest below the smallest when its ranges do not meet, which no file passes).
    var sizeLimits: (smallest: Int, largest: Int)? {
        var limits: (smallest: Int, largest: Int)?
        for case .contentLength(let range) in conditions {
            limits = (
                max(limits?.smallest ?? 0, range.lowerBound), min(limits?.largest ?? Int.max, range.upperBound)
            )
        }
        return limits
    }

    /// Checks the form against the policy: not expired, every condition met, every field allowed by one.
    /// - Parameters:
    ///   - bucket: the bucket of the URL the form was posted to (what `{"bucket": …}` speaks of).
    ///   - key: the key with `${filename}` replaced (S3 checks conditions on `$key` after the replacement).
    /// - Throws: `AccessDenied` (403) naming the expired policy, the failed condition or the fields not allowed.
    func check(_ form: PostForm, bucket: String, key: String, now: Date = Date()) throws {
        guard now < expiration else {
            throw AWSError.accessDenied("Invalid according to Policy: Policy expired.")
        }
        var allowed = Set<String>()
        for condition in conditions {
            let field: String
            let passed: Bool
            switch condition {
            case .equals(let name, let value):
                field = name
                passed = Self.value(of: name, form: form, bucket: bucket, key: key) == value
            case .startsWith(let name, let prefix):
                field = name
                passed = Self.value(of: name, form: form, bucket: bucket, key: key).hasPrefix(prefix)
            case .contentLength:
                continue
            }
            guard passed else {
                throw AWSError.accessDenied(
                    "Invalid according to Policy: Policy Condition failed: \(Self.text(condition))")
            }
            allowed.insert(field)
        }
        let extra = form.fields.map(\.name).filter { !allowed.contains($0) && !Self.isExempt($0) }
        guard extra.isEmpty else {
            throw AWSError.accessDenied(
                "Invalid according to Policy: Extra input fields: \(extra.joined(separator: ", "))")
        }
    }

    /// The fields no condition needs to allow: the signature, the policy itself, the file and `x-ignore-*`.
    static func isExempt(_ field: String) -> Bool {
        field == "x-amz-signature" || field == "policy" || field == "file" || field.hasPrefix("x-ignore-")
    }

    /// What a condition on `field` compares: the bucket posted to (its URL's, whatever a `bucket` field says), the
    /// expanded key, else the field as sent ("" when not).
    private static func value(of field: String, form: PostForm, bucket: String, key: String) -> String {
        switch field {
        case "bucket": return bucket
        case "key": return key
        default: return form[field] ?? ""
        }
    }

    /// A condition as the policy spells it, for messages.
    static func text(_ condition: Condition) -> String {
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        switch condition {
        case .equals(let field, let value): return "[\"eq\", \(quoted("$" + field)), \(quoted(value))]"
        case .startsWith(let field, let prefix): return "[\"starts-with\", \(quoted("$" + field)), \(quoted(prefix))]"
        case .contentLength(let range): return "[\"content-length-range\", \(range.lowerBound), \(range.upperBound)]"
        }
    }

    /// `["eq" | "starts-with", "$field", "value"]` or `["content-length-range", min, max]`.
    private static func condition(_ parts: [Any]) throws -> Condition {
        guard parts.count == 3, let operation = (parts[0] as? String)?.lowercased() else {
            throw invalid("A list condition has three elements, the first its operation: \(parts).")
        }
        switch operation {
        case "eq", "starts-with":
            guard let name = parts[1] as? String, name.hasPrefix("$"), name.count > 1, let value = parts[2] as? String
            else {
                throw invalid("The condition \(parts) must name a field as \"$field\" and give a text value.")
            }
            let field = String(name.dropFirst()).lowercased()
            return operation == "eq" ? .equals(field: field, value: value) : .startsWith(field: field, prefix: value)
        case "content-length-range":
            guard let low = integer(parts[1]), let high = integer(parts[2]), low >= 0, low <= high else {
                throw invalid("content-length-range needs two whole numbers, the smaller first: \(parts).")
            }
            return .contentLength(low...high)
        default:
            throw invalid("Unknown condition '\(operation)'; use eq, starts-with or content-length-range.")
        }
    }

    /// A whole number given as a JSON number or as text (boto3 writes numbers; some clients quote them).
    private static func integer(_ value: Any) -> Int? {
        if let text = value as? String { return Int(text) }
        // Foundation's JSON numbers are NSNumber, and `is Bool` holds for every NSNumber 0 or 1: true and false
        // are told apart by their type.
        guard let number = value as? NSNumber, !String(describing: type(of: value)).contains("Boolean") else {
            return nil
        }
        let double = number.doubleValue
        guard double.rounded() == double, abs(double) < 9e15 else { return nil }
        return Int(double)
    }

    /// `2026-12-06T12:00:00.000Z`, with or without the fraction.
    static func parseExpiration(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = withFraction.date(from: text) { return date }
        return ISO8601DateFormatter().date(from: text)
    }

    private static func invalid(_ message: String) -> AWSError {
        AWSError("InvalidPolicyDocument", status: 400, "Invalid Policy: \(message)")
    }
}
