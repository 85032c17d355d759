// The normalisation rules: which tag feeds which field, and how exiftool -n would print it.

extension ExifBlock {
    /// Fills the EXIF-derived fields of `metadata` (make ... gps_altitude) and, when asked, its raw tags.
    func apply(to metadata: inout ImageMetadata, includeRaw: Bool) {
        metadata.make = value(.ifd0, 0x010F)?.text
        metadata.model = value(.ifd0, 0x0110)?.text
        metadata.orientation = value(.ifd0, 0x0112)?.integer(at: 0).map { Int($0) }
        metadata.lensModel = value(.exif, 0xA434)?.text
        metadata.takenAt = value(.exif, 0x9003)?.text.flatMap(Self.isoDateTime)
        // OffsetTimeOriginal, else OffsetTime: a tag that is there but holds no usable offset counts as absent.
        metadata.takenAtOffset =
            [value(.exif, 0x9011), value(.exif, 0x9010)].lazy
            .compactMap { $0?.text.flatMap(Self.utcOffset) }.first
        metadata.exposureTime = value(.exif, 0x829A)?.number(at: 0)
        metadata.fNumber = value(.exif, 0x829D)?.number(at: 0)
        metadata.iso = value(.exif, 0x8827)?.integer(at: 0).map { Int($0) }
        metadata.focalLength = value(.exif, 0x920A)?.number(at: 0)
        metadata.focalLength35mm = value(.exif, 0xA405)?.integer(at: 0).map { Int($0) }
        metadata.gpsLatitude = Self.degrees(value(.gps, 0x02)).map { Self.sign(value(.gps, 0x01), negative: "S") * $0 }
        metadata.gpsLongitude = Self.degrees(value(.gps, 0x04)).map { Self.sign(value(.gps, 0x03), negative: "W") * $0 }
        if metadata.gpsLatitude == 0, metadata.gpsLongitude == 0 {
            // 0,0 is a receiver without a fix (cameras write 0/1 rationals), not a place in the Gulf of Guinea: no
            // position, as Immich reads it (until session 28 it was shown and matched by --near 0,0).
            metadata.gpsLatitude = nil
            metadata.gpsLongitude = nil
        }
        if metadata.gpsLatitude.map({ !(-90...90).contains($0) }) == true
            || metadata.gpsLongitude.map({ !(-180...180).contains($0) }) == true
        {
            // 95 N or 200 E is no place on the globe: no position either (until session 29 it was kept, and a box
            // across the antimeridian held 200 E); --raw keeps the tags as written.
            metadata.gpsLatitude = nil
            metadata.gpsLongitude = nil
        }
        if let altitude = value(.gps, 0x06)?.number(at: 0) {
            // Any GPSAltitudeRef but 0 means below sea level, and a negative (SRATIONAL) altitude stays negative
            // (exiftool's Composite:GPSAltitude: `$ref ? -abs($alt) : $alt`).
            let below = value(.gps, 0x05)?.integer(at: 0).map { $0 != 0 } ?? false
            metadata.gpsAltitude = below ? -abs(altitude) : altitude
        }
        if includeRaw { metadata.exif = rawTags() }
    }

    /// EXIF "YYYY:MM:DD HH:MM:SS" as "YYYY-MM-DDTHH:MM:SS"; `nil` when blank, all zero, malformed or outside the
    /// calendar (February 30, month 13, hour 24: `TakenTime.isInCalendar`). Until session 31 such a date was kept,
    /// and "2024-13-45T25:61:61" sorted as the newest picture of 2024 and passed `--taken-after 2024-12`.
    static func isoDateTime(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19 else { return nil }
        let digitPositions = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
        guard digitPositions.allSatisfy({ (0x30...0x39).contains(bytes[$0]) }) else { return nil }
        guard [4, 7].allSatisfy({ bytes[$0] == 0x3A || bytes[$0] == 0x2D }),
            bytes[10] == 0x20 || bytes[10] == 0x54, bytes[13] == 0x3A, bytes[16] == 0x3A
        else { return nil }
        guard digitPositions.contains(where: { bytes[$0] != 0x30 }) else { return nil }
        var out = bytes[0..<19]
        out[4] = 0x2D
        out[7] = 0x2D
        out[10] = 0x54
        let time = String(decoding: out, as: UTF8.self)
        return TakenTime.isInCalendar(time) ? time : nil
    }

    /// "+HH:MM" / "-HH:MM" (EXIF 2.31: hours up to 14, minutes under 60), or `nil` when the text is not such an
    /// offset. "Z", "+0530" and "+5:30" are not EXIF offsets; exiftool does not read "Z" as +00:00 either.
    static func utcOffset(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard bytes.count == 6, bytes[0] == 0x2B || bytes[0] == 0x2D, bytes[3] == 0x3A,
            [1, 2, 4, 5].allSatisfy({ (0x30...0x39).contains(bytes[$0]) })
        else { return nil }
        let hours = Int(bytes[1] - 0x30) * 10 + Int(bytes[2] - 0x30)
        let minutes = Int(bytes[4] - 0x30) * 10 + Int(bytes[5] - 0x30)
        guard hours <= 14, minutes < 60 else { return nil }
        return text
    }

    /// Degrees + (minutes + seconds/60)/60 from one to three rationals, summed in exiftool's order so the last
    /// digit agrees (-179.99, not -179.98999999999998); `nil` when any is undefined.
    static func degrees(_ value: ExifEntryValue?) -> Double? {
        guard let value, value.isFractional || value.isInteger, value.availableCount > 0 else { return nil }
        var parts: [Double] = []
        for index in 0..<min(3, value.availableCount) {
            guard let part = value.exiftoolNumber(at: index) else { return nil }
            parts.append(part)
        }
        let minutes = parts.count > 1 ? parts[1] : 0
        let seconds = parts.count > 2 ? parts[2] : 0
        return parts[0] + (minutes + seconds / 60) / 60
    }

    /// -1 when the reference tag starts with `negative` ("S", "W"), else 1.
    static func sign(_ reference: ExifEntryValue?, negative: String) -> Double {
        guard let text = reference?.text?.uppercased() else { return 1 }
        return text.hasPrefix(negative) ? -1 : 1
    }
}
