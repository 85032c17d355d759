// Every tag of IFD0, ExifIFD, GPS, InteropIFD and IFD1, typed the way exiftool -n prints it.

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
            return .text((0..<count).map { text(of: scalar(value, at: $0)) }.joined(separator: " "))
        }
    }

    private static func scalar(_ value: ExifEntryValue, at index: Int) -> ExifValue {
        if value.isInteger, let integer = value.integer(at: index) { return .integer(integer) }
        if let number = value.number(at: index) { return .real(number) }
        return .text(value.undefinedText(at: index) ?? "")
    }

    private static func text(of value: ExifValue) -> String {
        switch value {
        case .integer(let integer): return String(integer)
        case .real(let real): return String(real)
        case .text(let text): return text
        }
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
        case (.exif, 0x9286), (.ifd1, 0x9286), (.gps, 0x1B), (.gps, 0x1C):  // comments: 8-byte charset code, then text
            return .text(comment(value))
        default:
            return binary(value)
        }
    }

    /// A UserComment-style value: "ASCII\0\0\0", "UNICODE\0" or "\0\0\0\0\0\0\0\0" followed by the text.
    private static func comment(_ value: ExifEntryValue) -> String {
        let bytes = value.bytes
        guard bytes.count > 8 else { return "" }
        let body = UnsafeRawBufferPointer(rebasing: bytes[8...])
        if bytes.starts(with: Array("UNICODE".utf8)) {
            var units: [UInt16] = []
            var index = 0
            while index + 1 < body.count {
                let unit =
                    value.bigEndian
                    ? UInt16(body[index]) << 8 | UInt16(body[index + 1])
                    : UInt16(body[index + 1]) << 8 | UInt16(body[index])
                if unit == 0 { break }
                units.append(unit)
                index += 2
            }
            return String(decoding: units, as: UTF16.self).trimmingCharacters(in: " ")
        }
        let end = body.firstIndex(of: 0) ?? body.count
        return ExifEntryValue.trimmed(UnsafeRawBufferPointer(rebasing: body[0..<end])) ?? ""
    }

    /// GPSTimeStamp as "H:M:S" the way exiftool -n prints it ("14:33:35.62").
    private static func timeStamp(_ value: ExifEntryValue) -> String {
        (0..<min(3, value.availableCount)).map { index in
            guard let number = value.number(at: index) else { return value.undefinedText(at: index) ?? "" }
            let rounded = (number * 1_000_000).rounded() / 1_000_000
            let whole = rounded.rounded(.towardZero)
            let text = rounded == whole && abs(whole) < 1e15 ? String(Int64(whole)) : String(rounded)
            return index < 2 && text.count == 1 ? "0" + text : text
        }.joined(separator: ":")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }

    fileprivate func trimmingCharacters(in set: Character) -> String {
        var text = Substring(self)
        while text.first == set { text = text.dropFirst() }
        while text.last == set { text = text.dropLast() }
        return String(text)
    }
}
