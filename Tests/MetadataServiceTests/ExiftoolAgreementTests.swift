// Every normalised field against exiftool -n on ../shared/corpus/expected-exif.jsonl.
import Foundation
import MetadataService
import Testing

@Suite(.enabled(if: CorpusLocation.hasExpectedExif, "../shared/corpus/expected-exif.jsonl is absent"))
struct ExiftoolAgreementTests {
    /// Values exiftool prints as text where our field is null, each with the file and the reason.
    /// exiftool -n prints the raw value; a blank date or an undefined rational (0/0) is no value for us.
    static let exiftoolQuirks: [String: String] = [
        "jpeg-exif/fujifilm-sp-2500.jpg":
            "DateTimeOriginal is the blank placeholder \"    :  :     :  :  \": exiftool prints it, taken_at is null",
        "jpeg-exif/leica-t-typ701.jpg":
            "GPSLatitude/GPSLongitude are 0/0 rationals (exiftool prints \"\") and GPSAltitude 0/0 (\"undef\"): null",
        "jpeg-exif/nikon-d5000.jpg": "GPSLatitude/GPSLongitude are 0/0 rationals (exiftool prints \"\"): null",
        "jpeg-exif/samsung-gt-i9000-galaxy-s.jpg":
            "GPSLatitude/GPSLongitude are 0/1 (a receiver without a fix): 0,0 is no position, null (Immich's rule)",
    ]

    typealias Expected = [String: JSONValue]

    static func expectedLines() throws -> [Expected] {
        let text = try String(
            contentsOf: CorpusLocation.root.appendingPathComponent("expected-exif.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            try JSONDecoder().decode(Expected.self, from: Data(line.utf8))
        }
    }

    @Test func everyFieldAgreesWithExiftool() throws {
        let lines = try Self.expectedLines()
        #expect(lines.count >= 60)
        var checked = 0
        var agreed = 0
        var quirks = 0
        var failures: [String] = []
        for expected in lines {
            guard case .string(let relative) = expected["SourceFile"] else { continue }
            let path = CorpusLocation.root.appendingPathComponent(relative).path
            let metadata = try MetadataReader.read(fileAt: path, hash: false, includeRaw: false)
            for comparison in Self.comparisons(expected, metadata) {
                checked += 1
                if comparison.agrees {
                    agreed += 1
                } else if comparison.isQuirk, Self.exiftoolQuirks[relative] != nil {
                    quirks += 1
                } else {
                    failures.append(
                        "\(relative) \(comparison.field): exiftool \(comparison.exiftool), ours \(comparison.ours)")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(agreed + quirks == checked)
        #expect(checked == 16 * lines.count)  // 16 fields per file
        #expect(quirks == 8)  // 1 date (fujifilm) + 3 GPS values (leica) + 2 GPS values (nikon) + 2 (samsung)
    }

    /// exiftool tags that `--raw` does not print, by design, each with the reason.
    static let rawOmissions: [String: String] = [
        "IFD1:ThumbnailImage":
            "the thumbnail's bytes, which exiftool extracts as a tag of its own; --raw lists the IFD's entries",
        "ExifIFD:MakerNoteUnknownText": "exiftool's reading of a MakerNote; MakerNotes are not decoded",
    ]

    /// Tags `--raw` prints that the expected file leaves out on purpose (exiftool shows them in other groups), besides
    /// the tags exiftool does not know (`Exif_0xNNNN`, which it prints only with `-u`).
    static let rawExtras: Set<String> = ["ExifIFD:MakerNote", "IFD0:PrintIM"]

    /// Every `--raw` value of IFD0, ExifIFD, GPS and IFD1 against every such value of exiftool -n: numbers to
    /// 1e-9, text exactly (as exiftool's JSON prints it: numeric text as a number).
    @Test func everyRawValueAgreesWithExiftool() throws {
        let lines = try Self.expectedLines()
        let groups: [String: ExifGroup] = ["IFD0": .ifd0, "ExifIFD": .exif, "GPS": .gps, "IFD1": .ifd1]
        var checked = 0
        var omitted = 0
        var failures: [String] = []
        var groupsExiftoolLacks: [String] = []
        for expected in lines {
            guard case .string(let relative) = expected["SourceFile"] else { continue }
            let path = CorpusLocation.root.appendingPathComponent(relative).path
            let tags = try MetadataReader.read(fileAt: path, hash: false, includeRaw: true).exif?.tags ?? []
            // Unknown tags are not compared one by one, but a whole group exiftool does not print is an error: a
            // directory exiftool refuses (a pointer to one already read) must not come back under another name.
            let theirGroups = Set(expected.keys.compactMap { $0.split(separator: ":").first.map(String.init) })
            for group in Set(tags.map(\.group.rawValue)).sorted()
            where groups[group] != nil && !theirGroups.contains(group) {
                groupsExiftoolLacks.append("\(relative) \(group)")
            }
            var ours: [String: ExifValue] = [:]
            for tag in tags where groups[tag.group.rawValue] != nil {
                ours["\(tag.group.rawValue):\(tag.name)"] = tag.value
            }
            for key in Set(expected.keys).union(ours.keys).sorted() {
                guard let group = key.split(separator: ":").first, groups[String(group)] != nil else { continue }
                checked += 1
                switch (expected[key], ours[key]) {
                case (let theirs?, let ours?) where Self.agree(theirs, ours): continue
                case (_?, nil) where Self.rawOmissions[key] != nil: omitted += 1
                case (nil, _?) where Self.rawExtras.contains(key) || key.contains(":Exif_0x"): checked -= 1
                case (let theirs, let ours):
                    failures.append(
                        "\(relative) \(key): exiftool \(theirs.map { "\($0)" } ?? "nil"), ours \(ours.map { "\($0)" } ?? "nil")"
                    )
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) differences:\n\(failures.joined(separator: "\n"))")
        // Until session 31 gran-turismo-5-empty-gps-ifd.jpg's GPS pointer, which points at the ExifIFD, listed the
        // ExifIFD's 15 entries again as GPS Exif_0x… tags.
        #expect(groupsExiftoolLacks.isEmpty, "groups exiftool does not print: \(groupsExiftoolLacks)")
        #expect(checked >= 2000)
        #expect(omitted == 36 + 1)  // 36 thumbnails, 1 MakerNote text
    }

    static func agree(_ theirs: JSONValue, _ ours: ExifValue) -> Bool {
        let ourNumber: Double?
        let ourText: String
        switch ours {
        case .integer(let value): (ourNumber, ourText) = (Double(value), String(value))
        case .real(let value): (ourNumber, ourText) = (value, "\(value)")
        case .text(let value):
            ourNumber = value.wholeMatch(of: /-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/) != nil ? Double(value) : nil
            ourText = value
        }
        // exiftool's JSON prints numeric-looking text as a number, and a number with too many digits as text.
        let theirNumber =
            theirs.number
            ?? theirs.text.flatMap {
                $0.wholeMatch(of: /-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/) != nil ? Double($0) : nil
            }
        if let theirNumber, let ourNumber {
            return abs(theirNumber - ourNumber) <= 1e-9 * max(abs(theirNumber), 1e-300)
        }
        return theirs.text == ourText
    }

    @Test func quirkFilesAreAsDescribed() throws {
        let fuji = try MetadataReader.read(
            fileAt: CorpusLocation.root.appendingPathComponent("jpeg-exif/fujifilm-sp-2500.jpg").path, hash: false,
            includeRaw: true)
        #expect(fuji.takenAt == nil)
        #expect(fuji.exif?[.exif, "DateTimeOriginal"] == .text("    :  :     :  :  "))  // as exiftool prints it
        let leica = try MetadataReader.read(
            fileAt: CorpusLocation.root.appendingPathComponent("jpeg-exif/leica-t-typ701.jpg").path, hash: false,
            includeRaw: true)
        #expect(leica.gpsLatitude == nil && leica.gpsLongitude == nil && leica.gpsAltitude == nil)
        #expect(leica.exif?[.gps, "GPSAltitude"] == .text("undef"))
        let samsung = try MetadataReader.read(
            fileAt: CorpusLocation.root.appendingPathComponent("jpeg-exif/samsung-gt-i9000-galaxy-s.jpg").path,
            hash: false, includeRaw: true)
        #expect(samsung.gpsLatitude == nil && samsung.gpsLongitude == nil)
        #expect(samsung.exif?[.gps, "GPSLatitude"] == .real(0) || samsung.exif?[.gps, "GPSLatitude"] == .integer(0))
    }

    struct Comparison {
        var field: String
        var exiftool: String
        var ours: String
        var agrees: Bool
        /// exiftool printed text (blank date, "", "undef") where we have null.
        var isQuirk: Bool
    }

    static func comparisons(_ expected: Expected, _ metadata: ImageMetadata) -> [Comparison] {
        var out: [Comparison] = []
        func text(_ field: String, _ key: String, _ ours: String?) {
            let theirs = expected[key]
            let theirText = theirs?.text
            out.append(
                Comparison(
                    field: field, exiftool: theirText ?? "nil", ours: ours ?? "nil", agrees: theirText == ours,
                    isQuirk: ours == nil && theirText != nil))
        }
        /// `nullWhere`: exiftool's value is one we read as no value (latitude and longitude both 0).
        func number(
            _ field: String, _ key: String, _ ours: Double?, sign: Double = 1, absolute: Double? = nil,
            nullWhere: Bool = false
        ) {
            let theirs = expected[key]?.number.map { $0 * sign }
            let agrees: Bool
            switch (theirs, ours) {
            case (nil, nil): agrees = expected[key] == nil  // absent on both sides; exiftool text is not
            case (let theirs?, let ours?):
                agrees =
                    absolute.map { abs(theirs - ours) <= $0 } ?? (abs(theirs - ours) <= 1e-6 * max(abs(theirs), 1e-300))
            default: agrees = false
            }
            out.append(
                Comparison(
                    field: field, exiftool: expected[key].map { "\($0)" } ?? "nil", ours: ours.map { "\($0)" } ?? "nil",
                    agrees: agrees,
                    isQuirk: ours == nil && ((expected[key]?.number == nil && expected[key] != nil) || nullWhere)))
        }
        func reference(_ key: String, negative: String) -> Double {
            (expected[key]?.text?.uppercased().hasPrefix(negative) ?? false) ? -1 : 1
        }
        text("make", "IFD0:Make", metadata.make)
        text("model", "IFD0:Model", metadata.model)
        text("lens_model", "ExifIFD:LensModel", metadata.lensModel)
        // exiftool's "YYYY:MM:DD HH:MM:SS" against our ISO form.
        text("taken_at", "ExifIFD:DateTimeOriginal", metadata.takenAt.map(Self.exifDate))
        // OffsetTimeOriginal, else OffsetTime (the time rule).
        let offsetKey =
            expected["ExifIFD:OffsetTimeOriginal"] != nil ? "ExifIFD:OffsetTimeOriginal" : "ExifIFD:OffsetTime"
        text("taken_at_offset", offsetKey, metadata.takenAtOffset)
        number("exposure_time", "ExifIFD:ExposureTime", metadata.exposureTime)
        number("f_number", "ExifIFD:FNumber", metadata.fNumber)
        number("iso", "ExifIFD:ISO", metadata.iso.map(Double.init))
        number("focal_length", "ExifIFD:FocalLength", metadata.focalLength)
        number("focal_length_35mm", "ExifIFD:FocalLengthIn35mmFormat", metadata.focalLength35mm.map(Double.init))
        number("orientation", "IFD0:Orientation", metadata.orientation.map(Double.init))
        let noFix = expected["GPS:GPSLatitude"]?.number == 0 && expected["GPS:GPSLongitude"]?.number == 0
        number(
            "gps_latitude", "GPS:GPSLatitude", metadata.gpsLatitude,
            sign: reference("GPS:GPSLatitudeRef", negative: "S"), absolute: 1e-7, nullWhere: noFix)
        number(
            "gps_longitude", "GPS:GPSLongitude", metadata.gpsLongitude,
            sign: reference("GPS:GPSLongitudeRef", negative: "W"), absolute: 1e-7, nullWhere: noFix)
        number(
            "gps_altitude", "GPS:GPSAltitude", metadata.gpsAltitude,
            sign: expected["GPS:GPSAltitudeRef"]?.number == 1 ? -1 : 1)
        let sizeGroup = expected["PNG:ImageWidth"] != nil ? "PNG" : "File"
        number("width", "\(sizeGroup):ImageWidth", metadata.width.map(Double.init))
        number("height", "\(sizeGroup):ImageHeight", metadata.height.map(Double.init))
        return out
    }

    static func exifDate(_ iso: String) -> String {
        var characters = Array(iso)
        characters[4] = ":"
        characters[7] = ":"
        characters[10] = " "
        return String(characters)
    }
}

/// A JSON scalar as exiftool prints it (numbers for numeric-looking text).
enum JSONValue: Decodable, Equatable, CustomStringConvertible {
    case number(Double)
    case string(String)
    case other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else {
            self = .other
        }
    }

    var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// Text as exiftool meant it: numbers it printed bare (Model "4.1") back to their shortest text.
    var text: String? {
        switch self {
        case .string(let value): return value
        case .number(let value):
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .other: return nil
        }
    }

    var description: String {
        switch self {
        case .number(let value): return "\(value)"
        case .string(let value): return "\"\(value)\""
        case .other: return "?"
        }
    }
}
