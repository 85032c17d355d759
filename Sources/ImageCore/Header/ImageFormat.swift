// The image formats picpipe reads and writes, sniffed from the bytes, never from a file name.

/// A raster format picpipe can decode (all of them) and encode (`isWritable`).
public enum ImageFormat: String, Sendable, Codable, CaseIterable {
    case jpeg
    case png
    case webp
    case gif
    /// HEIF with HEVC pictures (what phones write), read through libheif.
    case heic
    /// HEIF with AV1 pictures, read and written through libheif.
    case avif

    /// The format the first bytes announce, or `nil` when they are none picpipe reads.
    /// - Parameter bytes: the start of the file (12 bytes are enough for all but HEIF, whose `ftyp` box lists its
    ///   brands; 64 bytes hold every `ftyp` seen in practice).
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        if bytes.count >= 8, zip(bytes.prefix(8), pngSignature).allSatisfy({ $0 == $1 }) { return .png }
        if bytes.count >= 12, matches(bytes, at: 0, "RIFF"), matches(bytes, at: 8, "WEBP") { return .webp }
        if bytes.count >= 6, matches(bytes, at: 0, "GIF87a") || matches(bytes, at: 0, "GIF89a") { return .gif }
        if bytes.count >= 12, matches(bytes, at: 4, "ftyp") { return heifBrand(bytes) }
        return nil
    }

    /// The formats picpipe writes, in the order it names them.
    public static let writable: [ImageFormat] = [.jpeg, .png, .webp, .avif]

    /// Whether picpipe can write this format (GIF and HEIC are read only).
    public var isWritable: Bool { Self.writable.contains(self) }

    /// The usual file extension, without the dot.
    public var fileExtension: String {
        switch self {
        case .jpeg: return "jpg"
        case .png, .webp, .gif, .heic, .avif: return rawValue
        }
    }

    /// The media type for HTTP.
    public var mediaType: String { "image/" + rawValue }

    /// The name people know it by: JPEG, PNG, WebP, GIF, HEIC, AVIF.
    public var displayName: String { self == .webp ? "WebP" : rawValue.uppercased() }

    /// The format an output file name's extension names (`jpg`, `jpeg`, `png`, `webp`, `avif`, `gif`, `heic`,
    /// `heif`), in any case; `nil` for anything else.
    public init?(fileExtension: String) {
        switch fileExtension.lowercased() {
        case "jpg", "jpeg": self = .jpeg
        case "heic", "heif": self = .heic
        case let other: self.init(rawValue: other)
        }
    }

    /// HEIF's `ftyp` box: the major brand, then the compatible brands, decide between AVIF and HEIC.
    private static func heifBrand(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        let size = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        let end = min(bytes.count, max(size, 16))
        var brands: [String] = [String(decoding: UnsafeRawBufferPointer(rebasing: bytes[8..<12]), as: UTF8.self)]
        var offset = 16  // after the major brand and the minor version
        while offset + 4 <= end {
            brands.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 4)]), as: UTF8.self))
            offset += 4
        }
        let avif: Set<String> = ["avif", "avis"]
        let heic: Set<String> = ["heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs"]
        // The major brand first: a file may list both families among its compatible brands.
        if avif.contains(brands[0]) { return .avif }
        if heic.contains(brands[0]) { return .heic }
        if brands.contains(where: avif.contains) { return .avif }
        if brands.contains(where: heic.contains) { return .heic }
        // A plain image-collection brand (mif1, msf1) with no codec brand: libheif tells which when it decodes.
        if brands.contains("mif1") || brands.contains("msf1") { return .heic }
        return nil
    }

    private static func matches(_ bytes: UnsafeRawBufferPointer, at offset: Int, _ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard bytes.count >= offset + count else { return false }
        let pointer = text.utf8Start
        for index in 0..<count where bytes[offset + index] != pointer[index] { return false }
        return true
    }
}
