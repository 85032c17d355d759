// The fields of an S3 POST Object form (a browser's upload, boto3's generate_presigned_post): what the form says
// before its file, looked up as S3 does, by name without regard to case.
import Foundation
import HTTPTypes

/// The fields a POST Object form sent before its `file` part, and the file's name.
struct PostForm: Sendable {
    /// The fields in the order sent, names lower-cased.
    let fields: [(name: String, value: String)]
    /// The file part's `filename`, which `${filename}` in the key stands for.
    let fileName: String?

    /// - Throws: `InvalidArgument` when a field is sent twice (which of the two the policy speaks of is unclear).
    init(fields sent: [(name: String, value: String)], fileName: String?) throws {
        var seen = Set<String>()
        var fields: [(name: String, value: String)] = []
        for (name, value) in sent {
            let lowered = name.lowercased()
            guard seen.insert(lowered).inserted else {
                throw AWSError.invalidArgument("The form sends the field '\(name)' more than once.")
            }
            fields.append((lowered, value))
        }
        self.fields = fields
        self.fileName = fileName
    }

    /// The value of the field `name` (any case), if sent.
    subscript(name: String) -> String? {
        let lowered = name.lowercased()
        return fields.first { $0.name == lowered }?.value
    }

    /// The object's key: the `key` field with `${filename}` replaced by the file's name (S3's one variable).
    /// - Throws: `InvalidArgument` without a `key` field.
    func key() throws -> String {
        guard let key = self["key"] else {
            throw AWSError.invalidArgument(
                "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields (the file must come last)."
            )
        }
        guard key.contains("${filename}") else { return key }
        // A browser sends the file's base name; some old ones sent the whole path.
        let name = fileName.map { String($0.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last ?? "") } ?? ""
        return key.replacingOccurrences(of: "${filename}", with: name)
    }

    /// Checks the fields that become headers of the object (`Content-Type`, `x-amz-meta-*`): a value with a line
    /// break or a NUL could not be sent back as it was given.
    /// - Throws: `InvalidArgument` naming the field.
    func checkHeaderValues() throws {
        for (name, value) in fields where name == "content-type" || name.hasPrefix("x-amz-meta-") {
            guard HTTPField.isValidValue(value) else {
                throw AWSError.invalidArgument("The value of the form field '\(name)' is not a valid header value.")
            }
        }
    }

    /// The `x-amz-meta-*` fields, names without the prefix (the user metadata a PutObject's headers carry).
    var userMetadata: [String: String] {
        var metadata: [String: String] = [:]
        for (name, value) in fields where name.hasPrefix("x-amz-meta-") {
            metadata[String(name.dropFirst("x-amz-meta-".count))] = value
        }
        return metadata
    }
}
