// One JSON object per line, written by hand: `picpipe metadata` prints thousands of lines per second,
// where JSONEncoder would cost more than reading the EXIF.

extension ImageMetadata {
    /// The metadata as one JSON object (no newline): every normalised key, `null` where absent, numbers as
    /// exiftool -n prints them; `id` first when given; `exif` last when present.
    /// - Parameters:
    ///   - id: a stored image's id; with it the line also has `added_at` (after `taken_at_offset`).
    ///   - addedAt: when the stored image entered the store (`StoredImage.addedAt`).
    public func jsonLine(id: String? = nil, addedAt: String? = nil) -> String {
        var out = JSONLineWriter()
        out.open()
        if let id { out.field("id", string: id) }
        out.field("file", string: file)
        out.field("make", string: make)
        out.field("model", string: model)
        out.field("lens_model", string: lensModel)
        out.field("taken_at", string: takenAt)
        out.field("taken_at_offset", string: takenAtOffset)
        if id != nil { out.field("added_at", string: addedAt) }
        out.field("exposure_time", number: exposureTime)
        out.field("f_number", number: fNumber)
        out.field("iso", integer: iso)
        out.field("focal_length", number: focalLength)
        out.field("focal_length_35mm", integer: focalLength35mm)
        out.field("orientation", integer: orientation)
        out.field("gps_latitude", number: gpsLatitude)
        out.field("gps_longitude", number: gpsLongitude)
        out.field("gps_altitude", number: gpsAltitude)
        out.field("width", integer: width)
        out.field("height", integer: height)
        out.field("format", string: format)
        out.field("bytes", integer: bytes)
        out.field("sha256", string: sha256)
        out.field("exif_error", string: exifError)
        if let exif {
            out.key("exif")
            out.open()
            for group in ExifGroup.allCases {
                let tags = exif.tags.filter { $0.group == group }
                guard !tags.isEmpty else { continue }
                out.key(group.rawValue)
                out.open()
                for tag in tags { out.field(tag.name, value: tag.value) }
                out.close()
            }
            out.close()
        }
        out.close()
        return out.text
    }
}

/// Appends JSON tokens to a string, commas included.
struct JSONLineWriter {
    var text = ""
    private var needsComma = false

    init() { text.reserveCapacity(512) }

    mutating func open() {
        text.append("{")
        needsComma = false
    }

    mutating func close() {
        text.append("}")
        needsComma = true
    }

    mutating func key(_ name: String) {
        if needsComma { text.append(",") }
        appendString(name)
        text.append(":")
        needsComma = false
    }

    mutating func field(_ name: String, string: String?) {
        key(name)
        if let string { appendString(string) } else { text.append("null") }
        needsComma = true
    }

    mutating func field(_ name: String, integer: Int?) {
        key(name)
        text.append(integer.map { String($0) } ?? "null")
        needsComma = true
    }

    mutating func field(_ name: String, number: Double?) {
        key(name)
        text.append(number.map(Self.format) ?? "null")
        needsComma = true
    }

    mutating func field(_ name: String, value: ExifValue) {
        switch value {
        case .integer(let integer):
            key(name)
            text.append(String(integer))
            needsComma = true
        case .real(let real): field(name, number: real)
        case .text(let string): field(name, string: string)
        }
    }

    /// Integral values without ".0" (exiftool prints 35, not 35.0); non-finite values are null.
    static func format(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        if number == number.rounded(.towardZero) && abs(number) < 1e15 { return String(Int64(number)) }
        return String(number)
    }

    private mutating func appendString(_ string: String) {
        text.append("\"")
        var plainStart = string.unicodeScalars.startIndex
        var index = plainStart
        let scalars = string.unicodeScalars
        while index != scalars.endIndex {
            let scalar = scalars[index]
            let escape: String?
            switch scalar {
            case "\"": escape = "\\\""
            case "\\": escape = "\\\\"
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            case "\t": escape = "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    escape = nil
                }
            }
            if let escape {
                // As a Substring: one copy of the run's UTF-8, not an append per scalar.
                text.append(contentsOf: Substring(scalars[plainStart..<index]))
                text.append(escape)
                plainStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        text.append(contentsOf: Substring(scalars[plainStart..<scalars.endIndex]))
        text.append("\"")
    }
}
