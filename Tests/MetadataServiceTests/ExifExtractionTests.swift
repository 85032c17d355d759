// Extraction and normalisation on pictures the tests write: hemispheres, altitude, missing tags, offsets, PNG.
import Foundation
import MetadataService
import Testing

struct ExifExtractionTests {
    static let degrees: [(UInt32, UInt32)] = [(40, 1), (26, 1), (4614, 100)]  // 40° 26' 46.14"
    static let expectedDegrees = 40.0 + 26.0 / 60 + 46.14 / 3600

    @Test(arguments: [
        ("N", "E", 1.0, 1.0), ("N", "W", 1.0, -1.0), ("S", "E", -1.0, 1.0), ("S", "W", -1.0, -1.0),
    ])
    func everyHemisphereIsSigned(latitudeRef: String, longitudeRef: String, latitudeSign: Double, longitudeSign: Double)
        throws
    {
        for bigEndian in [true, false] {
            let fixture = ExifFixture.camera(
                bigEndian: bigEndian, latitude: (latitudeRef, Self.degrees), longitude: (longitudeRef, Self.degrees))
            let metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff()))
            let latitude = try #require(metadata.gpsLatitude)
            let longitude = try #require(metadata.gpsLongitude)
            #expect(abs(latitude - latitudeSign * Self.expectedDegrees) < 1e-9)
            #expect(abs(longitude - longitudeSign * Self.expectedDegrees) < 1e-9)
            #expect(metadata.exifError == nil)
        }
    }

    @Test func degreesAreSummedInExiftoolsOrder() throws {
        // 179° 59' 24" W: d + m/60 + s/3600 is -179.98999999999998; exiftool's d + (m + s/60)/60 is -179.99, the
        // value a bounding box edge is typed as.
        let fixture = ExifFixture.camera(
            latitude: ("S", [(33, 1), (52, 1), (12, 1)]), longitude: ("W", [(179, 1), (59, 1), (24, 1)]))
        let metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff()))
        #expect(metadata.gpsLongitude == -179.99)
        #expect(metadata.gpsLatitude == -33.87)
        #expect(metadata.exif?[.gps, "GPSLongitude"] == .real(179.99))
    }

    /// 95 N or 200 E is no place on the globe: no position, as 0,0 is none (until session 29 they were kept, and a box
    /// across the antimeridian held 200 E); the raw tags stay as written. 180 W is a place.
    @Test func aPositionOffTheGlobeIsNoPosition() throws {
        let north = ExifFixture.camera(latitude: ("N", [(95, 1), (0, 1), (0, 1)]), longitude: ("E", [(10, 1)]))
        let farNorth = try ExifFixture.read(ExifFixture.jpeg(tiff: north.tiff()))
        #expect(farNorth.gpsLatitude == nil && farNorth.gpsLongitude == nil)
        #expect(farNorth.exif?[.gps, "GPSLatitude"] == .real(95))
        let east = ExifFixture.camera(latitude: ("N", [(10, 1)]), longitude: ("E", [(200, 1), (0, 1), (0, 1)]))
        let farEast = try ExifFixture.read(ExifFixture.jpeg(tiff: east.tiff()))
        #expect(farEast.gpsLatitude == nil && farEast.gpsLongitude == nil)
        let antimeridian = ExifFixture.camera(latitude: ("N", [(10, 1)]), longitude: ("W", [(180, 1)]))
        let west = try ExifFixture.read(ExifFixture.jpeg(tiff: antimeridian.tiff()))
        #expect(west.gpsLatitude == 10 && west.gpsLongitude == -180)
    }

    @Test func altitudeBelowSeaLevelIsNegative() throws {
        let below = ExifFixture.camera(altitude: (1, (4235, 10)))
        #expect(try ExifFixture.read(ExifFixture.jpeg(tiff: below.tiff())).gpsAltitude == -423.5)
        let above = ExifFixture.camera(altitude: (0, (4235, 10)))
        #expect(try ExifFixture.read(ExifFixture.jpeg(tiff: above.tiff())).gpsAltitude == 423.5)
        // Any reference but 0 is below sea level, as exiftool reads it.
        let two = ExifFixture.camera(altitude: (2, (4235, 10)))
        #expect(try ExifFixture.read(ExifFixture.jpeg(tiff: two.tiff())).gpsAltitude == -423.5)
        // A negative SRATIONAL altitude stays negative whatever the reference (exiftool: ref ? -abs(alt) : alt).
        for reference: UInt8 in [0, 1] {
            var signed = ExifFixture.camera(altitude: (reference, (4235, 10)))
            let index = try #require(signed.gps.firstIndex { $0.tag == 0x0006 })
            signed.gps[index] = FixtureEntry(
                tag: 0x0006, type: 10, count: 1,
                payload: signed.bytes32(UInt32(bitPattern: -4235)) + signed.bytes32(10))
            #expect(try ExifFixture.read(ExifFixture.jpeg(tiff: signed.tiff())).gpsAltitude == -423.5)
        }
    }

    @Test func cameraFieldsAreNormalised() throws {
        let fixture = ExifFixture.camera(bigEndian: false)
        let metadata = try ExifFixture.read(
            ExifFixture.jpeg(tiff: fixture.tiff(), width: 640, height: 480), file: "a.jpg")
        #expect(metadata.file == "a.jpg")
        #expect(metadata.make == "FixtureCam")  // trailing padding trimmed
        #expect(metadata.model == "Model X")
        #expect(metadata.lensModel == "Fixture 50mm F2.8")
        #expect(metadata.takenAt == "2021-06-15T08:30:05")
        #expect(metadata.takenAtOffset == "-04:00")
        #expect(metadata.exposureTime == 1.0 / 250)
        #expect(metadata.fNumber == 2.8)
        #expect(metadata.iso == 400)
        #expect(metadata.focalLength == 50)
        #expect(metadata.focalLength35mm == 75)
        #expect(metadata.orientation == 6)
        #expect(metadata.width == 640 && metadata.height == 480)
        #expect(metadata.format == "jpeg")
        #expect(metadata.bytes == ExifFixture.jpeg(tiff: fixture.tiff(), width: 640, height: 480).count)
        #expect(metadata.sha256 == nil)
    }

    @Test func missingTagsStayNull() throws {
        var fixture = ExifFixture()
        fixture.ifd0 = [fixture.short(0x0112, [1])]
        let metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff()))
        #expect(metadata.orientation == 1)
        #expect(metadata.make == nil && metadata.model == nil && metadata.lensModel == nil)
        #expect(metadata.takenAt == nil && metadata.takenAtOffset == nil)
        #expect(metadata.exposureTime == nil && metadata.fNumber == nil && metadata.iso == nil)
        #expect(metadata.focalLength == nil && metadata.focalLength35mm == nil)
        #expect(metadata.gpsLatitude == nil && metadata.gpsLongitude == nil && metadata.gpsAltitude == nil)
        #expect(metadata.exifError == nil)
        // No EXIF at all: every EXIF field is null, the header fields are not.
        let bare = try ExifFixture.read(ExifFixture.jpeg(tiff: nil, width: 7, height: 5))
        #expect(bare.orientation == nil && bare.make == nil && bare.exif == nil && bare.exifError == nil)
        #expect(bare.width == 7 && bare.height == 5)
        let line = bare.jsonLine()
        #expect(line.contains("\"make\":null") && line.contains("\"gps_altitude\":null"))
    }

    @Test func blankStringsAndBlankDatesAreNull() throws {
        var fixture = ExifFixture()
        fixture.ifd0 = [.asciiRaw(0x010F, [0x20, 0x20, 0, 0]), .asciiRaw(0x0110, [0, 0, 0, 0, 0])]
        fixture.exif = [.ascii(0x9003, "    :  :     :  :  "), .ascii(0x9011, "")]
        let metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff()))
        #expect(metadata.make == nil && metadata.model == nil && metadata.takenAt == nil)
        #expect(metadata.takenAtOffset == nil)
    }

    static let calendarDates: [(String, String?)] = [
        ("2023:02:30 12:00:00", nil), ("2024:13:45 25:61:61", nil), ("2024:05:01 24:00:00", nil),
        ("2024:05:01 23:60:00", nil), ("2024:05:01 23:59:60", nil), ("2023:02:29 10:00:00", nil),
        ("1900:02:29 10:00:00", nil), ("2024:00:10 10:00:00", nil), ("2024:04:31 10:00:00", nil),
        ("2024:06:00 10:00:00", nil), ("2024:02:29 23:59:59", "2024-02-29T23:59:59"),
        ("2000:02:29 00:00:00", "2000-02-29T00:00:00"), ("2024-12-31 23:59:59", "2024-12-31T23:59:59"),
    ]

    /// A DateTimeOriginal outside the calendar is no date, as a blank one is (until session 31 it was kept, and
    /// "2024-13-45T25:61:61" sorted as the newest picture of 2024); leap years count, and 24:00:00 is no EXIF time.
    @Test(arguments: calendarDates)
    func datesOutsideTheCalendarAreNull(written: String, takenAt: String?) throws {
        var fixture = ExifFixture()
        fixture.exif = [.ascii(0x9003, written), .ascii(0x9011, "+02:00")]
        let metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff()))
        #expect(metadata.takenAt == takenAt, "\(written)")
        #expect(metadata.takenAtOffset == "+02:00")
        // --raw keeps the tag as written, as exiftool prints it.
        #expect(metadata.exif?.tags.first { $0.id == 0x9003 }?.value == .text(written))
    }

    /// Make, Model and LensModel bytes that are not UTF-8 read as `--raw` (and exiftool's JSON) print them, `?` for
    /// each such byte, so the value a user copies from either filters (until session 31 `make` had U+FFFD where
    /// `--raw` had `?`, and `--make 'Kamera ??'` found nothing).
    @Test func bytesThatAreNotUTF8ReadAsRawPrintsThem() throws {
        var fixture = ExifFixture()
        fixture.ifd0 = [
            .asciiRaw(0x010F, Array("Kamera ".utf8) + [0xC4, 0xD6, 0]),
            .asciiRaw(0x0110, [0xFF] + Array(" Modell Ü".utf8) + [0xFC, 0x20, 0]),
        ]
        fixture.exif = [.asciiRaw(0xA434, Array("Objektiv ".utf8) + [0xB5, 0x6D, 0])]
        let metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff()))
        #expect(metadata.make == "Kamera ??")
        #expect(metadata.model == "? Modell Ü?")
        #expect(metadata.lensModel == "Objektiv ?m")
        let raw = Dictionary(uniqueKeysWithValues: (metadata.exif?.tags ?? []).map { ($0.id, $0.value) })
        #expect(raw[0x010F] == .text("Kamera ??") && raw[0x0110] == .text("? Modell Ü?"))
        #expect(raw[0xA434] == .text("Objektiv ?m"))

        // The make copied from --raw finds the picture.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("metastore-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteMetadataStore(url: folder.appendingPathComponent("db/metadata.sqlite"))
        var stored = metadata
        stored.sha256 = String(repeating: "a", count: 64)
        try store.upsert(stored, originalPath: "originals/k.jpg")
        #expect(try store.query(MetadataQuery(make: "kamera ??")).map(\.id) == [stored.sha256])
    }

    /// A UTF-8 sequence cut short is one `?` per byte, as exiftool prints it (`A\xE2\x82B` is `A??B`; until
    /// session 36 one `?` for the whole sequence, so the make exiftool printed filtered nothing), in the fields, in
    /// `--raw` and in a UserComment (U+FFFD there until session 36).
    @Test func aSequenceCutShortIsOneQuestionMarkPerByte() throws {
        var fixture = ExifFixture()
        fixture.ifd0 = [
            .asciiRaw(0x010F, Array("A".utf8) + [0xE2, 0x82] + Array("B".utf8) + [0]),
            .asciiRaw(0x0110, Array("Cam".utf8) + [0xF0, 0x9F, 0x98, 0]),
        ]
        fixture.exif = [
            .asciiRaw(0xA434, [0xE0, 0x80, 0x80] + Array(" E".utf8) + [0xF0, 0x9F] + Array("F \u{1F600}".utf8) + [0]),
            .undefined(0x9286, Array("ASCII".utf8) + [0, 0, 0] + Array("x".utf8) + [0xE2, 0x82] + Array("y".utf8)),
        ]
        let metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff()))
        #expect(metadata.make == "A??B")
        #expect(metadata.model == "Cam???")
        // An overlong sequence is three bytes that are not UTF-8; a whole emoji stays.
        #expect(metadata.lensModel == "??? E??F \u{1F600}")
        let raw = Dictionary(uniqueKeysWithValues: (metadata.exif?.tags ?? []).map { ($0.id, $0.value) })
        #expect(raw[0x010F] == .text("A??B") && raw[0x0110] == .text("Cam???"))
        #expect(raw[0x9286] == .text("x??y"))
    }

    @Test func offsetFallsBackToOffsetTimeAndIsNeverGuessed() throws {
        var fixture = ExifFixture()
        fixture.exif = [.ascii(0x9003, "2020:01:02 03:04:05"), .ascii(0x9010, "+05:30")]
        #expect(try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff())).takenAtOffset == "+05:30")
        fixture.exif = [.ascii(0x9003, "2020:01:02 03:04:05"), .ascii(0x9010, "+05:30"), .ascii(0x9011, "-02:00")]
        #expect(try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff())).takenAtOffset == "-02:00")
        fixture.exif = [.ascii(0x9003, "2020:01:02 03:04:05")]
        let local = try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff()))
        #expect(local.takenAt == "2020-01-02T03:04:05" && local.takenAtOffset == nil)
        // An OffsetTimeOriginal that is there but is no ±HH:MM offset (hours up to 14, minutes under 60) counts as
        // absent: OffsetTime is used. exiftool does not read "Z" as +00:00 either.
        for unusable in ["   :  ", "Z", "+0530", "+5:30", "+99:99", "+15:00", "-05:60", "05:30 "] {
            fixture.exif = [.ascii(0x9003, "2020:01:02 03:04:05"), .ascii(0x9010, "+01:00"), .ascii(0x9011, unusable)]
            let metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff()))
            #expect(metadata.takenAtOffset == "+01:00", "OffsetTimeOriginal \(unusable)")
            fixture.exif = [.ascii(0x9003, "2020:01:02 03:04:05"), .ascii(0x9010, unusable)]
            #expect(try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff())).takenAtOffset == nil)
        }
        for valid in ["+14:00", "-12:00", "+05:45", "-00:30", "+00:00"] {
            fixture.exif = [.ascii(0x9003, "2020:01:02 03:04:05"), .ascii(0x9010, "+01:00"), .ascii(0x9011, valid)]
            #expect(try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff())).takenAtOffset == valid)
        }
    }

    @Test func pngExifChunkIsRead() throws {
        let fixture = ExifFixture.camera(latitude: ("S", Self.degrees), longitude: ("W", Self.degrees))
        let metadata = try ExifFixture.read(ExifFixture.png(tiff: fixture.tiff(), width: 33, height: 17))
        #expect(metadata.format == "png")
        #expect(metadata.width == 33 && metadata.height == 17)
        #expect(metadata.make == "FixtureCam" && metadata.orientation == 6)
        #expect(metadata.gpsLatitude.map { $0 < 0 } == true && metadata.gpsLongitude.map { $0 < 0 } == true)
        // Some writers keep the JPEG "Exif\0\0" header inside the chunk: accepted too.
        let withHeader = try ExifFixture.read(ExifFixture.png(tiff: Array("Exif".utf8) + [0, 0] + fixture.tiff()))
        #expect(withHeader.make == "FixtureCam")
    }

    @Test func rawTagsUseExiftoolNamesAndTypes() throws {
        let fixture = ExifFixture.camera(latitude: ("N", Self.degrees), longitude: ("E", Self.degrees))
        let metadata = try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff()))
        let exif = try #require(metadata.exif)
        #expect(exif[.ifd0, "Make"] == .text("FixtureCam"))
        #expect(exif[.ifd0, "Orientation"] == .integer(6))
        #expect(exif[.exif, "ISO"] == .integer(400))
        #expect(exif[.exif, "FNumber"] == .real(2.8))
        #expect(exif[.exif, "FocalLengthIn35mmFormat"] == .integer(75))
        #expect(exif[.exif, "DateTimeOriginal"] == .text("2021:06:15 08:30:05"))
        #expect(exif[.gps, "GPSLatitudeRef"] == .text("N"))
        #expect(exif[.gps, "GPSVersionID"] == .text("2 3 0 0"))
        if case .real(let latitude) = exif[.gps, "GPSLatitude"] {
            #expect(abs(latitude - Self.expectedDegrees) < 1e-9)
        } else {
            Issue.record("GPSLatitude is not a number")
        }
        // The JSON groups are exiftool's.
        let line = metadata.jsonLine()
        #expect(line.contains("\"exif\":{\"IFD0\":{"))
        #expect(line.contains("\"ExifIFD\":{") && line.contains("\"GPS\":{"))
        // Without asking, no raw tags.
        #expect(try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff()), raw: false).exif == nil)
    }

    @Test func rawValuesPrintAsExiftoolDoes() throws {
        var fixture = ExifFixture()
        let xpTitle = Self.utf16("Titel ü", bigEndian: false) + [0, 0]
        let xpComment = Self.utf16(String(repeating: "x", count: 40), bigEndian: false) + [0, 0]
        fixture.ifd0 = [.byte(0x9C9B, xpTitle), .byte(0x9C9C, xpComment)]
        fixture.exif = [fixture.rational(0xA432, [(24, 1), (70, 1), (28, 10), (28, 10)])]
        // exiftool sums the parts to seconds (0/0 counts 0) and prints HH:MM:SS with up to 9 decimals.
        let timeStamps: [String: [(UInt32, UInt32)]] = [
            "15:12:07": [(15, 1), (12, 1), (7, 1)], "14:00:05": [(14, 1), (0, 0), (5, 1)],
            "26:02:15": [(25, 1), (61, 1), (75, 1)], "14:33:30": [(14, 1), (335, 10), (0, 1)],
            "14:33:35.62": [(14, 1), (33, 1), (3562, 100)], "00:00:00": [(0, 0), (0, 0), (0, 0)],
            "09:59:59.9999999": [(9, 1), (59, 1), (599_999_999, 10_000_000)],
        ]
        for (expected, parts) in timeStamps {
            fixture.gps = [fixture.rational(0x0007, parts)]
            let exif = try #require(try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff())).exif)
            #expect(exif[.gps, "GPSTimeStamp"] == .text(expected))
            #expect(exif[.exif, "LensInfo"] == .text("24 70 2.8 2.8"))
            #expect(exif[.ifd0, "XPTitle"] == .text("Titel ü"))
            #expect(exif[.ifd0, "XPComment"] == .text(String(repeating: "x", count: 40)))
        }
    }

    /// exiftool -n still applies the APEX tags' ValueConv (values of canon-eos-7d.jpg and exiftool 12.57's output).
    @Test func apexValuesAreConvertedAsExiftoolDoes() throws {
        var fixture = ExifFixture(bigEndian: false)
        func signed(_ tag: UInt16, _ numerator: Int32, _ denominator: Int32) -> FixtureEntry {
            let payload =
                fixture.bytes32(UInt32(bitPattern: numerator)) + fixture.bytes32(UInt32(bitPattern: denominator))
            return FixtureEntry(tag: tag, type: 10, count: 1, payload: payload)
        }
        fixture.exif = [
            signed(0x9201, 6_965_784, 1_000_000), fixture.rational(0x9202, [(6_918_863, 1_000_000)]),
            signed(0x9203, -3, 2), fixture.rational(0x9205, [(3, 1)]),
        ]
        var exif = try #require(try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff())).exif)
        #expect(exif[.exif, "ShutterSpeedValue"] == .real(0.00800000157850194))
        #expect(exif[.exif, "ApertureValue"] == .real(10.9999990954358))
        #expect(exif[.exif, "MaxApertureValue"] == .real(2.82842712474619))
        #expect(exif[.exif, "BrightnessValue"] == .real(-1.5))  // no ValueConv: stays APEX
        // Written unsigned (Leica M8), ShutterSpeedValue and ExposureCompensation are still read signed; an
        // undefined aperture counts 0 (2^0), an undefined shutter speed is 0.
        fixture.exif = [
            fixture.rational(0x9201, [(0xFFFF_FFFE, 1)]), fixture.rational(0x9202, [(0, 0)]),
            fixture.rational(0x9204, [(0xFFFF_FFFE, 3)]),
        ]
        exif = try #require(try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff())).exif)
        #expect(exif[.exif, "ShutterSpeedValue"] == .real(4))
        #expect(exif[.exif, "ApertureValue"] == .real(1))
        if case .real(let compensation) = exif[.exif, "ExposureCompensation"] {
            #expect(abs(compensation + 2.0 / 3) < 1e-9)
        } else {
            Issue.record(
                "ExposureCompensation is not a number: \(String(describing: exif[.exif, "ExposureCompensation"]))")
        }
        fixture.exif = [fixture.rational(0x9201, [(0, 0)])]
        exif = try #require(try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff())).exif)
        #expect(exif[.exif, "ShutterSpeedValue"] == .integer(0))
    }

    /// libexif takes IFD1's ThumbnailOffset and ThumbnailLength out when it loads the thumbnail; --raw still shows
    /// them, SHORT or LONG, the offset from the start of the file as exiftool -n prints it (the fixture's TIFF
    /// header is 12 bytes in: SOI, the APP1 marker and length, "Exif\0\0").
    @Test(arguments: [true, false])
    func thumbnailOffsetAndLengthAreKept(bigEndian: Bool) throws {
        var fixture = ExifFixture(bigEndian: bigEndian)
        fixture.ifd0 = [.ascii(0x010F, "FixtureCam")]
        fixture.ifd1 = [fixture.short(0x0103, [6]), fixture.long(0x0201, [8]), fixture.short(0x0202, [6])]
        let exif = try #require(try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff())).exif)
        #expect(exif[.ifd1, "Compression"] == .integer(6))
        #expect(exif[.ifd1, "ThumbnailOffset"] == .integer(8 + 12))
        #expect(exif[.ifd1, "ThumbnailLength"] == .integer(6))
        #expect(exif.tags.filter { $0.group == .ifd1 }.map(\.id) == [0x0103, 0x0201, 0x0202])
    }

    static func utf16(_ text: String, bigEndian: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        for unit in text.utf16 {
            let pair: [UInt8] = [UInt8(unit >> 8), UInt8(unit & 0xFF)]
            bytes += bigEndian ? pair : pair.reversed()
        }
        return bytes
    }

    static let unicode: [UInt8] = Array("UNICODE".utf8) + [0]

    /// UserComment values, the byte order of their block, and what `exiftool -j -n` (12.57) prints for them (the
    /// tester's uc_*.jpg files).
    static let userComments: [([UInt8], Bool, String)] = [
        (Array("ASCII\0\0\0  lead  ".utf8), true, "  lead"),
        (Array("ASCII\0\0\0Hello\0garbage".utf8), true, "Hello"),
        (Array("Hi".utf8), true, "Hi"),
        (Array("Just a plain comment without code".utf8), true, "Just a plain comment without code"),
        (Array("        leading spaces code".utf8), true, "leading spaces code"),
        ([UInt8](repeating: 0, count: 8), true, ""),
        (unicode + utf16("Hé☕", bigEndian: true), true, "Hé☕"),
        (unicode + utf16("Hello World", bigEndian: false), true, "Hello World"),  // Microsoft's LE in a MM block
        (unicode + utf16("Hello World", bigEndian: true), false, "Hello World"),
        (unicode + [0xFF, 0xFE] + utf16("Hello", bigEndian: false), true, "Hello"),
    ]

    @Test(arguments: userComments)
    func userCommentReadsItsCharsetCode(bytes: [UInt8], bigEndian: Bool, expected: String) throws {
        var fixture = ExifFixture(bigEndian: bigEndian)
        fixture.exif = [.undefined(0x9286, bytes)]
        let exif = try #require(try ExifFixture.read(ExifFixture.jpeg(tiff: fixture.tiff())).exif)
        #expect(exif[.exif, "UserComment"] == .text(expected))
    }

    @Test func notAnImageThrows() throws {
        #expect(throws: MetadataError.self) { try ExifFixture.read(Array("GIF89a not a picture".utf8)) }
        #expect(throws: MetadataError.self) { try ExifFixture.read([]) }
    }

    @Test func fileReaderHashesOrReadsOnlyTheHead() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("meta-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // EXIF, then 300 KiB of APP2 padding before the SOF: the head read must grow to find the size.
        var bytes = ExifFixture.jpeg(tiff: ExifFixture.camera().tiff(), width: 99, height: 77)
        let sof = bytes.count - 21
        var padding: [UInt8] = []
        for _ in 0..<5 { padding += [0xFF, 0xE2, 0xFF, 0xFF] + [UInt8](repeating: 0x41, count: 0xFFFD) }
        bytes.insert(contentsOf: padding, at: sof)
        let url = folder.appendingPathComponent("padded.jpg")
        try Data(bytes).write(to: url)
        let head = try MetadataReader.read(fileAt: url.path, hash: false, includeRaw: false)
        #expect(head.width == 99 && head.height == 77 && head.make == "FixtureCam")
        #expect(head.sha256 == nil && head.bytes == bytes.count)
        let hashed = try MetadataReader.read(fileAt: url.path, hash: true, includeRaw: false)
        #expect(hashed.sha256?.count == 64)
        #expect(hashed.sha256 == hashed.sha256?.lowercased())
        var withoutHash = hashed
        withoutHash.sha256 = nil
        #expect(withoutHash == head)
        #expect(throws: MetadataError.self) {
            try MetadataReader.read(
                fileAt: folder.appendingPathComponent("missing.jpg").path, hash: false, includeRaw: false)
        }
    }
}
