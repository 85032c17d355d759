// Reading one libexif entry's bytes as numbers and text, bounds-checked, in the block's byte order.
import CEXIF
import Foundation

/// A view of one entry's value bytes (valid only while its `ExifData` or `ExifDirectories` lives).
struct ExifEntryValue {
    /// The TIFF type: 1 BYTE, 2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL, 6 SBYTE, 7 UNDEFINED, 8 SSHORT, 9 SLONG,
    /// 10 SRATIONAL, 11 FLOAT, 12 DOUBLE.
    let format: Int
    /// The number of components the entry declares.
    let count: Int
    /// The value bytes.
    let bytes: UnsafeRawBufferPointer
    /// Motorola (big-endian) byte order.
    let bigEndian: Bool

    init?(entry: UnsafeMutablePointer<ExifEntry>, bigEndian: Bool) {
        let raw = entry.pointee
        guard let data = raw.data else { return nil }
        format = Int(raw.format.rawValue)
        count = Int(raw.components)
        bytes = UnsafeRawBufferPointer(start: data, count: Int(raw.size))
        self.bigEndian = bigEndian
    }

    /// A value read by picpipe's own walk (`ExifDirectories`).
    init(format: Int, count: Int, bytes: UnsafeRawBufferPointer, bigEndian: Bool) {
        self.format = format
        self.count = count
        self.bytes = bytes
        self.bigEndian = bigEndian
    }

    /// The same bytes read as another TIFF type (exiftool's `Format` override of a tag).
    func read(as format: Int) -> ExifEntryValue {
        ExifEntryValue(
            format: format, count: count * componentSize / max(1, Self.componentSize(of: format)), bytes: bytes,
            bigEndian: bigEndian)
    }

    /// The bytes before the first `byte` (a string's value as exiftool reads it, cut at its first NUL).
    func prefix(upTo byte: UInt8) -> ExifEntryValue {
        let end = bytes.firstIndex(of: byte) ?? bytes.count
        return ExifEntryValue(
            format: format, count: end / max(1, componentSize), bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<end]),
            bigEndian: bigEndian)
    }

    /// Bytes per component of the format, 0 for an unknown format.
    var componentSize: Int { Self.componentSize(of: format) }

    /// Bytes per component of a TIFF type, 0 for an unknown one.
    static func componentSize(of format: Int) -> Int {
        switch format {
        case 1, 2, 6, 7: return 1
        case 3, 8: return 2
        case 4, 9, 11: return 4
        case 5, 10, 12: return 8
        default: return 0
        }
    }

    /// How many components the bytes really hold (never more than declared).
    var availableCount: Int {
        let size = componentSize
        return size == 0 ? 0 : min(count, bytes.count / size)
    }

    var isInteger: Bool { [1, 3, 4, 6, 8, 9].contains(format) }
    var isFractional: Bool { [5, 10, 11, 12].contains(format) }

    private func u16(_ offset: Int) -> UInt16 {
        let value = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
        return bigEndian ? value : value.byteSwapped
    }

    private func u32(_ offset: Int) -> UInt32 {
        let value =
            UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
        return bigEndian ? value : value.byteSwapped
    }

    private func u64(_ offset: Int) -> UInt64 {
        let high = UInt64(u32(offset))
        let low = UInt64(u32(offset + 4))
        return bigEndian ? high << 32 | low : low << 32 | high
    }

    /// Component `index` as an integer, for integer formats.
    func integer(at index: Int) -> Int64? {
        guard index >= 0, index < availableCount else { return nil }
        switch format {
        case 1, 7: return Int64(bytes[index])
        case 6: return Int64(Int8(bitPattern: bytes[index]))
        case 3: return Int64(u16(index * 2))
        case 8: return Int64(Int16(bitPattern: u16(index * 2)))
        case 4: return Int64(u32(index * 4))
        case 9: return Int64(Int32(bitPattern: u32(index * 4)))
        default: return nil
        }
    }

    /// Component `index` as a number; `nil` for a rational with a zero denominator (exiftool's "undef"/"inf").
    func number(at index: Int) -> Double? {
        guard index >= 0, index < availableCount else { return nil }
        switch format {
        case 5:
            let numerator = u32(index * 8)
            let denominator = u32(index * 8 + 4)
            return denominator == 0 ? nil : Double(numerator) / Double(denominator)
        case 10:
            let numerator = Int32(bitPattern: u32(index * 8))
            let denominator = Int32(bitPattern: u32(index * 8 + 4))
            return denominator == 0 ? nil : Double(numerator) / Double(denominator)
        case 11:
            let value = Double(Float(bitPattern: u32(index * 4)))
            return value.isFinite ? value : nil
        case 12:
            let value = Double(bitPattern: u64(index * 8))
            return value.isFinite ? value : nil
        default:
            return integer(at: index).map(Double.init)
        }
    }

    /// Component `index` as exiftool reads it: a rational rounded to 10 significant digits (its "%.10g"), any
    /// other format as `number(at:)`. Sums of such parts then agree with exiftool to the last digit.
    func exiftoolNumber(at index: Int) -> Double? {
        guard let number = number(at: index) else { return nil }
        guard format == 5 || format == 10 else { return number }
        return Double(String(format: "%.10g", number)) ?? number
    }

    /// What exiftool prints for a rational with a zero denominator.
    func undefinedText(at index: Int) -> String? {
        guard format == 5 || format == 10, index < availableCount else { return nil }
        return u32(index * 8) == 0 ? "undef" : "inf"
    }

    /// The bytes as text up to the first NUL, trimmed of spaces; `nil` when nothing is left. A byte that is not
    /// UTF-8 is a `?`, as `--raw` and exiftool's JSON print it, so the `make` a user copies from either filters
    /// (until session 31 it was U+FFFD here and `?` in `--raw`).
    var text: String? {
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return Self.trimmed(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
    }

    /// Text of a buffer trimmed of spaces and NUL padding, read as exiftool's JSON reads it (`?` for a byte that is
    /// not UTF-8); `nil` when empty.
    static func trimmed(_ slice: UnsafeRawBufferPointer) -> String? {
        var start = 0
        var end = slice.count
        func isPadding(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0 || (0x09...0x0D).contains(byte) }
        while start < end && isPadding(slice[start]) { start += 1 }
        while end > start && isPadding(slice[end - 1]) { end -= 1 }
        guard start < end else { return nil }
        return ExifBlock.exiftoolText(UnsafeRawBufferPointer(rebasing: slice[start..<end]))
    }
}
