// The image formats picpipe reads and writes, sniffed from the bytes, never from a file name.

/// A raster format picpipe can decode and encode.
public enum ImageFormat: String, Sendable, Codable, CaseIterable {
    case jpeg
    case png

    /// The format the first bytes announce, or `nil` when they are neither JPEG nor PNG.
    /// - Parameter bytes: the start of the file (8 bytes are enough).
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        if bytes.count >= 8, zip(bytes.prefix(8), pngSignature).allSatisfy({ $0 == $1 }) { return .png }
        return nil
    }

    /// The usual file extension, without the dot.
    public var fileExtension: String { self == .jpeg ? "jpg" : "png" }

    /// The media type for HTTP.
    public var mediaType: String { self == .jpeg ? "image/jpeg" : "image/png" }
}
