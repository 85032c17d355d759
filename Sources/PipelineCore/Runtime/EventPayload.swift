// Reading an invocation payload: an S3 event (`{"Records": [...]}`) or one bare record.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Payload parsing for `invoke`.
public enum EventPayload {
    /// Lambda's limit on an invocation's payload (6 MB, RequestResponse): the Lambda API's and `invoke`'s.
    public static let maxBytes = 6 * 1024 * 1024

    /// Reads a payload file (`--payload @FILE`): a file, or a pipe such as `/dev/stdin`, at most `maxBytes`.
    /// - Throws: `RuntimeError.invalidPayload` naming the file and what is wrong (unreadable, a folder, too large:
    ///   `@/dev/zero` ends at the limit instead of filling the memory).
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
        throw RuntimeError.invalidPayload(
            "the payload file \(path) is over \(maxBytes) bytes, Lambda's limit for an invocation's payload")
    }

    /// The records of a payload, in the store's terms (`S3EventRecord.inStoreTerms`: a record about the AWS front
    /// door's `originals` bucket is taken as S3 would send it).
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
                return event.Records.map { $0.inStoreTerms() }
            }
            return [try decoder.decode(S3EventRecord.self, from: data).inStoreTerms()]
        } catch let error as DecodingError {
            let what = isEvent ? "not an S3 event" : "not an S3 event or record"
            throw RuntimeError.invalidPayload("\(what): \(describe(error))")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = path(context.codingPath)
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// A coding path as a person writes it: `Records.0.s3.bucket` (an array index is its number; Foundation's
    /// `stringValue` for one is "Index 0", which read `Records.Index 0.eventVersion` until session 28).
    static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { key in key.intValue.map(String.init) ?? key.stringValue }.joined(separator: ".")
    }
}
