// The iCCP chunk `ColorMode.keep` puts into PNG thumbnails. libpng's simplified writer has no way to add chunks, so
// the chunk is built here: the profile in a zlib stream of stored (uncompressed) deflate blocks, which every
// inflater reads, then the chunk CRC. Profiles are a few kilobytes; compressing them would save little. The sRGB,
// gAMA and cHRM chunks that writer adds are taken out: a PNG should declare its colour space once.

/// Builds PNG iCCP chunks.
enum PNGColorChunk {
    /// The file with an iCCP chunk holding `profile` inserted right after IHDR (where the PNG specification wants
    /// it: before PLTE and IDAT), and without its sRGB, gAMA and cHRM chunks.
    static func inserting(_ profile: [UInt8], into file: [UInt8]) -> [UInt8] {
        let afterIHDR = 8 + 12 + 13
        guard file.count > afterIHDR else { return file }
        let png = removingColorSpaceChunks(file)
        var data: [UInt8] = Array("ICC profile".utf8) + [0, 0]  // name, NUL, compression method 0 (zlib)
        data += zlibStored(profile)
        var result = Array(png[0..<afterIHDR])
        result.reserveCapacity(png.count + data.count + 12)
        result += bigEndian(UInt32(data.count))
        let typeAndData = Array("iCCP".utf8) + data
        result += typeAndData
        result += bigEndian(crc32(typeAndData))
        result += png[afterIHDR...]
        return result
    }

    /// The file without sRGB, gAMA and cHRM chunks (a well-formed file from libpng; anything else is left whole).
    static func removingColorSpaceChunks(_ png: [UInt8]) -> [UInt8] {
        let dropped: Set<[UInt8]> = [Array("sRGB".utf8), Array("gAMA".utf8), Array("cHRM".utf8)]
        var result = Array(png.prefix(8))
        var position = 8
        while position + 12 <= png.count {
            let length =
                Int(png[position]) << 24 | Int(png[position + 1]) << 16 | Int(png[position + 2]) << 8
                | Int(png[position + 3])
            let end = position + 12 + length
            guard length >= 0, end <= png.count else { return png }
            if !dropped.contains(Array(png[(position + 4)..<(position + 8)])) {
                result += png[position..<end]
            }
            position = end
        }
        return position == png.count ? result : png
    }

    /// A zlib stream (RFC 1950) of stored deflate blocks (RFC 1951, BTYPE 00) holding `bytes`.
    static func zlibStored(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]  // deflate, 32 KiB window, no dictionary, fastest; (0x7801 % 31 == 0)
        var start = 0
        repeat {
            let length = min(65535, bytes.count - start)
            let final: UInt8 = start + length == bytes.count ? 1 : 0
            out += [
                final, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF),
            ]
            out += bytes[start..<(start + length)]
            start += length
        } while start < bytes.count
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return out + bigEndian(b << 16 | a)
    }

    /// CRC-32 (ISO 3309, as PNG uses it).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
