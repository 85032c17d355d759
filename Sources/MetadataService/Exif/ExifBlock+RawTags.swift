// Every tag of IFD0, ExifIFD, GPS, InteropIFD and IFD1, typed the way exiftool -n prints it.
import Foundation

extension ExifBlock {
    /// Lists longer than this are shown as a binary placeholder, as exiftool does for large arrays.
    private static let longestList = 64

    /// Every entry of every IFD, in file order.
    func rawTags() -> ExifTags {
        var tags: [ExifTag] = []
        for group in ExifGroup.allCases {
            forEach(in: group) { id, value in
                let name =
                    ExifTagNames.name(for: id, in: group) ?? Self.libexifName(id, in: group)
                    ?? "Exif_0x" + String(id, radix: 16).leftPadded(to: 4)
                tags.append(ExifTag(group: group, id: id, name: name, value: Self.typed(value, id: id, group: group)))
            }
        }
        return ExifTags(tags: tags)
    }

    /// One value as exiftool -n prints it.
    static func typed(_ value: ExifEntryValue, id: UInt16, group: ExifGroup) -> ExifValue {
        if group == .gps {
            switch id {
            case 0x02, 0x04, 0x14, 0x16:  // latitudes and longitudes: decimal degrees
                if let degrees = degrees(value) { return .real(degrees) }
                return .text("")
            case 0x07:  // GPSTimeStamp: H:M:S
                return .text(timeStamp(value))
            default: break
            }
        }
        switch (group, id) {
        case (.exif, 0x9286), (.ifd1, 0x9286), (.gps, 0x1B), (.gps, 0x1C):
            // UserComment, GPSProcessingMethod, GPSAreaInformation: whatever type the writer gave them, exiftool
            // reads the bytes as a charset code and text.
            return .text(comment(value))
        case (.ifd0, 0x9C9B...0x9C9F):  // XPTitle, XPComment, XPAuthor, XPKeywords, XPSubject: Windows' UCS-2LE
            return .text(utf16Text(value.bytes, bigEndian: false, guessOrder: false))
        default: break
        }
        switch value.format {
        case 2:
            return .text(value.text ?? "")
        case 7:
            return undefined(value, id: id, group: group)
        default:
            let count = value.availableCount
            if count == 0 { return .text("") }
            if count > longestList { return binary(value) }
            if count == 1 { return scalar(value, at: 0) }
            return .text((0..<count).map { listItem(value, at: $0) }.joined(separator: " "))
        }
    }

    /// One number of a list as exiftool prints it: rationals with 10 significant digits, floats as Perl does
    /// (15), so whole numbers have no ".0" ("24 70").
    private static func listItem(_ value: ExifEntryValue, at index: Int) -> String {
        if value.isInteger, let integer = value.integer(at: index) { return String(integer) }
        if let number = value.number(at: index) {
            return String(format: value.format == 5 || value.format == 10 ? "%.10g" : "%.15g", number)
        }
        return value.undefinedText(at: index) ?? ""
    }

    private static func scalar(_ value: ExifEntryValue, at index: Int) -> ExifValue {
        if value.isInteger, let integer = value.integer(at: index) { return .integer(integer) }
        if let number = value.number(at: index) { return .real(number) }
        return .text(value.undefinedText(at: index) ?? "")
    }

    private static func binary(_ value: ExifEntryValue) -> ExifValue {
        .text("(Binary data \(value.bytes.count) bytes, use -b option to extract)")
    }

    /// UNDEFINED values: versions are text, small codes numbers, comments text, the rest binary.
    private static func undefined(_ value: ExifEntryValue, id: UInt16, group: ExifGroup) -> ExifValue {
        switch (group, id) {
        case (_, 0x9000), (_, 0xA000), (.interop, 0x0002):  // ExifVersion, FlashpixVersion, InteropVersion
            return .text(value.text ?? "")
        case (_, 0x9101):  // ComponentsConfiguration
            return .text(value.bytes.prefix(longestList).map { String($0) }.joined(separator: " "))
        case (_, 0xA300), (_, 0xA301):  // FileSource, SceneType
            if value.bytes.count == 1 { return .integer(Int64(value.bytes[0])) }
            return binary(value)
        default:
            return binary(value)
        }
    }

    /// A UserComment-style value the way exiftool's ConvertExifText reads it: an 8-byte charset code ("ASCII\0\0\0",
    /// "UNICODE\0", "JIS\0\0\0\0\0", or NULs or spaces for undefined), then the text, trailing spaces trimmed.
    /// Shorter than 8 bytes, the value is the text; an unknown code is part of the text.
    static func comment(_ value: ExifEntryValue) -> String {
        let bytes = value.bytes
        guard bytes.count >= 8 else { return utf8Text(bytes) }
        let code = Array(bytes[0..<8])
        let body = UnsafeRawBufferPointer(rebasing: bytes[8...])
        let afterASCII = code.starts(with: Array("ASCII".utf8)) ? Array(code[5...]) : code
        let text: String
        if afterASCII.first == 0 || afterASCII.allSatisfy({ $0 == 0 || $0 == 0x20 }) {
            text = utf8Text(body)
        } else if code.starts(with: Array("UNICODE".utf8)) && (code[7] == 0 || code[7] == 0x20) {
            // Microsoft writes little-endian text even in big-endian EXIF: a BOM decides, else exiftool's guess.
            text = utf16Text(body, bigEndian: value.bigEndian, guessOrder: true)
        } else if code.starts(with: Array("JIS".utf8)) && code[3...].allSatisfy({ $0 == 0 || $0 == 0x20 }) {
            text = utf8Text(body)  // exiftool maps JIS X 0208; picpipe keeps the bytes
        } else {
            text = utf8Text(bytes)
        }
        var trimmed = Substring(text)
        while trimmed.last == " " { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }

    /// Bytes up to the first NUL as UTF-8 (invalid bytes replaced), untrimmed.
    private static func utf8Text(_ bytes: UnsafeRawBufferPointer) -> String {
        String(
            decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.firstIndex(of: 0) ?? bytes.count)]),
            as: UTF8.self)
    }

    /// UTF-16 text up to the first NUL: the byte order from a BOM, else `bigEndian`; with `guessOrder`, exiftool's
    /// guess overrides it: the byte that varies more, or is zero less often, is the low-order one.
    static func utf16Text(_ bytes: UnsafeRawBufferPointer, bigEndian: Bool, guessOrder: Bool) -> String {
        var start = 0
        var bigEndian = bigEndian
        var guessOrder = guessOrder
        if bytes.count >= 2, (bytes[0], bytes[1]) == (0xFE, 0xFF) || (bytes[0], bytes[1]) == (0xFF, 0xFE) {
            bigEndian = bytes[0] == 0xFE
            guessOrder = false
            start = 2
        }
        func units(bigEndian: Bool) -> [UInt16] {
            stride(from: start, to: bytes.count - 1, by: 2).map { index in
                bigEndian
                    ? UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
                    : UInt16(bytes[index + 1]) << 8 | UInt16(bytes[index])
            }
        }
        var read = units(bigEndian: bigEndian)
        if guessOrder {
            let high = Set(read.map { $0 >> 8 }).count
            let low = Set(read.map { $0 & 0xFF }).count
            let zeroHigh = read.filter { $0 & 0xFF00 == 0 }.count
            let zeroLow = read.filter { $0 & 0x00FF == 0 }.count
            if high > low || (high == low && zeroLow > zeroHigh) { read = units(bigEndian: !bigEndian) }
        }
        return String(decoding: read.prefix(while: { $0 != 0 }), as: UTF16.self)
    }

    /// GPSTimeStamp the way exiftool's ConvertTimeStamp makes it: the three parts (as exiftool reads rationals, an
    /// undefined one 0) summed to seconds, then "HH:MM:SS" with the seconds' fraction to 9 digits, trailing zeros
    /// dropped ("14:33:35.62"); so 25:61:75 is "26:02:15" and 14:33.5:0 is "14:33:30".
    private static func timeStamp(_ value: ExifEntryValue) -> String {
        var parts = [0.0, 0.0, 0.0]
        for index in 0..<min(3, value.availableCount) {
            let part = value.exiftoolNumber(at: index) ?? 0
            parts[index] = part.isFinite ? part : 0
        }
        var seconds = (parts[0] * 60 + parts[1]) * 60 + parts[2]
        var hours = (seconds / 3600).rounded(.towardZero)
        seconds -= hours * 3600
        var minutes = (seconds / 60).rounded(.towardZero)
        seconds -= minutes * 60
        var secondsText = String(format: "%012.9f", seconds)
        if (Double(secondsText) ?? 0) >= 60 {
            secondsText = "00"
            minutes += 1
            if minutes >= 60 {
                minutes -= 60
                hours += 1
            }
        } else {
            while secondsText.hasSuffix("0") { secondsText.removeLast() }
            if secondsText.hasSuffix(".") { secondsText.removeLast() }
        }
        return String(format: "%.2lld:%.2lld:", Int64(hours), Int64(minutes)) + secondsText
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
