// Reading an invocation payload: an S3 event (`{"Records": [...]}`) or one bare record.
import Foundation

/// Payload parsing for `invoke`.
public enum EventPayload {
    /// The records of a payload.
    /// - Throws: `RuntimeError.invalidPayload` saying what is missing.
    public static func records(from data: Data) throws -> [S3EventRecord] {
        let decoder = JSONDecoder()
        // A payload with `Records` is an event: what it lacks is said of it (e.g. "Records.0.s3.configurationId"),
        // not of a bare record it was never meant to be ("eventVersion").
        let isEvent = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["Records"] != nil
        do {
            if isEvent {
                let event = try decoder.decode(S3Event.self, from: data)
                guard !event.Records.isEmpty else { throw RuntimeError.invalidPayload("Records is empty") }
                return event.Records
            }
            return [try decoder.decode(S3EventRecord.self, from: data)]
        } catch let error as DecodingError {
            let what = isEvent ? "not an S3 event" : "not an S3 event or record"
            throw RuntimeError.invalidPayload("\(what): \(describe(error))")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            let path = (context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".")
            return "missing \(path)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
