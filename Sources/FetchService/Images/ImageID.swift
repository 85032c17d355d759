// The `{id}` of /images/{id}: validated before anything touches the disk; never used to build a path.
import PipelineCore

/// A valid image id: `[A-Za-z0-9._-]{1,128}`, and neither `.` nor `..`.
///
/// An id is only a key: files are always found from the content hash it resolves to, so even a valid id
/// cannot name a file. Ids of 64 lowercase hex digits are content ids (the SHA-256 of the bytes).
public struct ImageID: Sendable, Hashable, CustomStringConvertible {
    /// The id as sent.
    public let value: String

    /// - Parameter value: the raw path parameter; `nil` unless it matches the pattern.
    public init?(_ value: String) {
        let bytes = value.utf8
        guard (1...128).contains(bytes.count), value != ".", value != "..",
            bytes.allSatisfy(Self.isAllowed)
        else { return nil }
        self.value = value
    }

    /// Parses a path parameter or throws the 400 the API answers.
    package static func parse(_ raw: String?) throws -> ImageID {
        guard let raw, let id = ImageID(raw) else { throw APIError.invalidID(raw ?? "") }
        return id
    }

    /// The content hash when the id is a content id (64 lowercase hex digits).
    public var contentHash: ContentHash? {
        value.utf8.count == 64 && value.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
            ? ContentHash(hex: value) : nil
    }

    public var description: String { value }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
