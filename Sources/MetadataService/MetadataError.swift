// The one error type of the metadata service: each case names the file and the reason.

/// Why a picture's metadata could not be read or stored.
public enum MetadataError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened or read.
    case unreadableFile(path: String, reason: String)
    /// The bytes are not a JPEG or PNG whose header can be read.
    case unsupportedImage(path: String, reason: String)
    /// A query argument that cannot be applied.
    case invalidQuery(String)
    /// Metadata without a SHA-256 cannot be stored: the hash is the image's id.
    case missingSHA256(path: String)

    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            return "\(path): cannot read the file (\(reason))"
        case .unsupportedImage(let path, let reason):
            return "\(path): \(reason)"
        case .invalidQuery(let message):
            return message
        case .missingSHA256(let path):
            return "\(path): metadata without a sha256 cannot be stored (the hash is the image's id)"
        }
    }
}
