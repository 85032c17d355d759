// Reading an invocation payload: an S3 event (`{"Records": [...]}`) or one bare record.
import Foundation

/// Payload parsing for `invoke`.
public enum EventPayload {
    /// The records of a payload.
    /// - Throws: `RuntimeError.invalidPayload` saying what is missing.
    public static func records(from data: Data) throws -> [S3EventRecord] {
        let decoder = JSONDecoder()
        if let event = try? decoder.decode(S3Event.self, from: data) {
            guard !event.Records.isEmpty else { throw RuntimeError.invalidPayload("Records is empty") }
            return event.Records
        }
        do {
            return [try decoder.decode(S3EventRecord.self, from: data)]
        } catch let error as DecodingError {
            throw RuntimeError.invalidPayload("not an S3 event or record: \(describe(error))")
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
