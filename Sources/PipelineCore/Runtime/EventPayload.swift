// Reading an invocation payload: an S3 event (`{"Records": [...]}`) or one bare record.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Payload parsing for `invoke`.
public enum EventPayload {
    /// Lambda's limit on an invocation's payload (6 MB, RequestResponse): the Lambda API's and `invoke`'s.
    public static let maxBytes = 6 * 1024 * 1024
    /// Lambda's limit on an asynchronous (Event) invocation's payload (1 MB).
    public static let maxEventBytes = 1_048_576

    /// The payload limit of an invocation of `type`.
    public static func maxBytes(for type: InvocationType) -> Int { type == .event ? maxEventBytes : maxBytes }

    /// Reads a payload file (`--payload @FILE`): a file, or a pipe such as `/dev/stdin`, at most `maxBytes`.
    /// - Throws: `RuntimeError.invalidPayload` naming the file and what is wrong (unreadable, a folder);
    ///   `RuntimeError.payloadTooLarge` past the limit (`@/dev/zero` ends there instead of filling the memory).
    public static func read(file path: String) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw RuntimeError.invalidPayload(
                "cannot read the payload file \(path): \(String(cString: strerror(errno)).lowercased())")
        }
        defer { close(fd) }
        var status = stat()
        if fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            throw RuntimeError.invalidPayload("the payload file \(path) is a folder")
        }
        do {
            if let data = try InputFile.readStream(fd, maxBytes: maxBytes) { return data }
        } catch {
            throw RuntimeError.invalidPayload("cannot read the payload file \(path): \(error)")
        }
        throw RuntimeError.payloadTooLarge(what: "the payload file \(path)", limit: maxBytes)
    }

    /// The records of a payload, in the store's terms (`S3EventRecord.inStoreTerms`: a record about the AWS front
    /// door's `originals` bucket is taken as S3 would send it).
    /// - Throws: `RuntimeError.invalidPayload` saying what is missing.
    public static func records(from data: Data) throws -> [S3EventRecord] {
        // Said as the Lambda API says it (until session 37 Foundation's "The given data was not valid JSON.").
        if data.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) {
            throw RuntimeError.invalidPayload(
                "the payload is empty; expected an S3 event {\"Records\": [...]} or one record")
        }
        let decoder = JSONDecoder()
        let document = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        // JSON that is no object (`[1,2]`, `"text"`) is said to be what it is; until session 34 Foundation said it:
        // "Expected to decode Dictionary<String, Any> but found an array instead".
        if let document, !(document is [String: Any]) {
            throw RuntimeError.invalidPayload(
                "the payload is \(describe(document)); expected an S3 event object {\"Records\": [...]} or one record "
                    + "(an object with eventVersion, eventName, s3, …)")
        }
        // A payload with `Records` is an event: what it lacks is said of it (e.g. "Records.0.s3.configurationId"),
        // not of a bare record it was never meant to be ("eventVersion").
        let isEvent = (document as? [String: Any])?["Records"] != nil
        do {
            if isEvent {
                let event = try decoder.decode(S3Event.self, from: data)
                guard !event.Records.isEmpty else { throw RuntimeError.invalidPayload("Records is empty") }
                return event.Records.map { $0.inStoreTerms() }
            }
            return [try decoder.decode(S3EventRecord.self, from: data).inStoreTerms()]
        } catch let error as DecodingError {
            let what = isEvent ? "not an S3 event" : "not an S3 event or record"
            throw RuntimeError.invalidPayload("\(what): \(describe(error, in: document))")
        }
    }

    private static func describe(_ error: DecodingError, in document: Any?) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing \(path(context.codingPath + [key]))"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            // What the field takes and what it holds, in JSON's words (`Records.0: expected an object, not a
            // number`), not Foundation's ("Expected to decode Dictionary<String, Any> but found number instead").
            let found = value(at: context.codingPath, in: document).map { ", not \(describe($0))" } ?? ""
            return "\(path(context.codingPath)): expected \(expected(type))\(found)"
        case .dataCorrupted(let context):
            let path = path(context.codingPath)
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// What a decoder expected, as JSON names it.
    static func expected(_ type: Any.Type) -> String {
        switch type {
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is UInt64.Type, is UInt.Type, is Double.Type, is Float.Type: return "a number"
        default: return String(describing: type).hasPrefix("Array<") ? "an array" : "an object"
        }
    }

    /// A JSON value's kind as a person says it: "a JSON array", "a number", "null".
    static func describe(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case is [Any]: return "a JSON array"
        case is [String: Any]: return "a JSON object"
        case is String: return "a string"
        case let number as NSNumber where type(of: number) == type(of: NSNumber(value: true)): return "true or false"
        case is NSNumber: return "a number"
        default: return "\(type(of: value))"
        }
    }

    /// The value a coding path leads to in a parsed document, if it is there.
    static func value(at codingPath: [any CodingKey], in document: Any?) -> Any? {
        var value = document
        for key in codingPath {
            if let object = value as? [String: Any] {
                value = object[key.stringValue]
            } else if let array = value as? [Any], let index = key.intValue, array.indices.contains(index) {
                value = array[index]
            } else {
                return nil
            }
        }
        return value
    }

    /// A coding path as a person writes it: `Records.0.s3.bucket` (an array index is its number; Foundation's
    /// `stringValue` for one is "Index 0", which read `Records.Index 0.eventVersion` until session 28).
    static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { key in key.intValue.map(String.init) ?? key.stringValue }.joined(separator: ".")
    }
}
