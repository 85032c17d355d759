// Fixture builders shared by the ImageCore suites: synthetic pictures, a minimal PNG writer (stored deflate, any
// colour type, bit depth and Adam7), EXIF blocks and marker/chunk surgery. Everything is generated in memory.

import ImageCore

enum TestPictures {
    /// Four quadrants: top-left red, top-right green, bottom-left blue, bottom-right white.
    static let quadrantColours: [[UInt8]] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]

    static func quadrants(width: Int, height: Int) -> PixelBuffer {
        var bytes = [UInt8]()
        bytes.reserveCapacity(width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let index = (y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1)
                bytes.append(contentsOf: quadrantColours[index])
            }
        }
        return PixelBuffer(width: width, height: height, channels: 3, bytes: bytes)
    }

    /// A smooth gradient with a little deterministic texture, like a photo.
    static func photo(width: Int, height: Int) -> PixelBuffer {
        var bytes = [UInt8](repeating: 0, count: width * height * 3)
        var seed: UInt32 = 12345
        for y in 0..<height {
            for x in 0..<width {
                seed = seed &* 1_103_515_245 &+ 12345
                let noise = Int(seed >> 28) - 8
                let index = (y * width + x) * 3
                bytes[index] = UInt8(clamping: x * 255 / max(1, width - 1) + noise)
                bytes[index + 1] = UInt8(clamping: y * 255 / max(1, height - 1) + noise)
                bytes[index + 2] = UInt8(clamping: 128 + (x + y) % 64 + noise)
            }
        }
        return PixelBuffer(width: width, height: height, channels: 3, bytes: bytes)
    }

    // MARK: EXIF

    /// A TIFF block whose IFD0 holds only the Orientation tag.
    static func tiff(orientation: Int, bigEndian: Bool) -> [UInt8] {
        func u16(_ value: Int) -> [UInt8] {
            bigEndian ? [UInt8(value >> 8), UInt8(value & 0xFF)] : [UInt8(value & 0xFF), UInt8(value >> 8)]
        }
        func u32(_ value: Int) -> [UInt8] {
            bigEndian ? u16(value >> 16) + u16(value & 0xFFFF) : u16(value & 0xFFFF) + u16(value >> 16)
        }
        let order: [UInt8] = bigEndian ? [0x4D, 0x4D] : [0x49, 0x49]
        // Header, IFD0 at offset 8 with one entry: tag 0x0112, SHORT, count 1, value.
        return order + u16(42) + u32(8) + u16(1) + u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0) + u32(0)
    }

    /// The JPEG with an APP1 Exif segment inserted after SOI.
    static func jpeg(_ file: [UInt8], withEXIF tiff: [UInt8]) -> [UInt8] {
        let payload: [UInt8] = Array("Exif".utf8) + [0, 0] + tiff
        let length = payload.count + 2
        return [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload + file.dropFirst(2)
    }

    /// The PNG with an extra chunk inserted right after IHDR.
    static func png(_ file: [UInt8], inserting type: String, data: [UInt8]) -> [UInt8] {
        let afterIHDR = 8 + 12 + 13
        return Array(file[0..<afterIHDR]) + chunk(type, data) + file[afterIHDR...]
    }

    // MARK: A minimal PNG writer

    /// A PNG from raw samples (`samples` holds one row after another of `width * samplesPerPixel` values, each
    /// 0..<2^bitDepth), written with stored (uncompressed) deflate blocks.
    static func png(
        width: Int, height: Int, colorType: UInt8, bitDepth: UInt8, samples: [Int], palette: [[UInt8]] = [],
        transparency: [UInt8]? = nil, interlaced: Bool = false
    ) -> [UInt8] {
        let perPixel = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][Int(colorType)] ?? 1
        func packRows(_ columns: [Int], _ rows: [Int]) -> [UInt8] {
            var out = [UInt8]()
            for y in rows {
                out.append(0)  // filter: none
                var bits = 0
                var accumulator = 0
                for x in columns {
                    for s in 0..<perPixel {
                        let value = samples[(y * width + x) * perPixel + s]
                        if bitDepth == 16 {
                            out.append(UInt8(value >> 8))
                            out.append(UInt8(value & 0xFF))
                        } else if bitDepth == 8 {
                            out.append(UInt8(value))
                        } else {
                            accumulator = accumulator << Int(bitDepth) | value
                            bits += Int(bitDepth)
                            if bits == 8 {
                                out.append(UInt8(accumulator))
                                bits = 0
                                accumulator = 0
                            }
                        }
                    }
                }
                if bits > 0 { out.append(UInt8(accumulator << (8 - bits))) }
            }
            return out
        }
        var raw = [UInt8]()
        if interlaced {
            let passes = [
                (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2),
            ]
            for (x0, y0, dx, dy) in passes {
                let columns = Array(stride(from: x0, to: width, by: dx))
                let rows = Array(stride(from: y0, to: height, by: dy))
                if columns.isEmpty || rows.isEmpty { continue }
                raw += packRows(columns, rows)
            }
        } else {
            raw = packRows(Array(0..<width), Array(0..<height))
        }
        var header = [UInt8]()
        header += be32(width) + be32(height)
        header += [bitDepth, colorType, 0, 0, interlaced ? 1 : 0]
        var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        file += chunk("IHDR", header)
        if !palette.isEmpty { file += chunk("PLTE", palette.flatMap { $0 }) }
        if let transparency { file += chunk("tRNS", transparency) }
        file += chunk("IDAT", zlibStored(raw))
        file += chunk("IEND", [])
        return file
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return be32(data.count) + typeBytes + data + be32(Int(crc32(typeBytes + data)))
    }

    static func be32(_ value: Int) -> [UInt8] {
        [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let length = min(65535, data.count - offset)
            let final: UInt8 = offset + length == data.count ? 1 : 0
            out += [
                final, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF),
            ]
            out += data[offset..<(offset + length)]
            offset += length
        } while offset < data.count
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return out + be32(Int(b << 16 | a))
    }

    // MARK: Reading results

    static func decode(_ file: [UInt8], minimumSize: (width: Int, height: Int)? = nil) throws -> DecodedImage {
        try file.withUnsafeBytes { try ImageDecoder.decode($0, limits: .default, minimumSize: minimumSize) }
    }

    static func header(_ file: [UInt8]) throws -> ImageHeader {
        try file.withUnsafeBytes { try ImageHeader.read(from: $0) }
    }

    static func render(_ file: [UInt8], _ specs: [ThumbnailSpec], limits: DecodeLimits = .default) throws
        -> ThumbnailRender
    {
        try file.withUnsafeBytes { try Thumbnailer.render($0, specs: specs, limits: limits) }
    }

    /// Mean absolute difference of two same-size buffers.
    static func meanAbsoluteDifference(_ a: PixelBuffer, _ b: PixelBuffer) -> Double {
        guard a.bytes.count == b.bytes.count, !a.bytes.isEmpty else { return .infinity }
        var total = 0
        for index in a.bytes.indices { total += abs(Int(a.bytes[index]) - Int(b.bytes[index])) }
        return Double(total) / Double(a.bytes.count)
    }

    /// Whether two pixels match within a tolerance per sample.
    static func close(_ a: ArraySlice<UInt8>, _ b: [UInt8], tolerance: Int) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs(Int($0) - Int($1)) <= tolerance }
    }
}
