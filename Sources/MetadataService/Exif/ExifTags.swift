// Raw EXIF tags as stored: the IFD, the tag id, exiftool's name and a typed value.

/// The IFD a tag was found in, named as exiftool's `-G1` groups name them.
public enum ExifGroup: String, Sendable, Codable, CaseIterable {
    case ifd0 = "IFD0"
    case exif = "ExifIFD"
    case gps = "GPS"
    case interop = "InteropIFD"
    case ifd1 = "IFD1"
}

/// A tag's value, typed the way exiftool `-n` prints it: numbers for single numeric values, text otherwise
/// (several numbers are one space-separated text, as exiftool prints lists).
public enum ExifValue: Sendable, Equatable, Codable {
    /// A single integer (BYTE, SHORT, LONG and their signed forms).
    case integer(Int64)
    /// A single rational or floating value, as a decimal.
    case real(Double)
    /// Text, lists and binary placeholders.
    case text(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let integer = try? container.decode(Int64.self) {
            self = .integer(integer)
        } else if let real = try? container.decode(Double.self) {
            self = .real(real)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .integer(let value): try container.encode(value)
        case .real(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        }
    }
}

/// One raw tag.
public struct ExifTag: Sendable, Equatable {
    /// Where the tag was found.
    public var group: ExifGroup
    /// The tag number.
    public var id: UInt16
    /// exiftool's name for it (`Exif_0xNNNN` when neither exiftool's table here nor libexif knows it).
    public var name: String
    /// The typed value.
    public var value: ExifValue

    /// A tag found in `group`.
    public init(group: ExifGroup, id: UInt16, name: String, value: ExifValue) {
        self.group = group
        self.id = id
        self.name = name
        self.value = value
    }
}

/// Every raw tag of a picture, in file order; encodes as `{"IFD0": {Name: value}, "ExifIFD": {...}, ...}`.
public struct ExifTags: Sendable, Equatable, Codable {
    /// The tags in the order they were read.
    public var tags: [ExifTag]

    /// A set of tags.
    public init(tags: [ExifTag]) {
        self.tags = tags
    }

    /// The value of a tag by group and exiftool name.
    public subscript(group: ExifGroup, name: String) -> ExifValue? {
        tags.first { $0.group == group && $0.name == name }?.value
    }

    struct NameKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let groups = try decoder.container(keyedBy: NameKey.self)
        var tags: [ExifTag] = []
        for group in ExifGroup.allCases where groups.contains(NameKey(stringValue: group.rawValue)) {
            let names = try groups.nestedContainer(keyedBy: NameKey.self, forKey: NameKey(stringValue: group.rawValue))
            for key in names.allKeys {
                let id = ExifTagNames.id(forName: key.stringValue, in: group) ?? 0
                tags.append(
                    ExifTag(
                        group: group, id: id, name: key.stringValue,
                        value: try names.decode(ExifValue.self, forKey: key)))
            }
        }
        self.tags = tags
    }

    public func encode(to encoder: any Encoder) throws {
        var groups = encoder.container(keyedBy: NameKey.self)
        for group in ExifGroup.allCases {
            let inGroup = tags.filter { $0.group == group }
            guard !inGroup.isEmpty else { continue }
            var names = groups.nestedContainer(keyedBy: NameKey.self, forKey: NameKey(stringValue: group.rawValue))
            for tag in inGroup {
                try names.encode(tag.value, forKey: NameKey(stringValue: tag.name))
            }
        }
    }
}
