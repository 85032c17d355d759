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
        // libexif takes ThumbnailOffset and ThumbnailLength out of IFD1: put them back, in tag order.
        let pointers = [(UInt16(0x0201), thumbnailPointer?.offset), (UInt16(0x0202), thumbnailPointer?.length)]
        for case (let id, let value?) in pointers where !tags.contains(where: { $0.group == .ifd1 && $0.id == id }) {
            let tag = ExifTag(group: .ifd1, id: id, name: ExifTagNames.main[id] ?? "", value: .integer(value))
            let next = tags.firstIndex { $0.group == .ifd1 && $0.id > id } ?? tags.endIndex
            tags.insert(tag, at: next)
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
        var value = value
        if group != .gps, id == 0x9201 || id == 0x9204, value.format == 5 {
            // ShutterSpeedValue and ExposureCompensation are signed whatever the writer said (exiftool's Format
            // rational64s: the Leica M8 writes them unsigned).
            value = value.read(as: 10)
        }
        if group != .gps, let converted = apex(value, id: id) { return converted }
        switch (group, id) {
        case (.exif, 0x9286), (.ifd1, 0x9286), (.gps, 0x1B), (.gps, 0x1C):
            // UserComment, GPSProcessingMethod, GPSAreaInformation: whatever type the writer gave them, exiftool
            // reads the bytes as a charset code and text.
            // An ASCII-typed one is cut at its first NUL before that, as exiftool reads every string.
            return .text(comment(value.format == 2 ? value.prefix(upTo: 0) : value))
        case (.ifd0, 0x9C9B...0x9C9F):  // XPTitle, XPComment, XPAuthor, XPKeywords, XPSubject: Windows' UCS-2LE
            return .text(utf16Text(value.bytes, bigEndian: false, guessOrder: false))
        default: break
        }
        switch value.format {
        case 2:
            // exiftool keeps a string's spaces (ImageDescription "OLYMPUS DIGITAL CAMERA         "); only Make,
            // Model, Software and Artist lose their trailing white space, the SubSecTimes their trailing blanks.
            if group != .gps, id == 0x8298 { return .text(copyright(value.bytes)) }
            let text = exiftoolText(value.prefix(upTo: 0).bytes)
            switch (group, id) {
            case (.gps, _): return .text(text)
            case (_, 0x010F), (_, 0x0110), (_, 0x0131), (_, 0x013B):
                return .text(String(text.reversed().drop(while: \.isWhitespace).reversed()))
            case (_, 0x9290...0x9292):
                return .text(String(text.reversed().drop(while: { $0 == " " }).reversed()))
            default: return .text(text)
            }
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

    /// exiftool's ValueConv for the APEX tags, which -n applies too: ShutterSpeedValue is seconds, 2^-v (0 when v
    /// is not a number or |v| ≥ 100), ApertureValue and MaxApertureValue are F numbers, 2^(v/2) (an undefined 0/0
    /// counts 0, as Perl reads "undef"). v is the rational as exiftool reads it (10 significant digits) and the
    /// result is rounded as Perl prints a number (15). `nil` for any other tag, or a list.
    private static func apex(_ value: ExifEntryValue, id: UInt16) -> ExifValue? {
        guard id == 0x9201 || id == 0x9202 || id == 0x9205, value.availableCount == 1 else { return nil }
        guard value.isFractional || value.isInteger else { return nil }
        let apex = value.exiftoolNumber(at: 0)
        let converted: Double
        if id == 0x9201 {
            guard let apex, abs(apex) < 100 else { return .integer(0) }
            converted = pow(2, -apex)
        } else {
            if apex == nil, value.undefinedText(at: 0) == "inf" { return .text("Inf") }
            converted = pow(2, (apex ?? 0) / 2)
        }
        // 2^(v/2) of a huge v is infinite: Perl prints "Inf", and a JSON number cannot be.
        guard converted.isFinite else { return .text("Inf") }
        return .real(Double(String(format: "%.15g", converted)) ?? converted)
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
            return .text(exiftoolText(value.bytes))
        case (_, 0x9101):  // ComponentsConfiguration
            return .text(value.bytes.prefix(longestList).map { String($0) }.joined(separator: " "))
        case (_, 0xA300), (_, 0xA301):  // FileSource, SceneType
            // One byte is a number (exiftool reads a 1-byte UNDEFINED as int8u); more are their bytes as text
            // (the Sigma SD10's "\3\0\0\0" is "\u{3}").
            if value.bytes.count == 1 { return .integer(Int64(value.bytes[0])) }
            if value.bytes.count <= longestList { return .text(exiftoolText(value.bytes)) }
            return binary(value)
        case (_, 0xA302):  // CFAPattern
            return cfaPattern(value).map { .text($0) } ?? binary(value)
        default:
            return binary(value)
        }
    }

    /// CFAPattern as exiftool's DecodeCFAPattern reads it: the repeat width and height (SHORTs in the block's byte
    /// order, swapped when the pattern would not fit otherwise) and the colours, all as numbers ("2 2 1 0 2 1").
    /// `nil` under 4 bytes or for Panasonic's ASCII digits when they are not a pattern.
    private static func cfaPattern(_ value: ExifEntryValue) -> String? {
        var bytes = Array(value.bytes)
        if !bytes.isEmpty, bytes.allSatisfy({ (0x30...0x36).contains($0) }) {
            bytes = bytes.map { $0 - 0x30 }  // some Panasonic cameras write the pattern as ASCII digits
        }
        guard bytes.count >= 4 else { return nil }
        func short(_ at: Int, bigEndian: Bool) -> Int {
            bigEndian ? Int(bytes[at]) << 8 | Int(bytes[at + 1]) : Int(bytes[at + 1]) << 8 | Int(bytes[at])
        }
        var width = short(0, bigEndian: value.bigEndian)
        var height = short(2, bigEndian: value.bigEndian)
        if 2 + width * height > 2 + bytes.count - 4 {
            let swappedWidth = short(0, bigEndian: !value.bigEndian)
            let swappedHeight = short(2, bigEndian: !value.bigEndian)
            if swappedWidth * swappedHeight <= bytes.count - 4 { (width, height) = (swappedWidth, swappedHeight) }
        }
        return ([width, height] + bytes[4...].map(Int.init)).map(String.init).joined(separator: " ")
    }

    /// Copyright as exiftool reads it: the photographer's and the editor's notices (NUL-separated, each trimmed of
    /// trailing blanks) on two lines, the editor's line only when there is one.
    private static func copyright(_ bytes: UnsafeRawBufferPointer) -> String {
        let parts = bytes.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        func trimmed(_ part: Slice<UnsafeRawBufferPointer>) -> String {
            exiftoolText(
                UnsafeRawBufferPointer(rebasing: part[..<((part.lastIndex { $0 != 0x20 } ?? part.startIndex - 1) + 1)]))
        }
        guard let photographer = parts.first else { return "" }
        guard parts.count > 1 else { return exiftoolText(UnsafeRawBufferPointer(rebasing: photographer)) }
        let editor = trimmed(parts[1])
        return editor.isEmpty ? trimmed(photographer) : trimmed(photographer) + "\n" + editor
    }

    /// Bytes as exiftool's JSON prints a string: NULs removed, each byte that is not part of valid UTF-8 a "?".
    static func exiftoolText(_ bytes: UnsafeRawBufferPointer) -> String {
        questionMarked(bytes.filter { $0 != 0 })
    }

    /// UTF-8 with each byte that is not part of a valid sequence a "?", one per byte as exiftool writes them: a
    /// sequence cut short (`E2 82`, the end of a truncated emoji) is two "?", where Swift's decoder gives one error
    /// (until session 36 picpipe wrote one, and a make copied from exiftool filtered nothing).
    static func questionMarked(_ bytes: [UInt8]) -> String {
        var text = ""
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length =
                switch lead {
                case 0x00...0x7F: 1
                case 0xC2...0xDF: 2
                case 0xE0...0xEF: 3
                case 0xF0...0xF4: 4
                default: 0
                }
            if length > 0, index + length <= bytes.count {
                var iterator = bytes[index..<index + length].makeIterator()
                var decoder = UTF8()
                if case .scalarValue(let scalar) = decoder.decode(&iterator), iterator.next() == nil {
                    text.unicodeScalars.append(scalar)
                    index += length
                    continue
                }
            }
            text.append("?")
            index += 1
        }
        return text
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

    /// Bytes up to the first NUL as UTF-8 (each invalid byte a "?", as exiftool writes it; until session 36
    /// U+FFFD), untrimmed.
    private static func utf8Text(_ bytes: UnsafeRawBufferPointer) -> String {
        questionMarked(Array(bytes[0..<(bytes.firstIndex(of: 0) ?? bytes.count)]))
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
