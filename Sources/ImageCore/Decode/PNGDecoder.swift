// PNG pixels through libpng's simplified API (which does its own setjmp), always to 8-bit RGB or RGBA.

import CPNG

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Decodes PNG data to 8-bit RGB, or RGBA when the file has alpha or tRNS.
enum PNGDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, header: ImageHeader) throws(ImageError) -> PixelBuffer {
        // libpng's simplified reader stops at the end of the pixels; an incomplete file must not pass.
        try PNGHeaderParser.checkComplete(bytes)
        guard let base = bytes.baseAddress else { throw .truncated(detail: "no PNG data") }
        var image = png_image()
        image.version = CPNG_imageVersion()
        guard png_image_begin_read_from_memory(&image, base, bytes.count) != 0 else {
            defer { png_image_free(&image) }
            throw .corrupt(format: .png, detail: message(of: image))
        }
        guard Int(image.width) == header.width, Int(image.height) == header.height else {
            png_image_free(&image)
            throw .corrupt(format: .png, detail: "libpng reads \(image.width)x\(image.height), the IHDR says otherwise")
        }
        let hasAlpha = image.format & CPNG_formatFlagAlpha() != 0
        let isPalette = image.format & CPNG_formatFlagColormap() != 0
        image.format = hasAlpha ? CPNG_formatRGBA() : CPNG_formatRGB()
        // 16-bit files are sRGB-encoded like 8-bit ones unless a gAMA chunk says otherwise (libpng assumes linear).
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        let channels = hasAlpha ? 4 : 3
        let pixels: [UInt8]
        if bytes[24] == 16 && bytes[28] == 1 {
            pixels = try readInterlacedSixteenBit(&image, count: header.width * header.height, channels: channels)
        } else if isPalette {
            pixels = try readPalette(&image, header: header, channels: channels)
        } else {
            pixels = try readDirect(&image, count: header.width * header.height * channels)
        }
        // Warnings (a damaged ancillary chunk that libpng skipped) leave the pixels intact: accepted.
        png_image_free(&image)
        return PixelBuffer(width: header.width, height: header.height, channels: channels, bytes: pixels)
    }

    /// Reads straight into the output format; frees the image on failure.
    private static func readDirect(_ image: inout png_image, count: Int) throws(ImageError) -> [UInt8] {
        var succeeded = false
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            succeeded = png_image_finish_read(&image, nil, buffer.baseAddress, 0, nil) != 0
            initialized = succeeded ? count : 0
        }
        guard succeeded else {
            let detail = message(of: image)
            png_image_free(&image)
            throw .corrupt(format: .png, detail: detail)
        }
        return pixels
    }

    /// libpng 1.6.39's simplified reader scrambles Adam7 16-bit files when it converts them to 8-bit; its 16-bit
    /// linear output is right, so read that (alpha premultiplied) and encode it back to 8-bit here.
    private static func readInterlacedSixteenBit(_ image: inout png_image, count: Int, channels: Int)
        throws(ImageError) -> [UInt8]
    {
        image.format = (channels == 4 ? CPNG_formatRGBA() : CPNG_formatRGB()) | CPNG_formatFlagLinear()
        var linear = [UInt16](repeating: 0, count: count * channels)
        let succeeded = linear.withUnsafeMutableBytes { buffer in
            png_image_finish_read(&image, nil, buffer.baseAddress, 0, nil) != 0
        }
        guard succeeded else {
            let detail = message(of: image)
            png_image_free(&image)
            throw .corrupt(format: .png, detail: detail)
        }
        // libpng's simplified API encodes with a plain 2.2 power law; use the same to get its 8-bit values back.
        let hasAlpha = channels == 4
        return [UInt8](unsafeUninitializedCapacity: count * channels) { out, initialized in
            for pixel in 0..<count {
                let base = pixel * channels
                let alpha = hasAlpha ? Double(linear[base + 3]) : 65535
                for c in 0..<3 {
                    let value = alpha > 0 ? min(1, Double(linear[base + c]) / alpha) : 0
                    out[base + c] = UInt8((255 * pow(value, 1 / 2.2)).rounded())
                }
                if hasAlpha { out[base + 3] = UInt8((alpha / 257).rounded()) }
            }
            initialized = count * channels
        }
    }

    /// Palette files are read as indices plus colormap, so an index past the end of PLTE is caught (libpng's
    /// simplified reader would silently show it black); frees the image on failure.
    private static func readPalette(_ image: inout png_image, header: ImageHeader, channels: Int) throws(ImageError)
        -> [UInt8]
    {
        image.format |= CPNG_formatFlagColormap()
        let pixelCount = header.width * header.height
        var colormap = [UInt8](repeating: 0, count: 256 * channels)
        var succeeded = false
        let indices = [UInt8](unsafeUninitializedCapacity: pixelCount) { buffer, initialized in
            succeeded = colormap.withUnsafeMutableBytes { map in
                png_image_finish_read(&image, nil, buffer.baseAddress, 0, map.baseAddress) != 0
            }
            initialized = succeeded ? pixelCount : 0
        }
        guard succeeded else {
            let detail = message(of: image)
            png_image_free(&image)
            throw .corrupt(format: .png, detail: detail)
        }
        let entries = Int(image.colormap_entries)
        let highest = Int(indices.max() ?? 0)
        guard highest < entries else {
            png_image_free(&image)
            throw .corrupt(
                format: .png, detail: "a pixel uses palette index \(highest) but PLTE has \(entries) entries")
        }
        return [UInt8](unsafeUninitializedCapacity: pixelCount * channels) { buffer, initialized in
            colormap.withUnsafeBufferPointer { map in
                guard let out = buffer.baseAddress, let palette = map.baseAddress else { return }
                for (position, index) in indices.enumerated() {
                    let from = palette + Int(index) * channels
                    let to = out + position * channels
                    for c in 0..<channels { to[c] = from[c] }
                }
            }
            initialized = pixelCount * channels
        }
    }

    private static func message(of image: png_image) -> String {
        let text = withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return text.isEmpty ? "libpng refused the data" : text
    }
}
