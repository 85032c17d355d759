// Text that ends up in a log line or a terminal table: a name picpipe did not choose (a file dropped into the upload
// folder, an S3 key, an EXIF string) may hold a line break, which would forge a line of its own, or an escape
// sequence, which would drive the reader's terminal. Such characters are written as escapes instead.
import Logging

/// Escaping the control characters of text bound for a log line or a table.
public enum LogText {
    /// `text` with its control characters (C0, DEL, C1, the Unicode line and paragraph separators) written as
    /// `\n`, `\r`, `\t` or `\u{1B}`; text without any is returned as it is, without a copy.
    public static func escaped(_ text: String) -> String {
        // In UTF-8 the C1 controls start with 0xC2 and the separators with 0xE2: text without those bytes or a C0
        // control or DEL needs no look at its characters.
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 || $0 == 0xE2 }) else { return text }
        return escaped(text) { scalar in
            switch scalar.value {
            case 0x00..<0x20, 0x7F...0x9F, 0x2028, 0x2029: return true
            default: return false
            }
        }
    }

    /// `text` with the characters `escape` picks written as `\n`, `\r`, `\t` or `\u{1B}` (S3's XML uses it for what
    /// XML 1.0 cannot hold); text without any is returned as it is.
    public static func escaped(_ text: String, where escape: (Unicode.Scalar) -> Bool) -> String {
        guard text.unicodeScalars.contains(where: escape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard escape(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            default: out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return out
    }

    /// Metadata with every text in it escaped.
    public static func escaped(_ metadata: Logger.Metadata) -> Logger.Metadata {
        metadata.mapValues(escaped)
    }

    /// One metadata value with its text escaped (lists and dictionaries through).
    public static func escaped(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): return .string(escaped(text))
        case .stringConvertible(let convertible):
            let text = convertible.description
            let safe = escaped(text)
            return safe == text ? value : .string(safe)
        case .array(let values): return .array(values.map(escaped))
        case .dictionary(let values): return .dictionary(values.mapValues(escaped))
        }
    }
}
