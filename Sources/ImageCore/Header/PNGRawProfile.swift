// ImageMagick's raw EXIF profile in a PNG text chunk: a tEXt, zTXt or iTXt chunk named "Raw profile type exif" (or
// "Raw profile type APP1") whose text is "\nexif\n     NNN\n" and then the block in hex, 72 digits a line. ImageMagick
// wrote EXIF that way before PNG had eXIf, Pillow and GIMP read it back, and exiftool reads it (PNG.pm's
// ProcessProfile). A compressed chunk is inflated with libdeflate, never past `largestText`: a small zTXt can
// inflate to a thousand times its size.
import CDeflate

/// Reads the EXIF block of one PNG text chunk that holds an ImageMagick raw profile.
public enum PNGRawProfile {
    /// What a raw profile holds.
    public enum Content: Equatable, Sendable {
        /// The TIFF block (after any "Exif\0\0"), and exiftool's warning when the declared length is not the
        /// length held (the bytes held are read).
        case tiff([UInt8], note: String?)
        /// Why the profile cannot be read.
        case unreadable(String)
    }

    /// The most text a compressed profile may inflate to: the 64 KiB libexif reads take 131,072 hex digits and a
    /// newline every 72, so this leaves room eight times over.
    public static let largestText = 1 << 20

    /// The keywords whose profile can hold EXIF; an APP1 profile may hold XMP instead, which is not read here.
    private static let keywords = ["Raw profile type exif", "Raw profile type APP1"]

    /// Whether a text chunk's data starts with the keyword of a raw profile that can hold EXIF.
    public static func isNamed(_ data: UnsafeRawBufferPointer) -> Bool {
        guard let nul = data.prefix(80).firstIndex(of: 0) else { return false }
        return keywords.contains(String(decoding: UnsafeRawBufferPointer(rebasing: data[0..<nul]), as: UTF8.self))
    }

    /// What the text chunk `type` (tEXt, zTXt or iTXt) with `data` holds: `nil` when it is not a raw profile that
    /// holds EXIF, else the TIFF block (with exiftool's warning when the declared length is not the length held) or
    /// why the profile cannot be read.
    public static func exif(chunk type: String, data: UnsafeRawBufferPointer) -> Content? {
        guard isNamed(data), let nul = data.firstIndex(of: 0) else { return nil }
        let keyword = String(decoding: UnsafeRawBufferPointer(rebasing: data[0..<nul]), as: UTF8.self)
        let name = "\(type) chunk '\(keyword)'"
        var rest = UnsafeRawBufferPointer(rebasing: data[(nul + 1)...])
        var compressed = false
        switch type {
        case "zTXt":
            guard let method = rest.first else { return .unreadable("\(name) ends before its text") }
            guard method == 0 else { return .unreadable("\(name) uses compression method \(method), not zlib") }
            rest = UnsafeRawBufferPointer(rebasing: rest[1...])
            compressed = true
        case "iTXt":
            // A compression flag and method, then the language tag and the translated keyword, each ended by a NUL.
            guard rest.count >= 2 else { return .unreadable("\(name) ends before its text") }
            compressed = rest[0] != 0
            guard !compressed || rest[1] == 0 else {
                return .unreadable("\(name) uses compression method \(rest[1]), not zlib")
            }
            rest = UnsafeRawBufferPointer(rebasing: rest[2...])
            for _ in 0..<2 {
                guard let end = rest.firstIndex(of: 0) else { return .unreadable("\(name) ends before its text") }
                rest = UnsafeRawBufferPointer(rebasing: rest[(end + 1)...])
            }
        default:
            break
        }
        let text: [UInt8]
        if compressed {
            switch inflate(rest) {
            case .success(let inflated): text = inflated
            case .failure(let reason): return .unreadable("\(name) \(reason.description)")
            }
        } else {
            text = Array(rest)
        }
        return profile(text, name: name, keyword: keyword)
    }

    /// The block in ImageMagick's layout, read as exiftool reads it: a newline, the profile's name and a newline,
    /// blanks, the length in decimal and a newline, then hex digits with any blanks between them.
    private static func profile(_ text: [UInt8], name: String, keyword: String) -> Content? {
        let layout = "\(name) is not ImageMagick's raw profile (a newline, the profile name, the length, hex)"
        guard text.first == 0x0A, let nameEnd = text[1...].firstIndex(of: 0x0A) else { return .unreadable(layout) }
        var index = nameEnd + 1
        while index < text.count, isBlank(text[index]) { index += 1 }
        var declared = 0
        let digits = index
        while index < text.count, (0x30...0x39).contains(text[index]) {
            declared = min(declared * 10 + Int(text[index] - 0x30), Int(Int32.max))
            index += 1
        }
        guard index > digits, index < text.count, text[index] == 0x0A else { return .unreadable(layout) }
        var block: [UInt8] = []
        block.reserveCapacity(min(declared, (text.count - index) / 2))
        var high: UInt8?
        for byte in text[(index + 1)...] where !isBlank(byte) {
            guard let nibble = hexValue(byte) else { return .unreadable("\(name) holds a character that is not hex") }
            if let first = high {
                block.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        if let high { block.append(high << 4) }  // an odd digit count: Perl's pack('H*') pads the last byte
        let exifHeader: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]
        let tiff: [UInt8]
        if block.starts(with: exifHeader) {
            tiff = Array(block[6...])
        } else if block.starts(with: [0x4D, 0x4D, 0x00, 0x2A]) || block.starts(with: [0x49, 0x49, 0x2A, 0x00]) {
            tiff = block
        } else if keyword.hasSuffix("APP1") {
            return nil  // XMP, or another APP1 segment: not EXIF
        } else {
            return .unreadable("\(name) holds neither an \"Exif\\0\\0\" header nor a TIFF header")
        }
        // exiftool warns and reads the bytes there are.
        let note =
            declared == block.count ? nil : "\(name) is wrong size (should be \(declared) bytes but is \(block.count))"
        return .tiff(tiff, note: note)
    }

    /// Why a compressed text could not be inflated.
    private enum InflateFailure: Error, CustomStringConvertible {
        case tooLarge
        case corrupt
        case noMemory

        var description: String {
            switch self {
            case .tooLarge: return "inflates to more than \(PNGRawProfile.largestText) bytes (refused)"
            case .corrupt: return "is not valid zlib data"
            case .noMemory: return "cannot be inflated (no memory for libdeflate)"
            }
        }
    }

    /// Inflates zlib data into at most `largestText` bytes, starting small and growing the buffer: libdeflate
    /// stops when a buffer is full, so a bomb costs at most that much work and memory.
    private static func inflate(_ data: UnsafeRawBufferPointer) -> Result<[UInt8], InflateFailure> {
        guard let input = data.baseAddress, !data.isEmpty else { return .failure(.corrupt) }
        guard let decompressor = libdeflate_alloc_decompressor() else { return .failure(.noMemory) }
        defer { libdeflate_free_decompressor(decompressor) }
        var capacity = min(largestText, max(64 * 1024, data.count * 8))
        while true {
            var output = [UInt8](repeating: 0, count: capacity)
            var consumed = 0
            var produced = 0
            let result = output.withUnsafeMutableBytes { buffer in
                libdeflate_zlib_decompress_ex(
                    decompressor, input, data.count, buffer.baseAddress, buffer.count, &consumed, &produced)
            }
            switch result {
            case LIBDEFLATE_SUCCESS:
                output.removeSubrange(produced...)
                return .success(output)
            case LIBDEFLATE_INSUFFICIENT_SPACE where capacity < largestText:
                capacity = min(largestText, capacity * 4)
            case LIBDEFLATE_INSUFFICIENT_SPACE:
                return .failure(.tooLarge)
            default:
                return .failure(.corrupt)
            }
        }
    }

    /// Perl's `\s`: space, tab, newline, vertical tab, form feed, carriage return.
    private static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x37
        case 0x61...0x66: return byte - 0x57
        default: return nil
        }
    }
}
