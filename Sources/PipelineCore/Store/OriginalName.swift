// Where an original lives: content-addressed by its SHA-256.
import ImageCore

/// The path of an original inside the `originals` area: `ab/abcdef….jpg`.
public enum OriginalName {
    /// The relative path for bytes of the given hash and format.
    public static func relativePath(hash: ContentHash, format: ImageFormat) -> String {
        "\(hash.shard)/\(hash.hex).\(format.fileExtension)"
    }
}
