// PNG pixels through libpng's simplified API (which does its own setjmp), always to 8-bit RGB or RGBA.

import CPNG

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
        image.format = hasAlpha ? CPNG_formatRGBA() : CPNG_formatRGB()
        // 16-bit files are sRGB-encoded like 8-bit ones unless a gAMA chunk says otherwise (libpng assumes linear).
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        let channels = hasAlpha ? 4 : 3
        let capacity = header.width * header.height * channels
        var succeeded = false
        let pixels = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            succeeded = png_image_finish_read(&image, nil, buffer.baseAddress, 0, nil) != 0
            initialized = succeeded ? capacity : 0
        }
        guard succeeded else {
            let detail = message(of: image)
            png_image_free(&image)
            throw .corrupt(format: .png, detail: detail)
        }
        // Warnings (a damaged ancillary chunk that libpng skipped) leave the pixels intact: accepted.
        png_image_free(&image)
        return PixelBuffer(width: header.width, height: header.height, channels: channels, bytes: pixels)
    }

    private static func message(of image: png_image) -> String {
        let text = withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return text.isEmpty ? "libpng refused the data" : text
    }
}
