// The one error type of ImageCore: each case carries what a user needs to act on it.

/// Why an image could not be read, resized or written.
public enum ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes are none of the formats picpipe reads.
    case unsupportedFormat(hint: String)
    /// The file is larger than the configured limit.
    case fileTooLarge(bytes: Int, limit: Int)
    /// The header declares more pixels than the configured limit (a decompression bomb, or just too big).
    case tooManyPixels(width: Int, height: Int, limit: Int)
    /// The header declares a zero or absurd dimension.
    case invalidDimensions(width: Int, height: Int)
    /// The file ends before the image data does.
    case truncated(detail: String)
    /// The codec library refused the data.
    case corrupt(format: ImageFormat, detail: String)
    /// An intact file in a variant picpipe's libraries do not decode (a 12-bit or lossless JPEG, a HEIF feature
    /// libheif lacks): not damaged, so not `corrupt` (until session 34 it was, and users took their files for broken).
    case unsupportedVariant(format: ImageFormat, detail: String)
    /// Encoding failed.
    case encodeFailed(format: ImageFormat, detail: String)
    /// A recipe or argument that cannot be applied (zero size, bad quality).
    case invalidRequest(String)
    /// A codec library opened on first use (libheif) could not be loaded; `reason` is the loader's.
    case libraryUnavailable(library: String, reason: String)
    /// The work was stopped by its owner (`CancellationFlag`): nothing is wrong with the picture.
    case cancelled

    public var description: String {
        switch self {
        case .unsupportedFormat(let hint):
            return "not a JPEG, PNG, WebP, GIF, HEIC or AVIF image (\(hint))"
        case .fileTooLarge(let bytes, let limit):
            return "file is \(bytes) bytes, over the limit of \(limit) bytes"
        case .tooManyPixels(let width, let height, let limit):
            return "image declares \(width)x\(height) = \(width * height) pixels, over the limit of \(limit) pixels"
        case .invalidDimensions(let width, let height):
            return "image declares invalid dimensions \(width)x\(height)"
        case .truncated(let detail):
            return "image data is truncated (\(detail))"
        case .corrupt(let format, let detail):
            // libjpeg's own messages often start with the same words ("Corrupt JPEG data: 12 extraneous bytes").
            let lead = "corrupt \(format.displayName) data"
            var rest = Substring(detail)
            if rest.lowercased().hasPrefix(lead.lowercased()) {
                rest = rest.dropFirst(lead.count).drop { $0 == ":" || $0 == " " }
            }
            if rest.hasPrefix("Warning: ") { rest = rest.dropFirst("Warning: ".count) }  // libjpeg's JWRN prefix
            return rest.isEmpty ? lead : "\(lead): \(rest)"
        case .unsupportedVariant(let format, let detail):
            return "unsupported \(format.displayName): \(detail)"
        case .encodeFailed(let format, let detail):
            return "could not encode \(format.displayName): \(detail)"
        case .invalidRequest(let message):
            return message
        case .libraryUnavailable(let library, let reason):
            return "\(library) could not be loaded: \(reason)"
        case .cancelled:
            return "the work was cancelled before it ended (its invocation timed out or was abandoned)"
        }
    }
}
