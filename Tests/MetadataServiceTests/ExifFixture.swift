// Pictures written by the tests: a TIFF/EXIF block from typed entries, wrapped in a minimal JPEG, PNG or WebP.
import Foundation
import MetadataService

/// One IFD entry as it will be written; `count` and `offset` can be forced to write hostile entries.
struct FixtureEntry {
    var tag: UInt16
    var type: UInt16
    var count: UInt32
    var payload: [UInt8]
    /// Written instead of the real value offset (for offsets past the end).
    var forcedOffset: UInt32?

    static func ascii(_ tag: UInt16, _ text: String) -> FixtureEntry {
        let bytes = Array(text.utf8) + [0]
        return FixtureEntry(tag: tag, type: 2, count: UInt32(bytes.count), payload: bytes)
    }

    static func asciiRaw(_ tag: UInt16, _ bytes: [UInt8]) -> FixtureEntry {
        FixtureEntry(tag: tag, type: 2, count: UInt32(bytes.count), payload: bytes)
    }

    static func byte(_ tag: UInt16, _ values: [UInt8]) -> FixtureEntry {
        FixtureEntry(tag: tag, type: 1, count: UInt32(values.count), payload: values)
    }

    static func undefined(_ tag: UInt16, _ values: [UInt8]) -> FixtureEntry {
        FixtureEntry(tag: tag, type: 7, count: UInt32(values.count), payload: values)
    }
}

/// Builds EXIF blocks in either byte order.
struct ExifFixture {
    var bigEndian = true
    var ifd0: [FixtureEntry] = []
    var exif: [FixtureEntry] = []
    var gps: [FixtureEntry] = []
    var ifd1: [FixtureEntry] = []

    func short(_ tag: UInt16, _ values: [UInt16]) -> FixtureEntry {
        FixtureEntry(tag: tag, type: 3, count: UInt32(values.count), payload: values.flatMap(bytes16))
    }

    func long(_ tag: UInt16, _ values: [UInt32]) -> FixtureEntry {
        FixtureEntry(tag: tag, type: 4, count: UInt32(values.count), payload: values.flatMap(bytes32))
    }

    func rational(_ tag: UInt16, _ values: [(UInt32, UInt32)]) -> FixtureEntry {
        FixtureEntry(
            tag: tag, type: 5, count: UInt32(values.count), payload: values.flatMap { bytes32($0.0) + bytes32($0.1) })
    }

    func bytes16(_ value: UInt16) -> [UInt8] {
        bigEndian ? [UInt8(value >> 8), UInt8(value & 0xFF)] : [UInt8(value & 0xFF), UInt8(value >> 8)]
    }

    func bytes32(_ value: UInt32) -> [UInt8] {
        let big = [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        return bigEndian ? big : big.reversed()
    }

    /// The TIFF block: header, sub-IFDs first (so IFD0's pointers are known), then IFD0.
    func tiff() -> [UInt8] {
        var out: [UInt8] = bigEndian ? [0x4D, 0x4D, 0x00, 0x2A] : [0x49, 0x49, 0x2A, 0x00]
        out += bytes32(0)  // IFD0 offset, patched below
        let exifOffset = exif.isEmpty ? nil : write(exif, next: 0, into: &out)
        let gpsOffset = gps.isEmpty ? nil : write(gps, next: 0, into: &out)
        let ifd1Offset = ifd1.isEmpty ? 0 : write(ifd1, next: 0, into: &out)
        var entries = ifd0
        if let exifOffset { entries.append(long(0x8769, [exifOffset])) }
        if let gpsOffset { entries.append(long(0x8825, [gpsOffset])) }
        entries.sort { $0.tag < $1.tag }
        let ifd0Offset = write(entries, next: ifd1Offset, into: &out)
        out.replaceSubrange(4..<8, with: bytes32(ifd0Offset))
        return out
    }

    /// Appends one IFD (and its out-of-line values) and returns its offset.
    func write(_ entries: [FixtureEntry], next: UInt32, into out: inout [UInt8]) -> UInt32 {
        if out.count % 2 == 1 { out.append(0) }
        let start = out.count
        out += bytes16(UInt16(entries.count))
        let tableStart = out.count
        out += [UInt8](repeating: 0, count: 12 * entries.count)
        out += bytes32(next)
        for (index, entry) in entries.enumerated() {
            var record = bytes16(entry.tag) + bytes16(entry.type) + bytes32(entry.count)
            if let forced = entry.forcedOffset {
                record += bytes32(forced)
            } else if entry.payload.count <= 4 {
                record += entry.payload + [UInt8](repeating: 0, count: 4 - entry.payload.count)
            } else {
                if out.count % 2 == 1 { out.append(0) }
                record += bytes32(UInt32(out.count))
                out += entry.payload
            }
            out.replaceSubrange(tableStart + 12 * index..<tableStart + 12 * index + 12, with: record)
        }
        return UInt32(start)
    }

    /// A baseline JPEG header: SOI, APP1 Exif (when given), SOF0, and an EOI; enough for the header probe.
    static func jpeg(tiff: [UInt8]?, width: Int = 64, height: Int = 48) -> [UInt8] {
        var out: [UInt8] = [0xFF, 0xD8]
        if let tiff {
            let payload = Array("Exif".utf8) + [0, 0] + tiff
            out += [0xFF, 0xE1, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)] + payload
        }
        out += [
            0xFF, 0xC0, 0x00, 0x11, 0x08, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8),
            UInt8(width & 0xFF), 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
        ]
        out += [0xFF, 0xD9]
        return out
    }

    /// A PNG with IHDR, an eXIf chunk (when given), an empty IDAT and IEND (CRCs are not checked by the probe
    /// but are written correctly anyway); `before` and `after` are more chunks (type, data) before and after IDAT.
    static func png(
        tiff: [UInt8]?, width: Int = 32, height: Int = 16, before: [(String, [UInt8])] = [],
        after: [(String, [UInt8])] = []
    ) -> [UInt8] {
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func be32(_ value: Int) -> [UInt8] {
            [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        }
        func chunk(_ type: String, _ data: [UInt8]) {
            let typeBytes = Array(type.utf8)
            out += be32(data.count) + typeBytes + data + be32(Int(crc32(typeBytes + data)))
        }
        chunk("IHDR", be32(width) + be32(height) + [8, 2, 0, 0, 0])
        for (type, data) in before { chunk(type, data) }
        if let tiff { chunk("eXIf", tiff) }
        chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
        for (type, data) in after { chunk(type, data) }
        chunk("IEND", [])
        return out
    }

    /// An extended WebP (VP8X, then a VP8L header, which is all the header probe reads) with an EXIF chunk when
    /// given; `exifLength` overrides the chunk's declared length (for lengths past the end).
    static func webp(exif: [UInt8]?, exifLength: UInt32? = nil, width: Int = 24, height: Int = 12) -> [UInt8] {
        func le(_ value: Int, _ count: Int) -> [UInt8] { (0..<count).map { UInt8(value >> (8 * $0) & 0xFF) } }
        var body = Array("WEBP".utf8)
        let flags: UInt8 = exif == nil ? 0 : 0x08
        body += Array("VP8X".utf8) + le(10, 4) + [flags, 0, 0, 0] + le(width - 1, 3) + le(height - 1, 3)
        // VP8L: signature, then 14 bits width - 1, 14 bits height - 1, no alpha, version 0; a little data after.
        let bits = (width - 1) | (height - 1) << 14
        let lossless = [0x2F] + le(bits, 4) + [0, 0, 0]
        body += Array("VP8L".utf8) + le(lossless.count, 4) + lossless
        if let exif {
            body += Array("EXIF".utf8) + le(Int(exifLength ?? UInt32(exif.count)), 4) + exif
            if exif.count % 2 == 1 { body.append(0) }
        }
        return Array("RIFF".utf8) + le(body.count, 4) + body
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// A camera-like block: make, model, time with offsets, exposure, GPS at the given position.
    static func camera(
        bigEndian: Bool = true, latitude: (ref: String, dms: [(UInt32, UInt32)])? = nil,
        longitude: (ref: String, dms: [(UInt32, UInt32)])? = nil, altitude: (ref: UInt8, value: (UInt32, UInt32))? = nil
    ) -> ExifFixture {
        var fixture = ExifFixture(bigEndian: bigEndian)
        fixture.ifd0 = [.ascii(0x010F, "FixtureCam  "), .ascii(0x0110, "Model X"), fixture.short(0x0112, [6])]
        fixture.exif = [
            fixture.rational(0x829A, [(1, 250)]), fixture.rational(0x829D, [(28, 10)]), fixture.short(0x8827, [400]),
            .ascii(0x9003, "2021:06:15 08:30:05"), .ascii(0x9011, "-04:00"), fixture.rational(0x920A, [(50, 1)]),
            fixture.short(0xA405, [75]), .ascii(0xA434, "Fixture 50mm F2.8"),
        ]
        if let latitude {
            fixture.gps.append(.ascii(0x0001, latitude.ref))
            fixture.gps.append(fixture.rational(0x0002, latitude.dms))
        }
        if let longitude {
            fixture.gps.append(.ascii(0x0003, longitude.ref))
            fixture.gps.append(fixture.rational(0x0004, longitude.dms))
        }
        if let altitude {
            fixture.gps.append(.byte(0x0005, [altitude.ref]))
            fixture.gps.append(fixture.rational(0x0006, [altitude.value]))
        }
        if !fixture.gps.isEmpty { fixture.gps.insert(.byte(0x0000, [2, 3, 0, 0]), at: 0) }
        return fixture
    }
}

extension ExifFixture {
    /// Reads metadata from in-memory bytes, the way the batch path does.
    static func read(_ bytes: [UInt8], file: String = "fixture", raw: Bool = true) throws -> ImageMetadata {
        try bytes.withUnsafeBytes { buffer in
            try MetadataReader.read(bytes: buffer, file: file, sha256: nil, includeRaw: raw)
        }
    }
}
