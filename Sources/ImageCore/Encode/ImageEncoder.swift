// Encoding pixels to JPEG (libjpeg-turbo via the shim), PNG (libpng's simplified writer), WebP (libwebp) or AVIF
// (libheif's AV1 encoder). No metadata is written but, when asked, an ICC profile (JPEG, PNG, AVIF).

import CJPEGShims
import CPNG

/// Encodes pixel buffers to files in memory.
public enum ImageEncoder {
    /// The encoded file.
    /// - Parameters:
    ///   - image: RGB or RGBA pixels.
    ///   - format: JPEG (4:2:0, alpha flattened onto `background`), PNG, WebP or AVIF (alpha kept); GIF and HEIC
    ///     are refused (`ImageFormat.isWritable`).
    ///   - quality: JPEG, lossy WebP and AVIF quality 1-100.
    ///   - progressive: progressive JPEG.
    ///   - background: the colour under transparent pixels for JPEG.
    ///   - iccProfile: an RGB ICC profile to embed (JPEG APP2 ICC_PROFILE markers, PNG iCCP, AVIF colr), or `nil`
    ///     for none; WebP output never carries one.
    ///   - lossless: lossless WebP.
    ///   - speed: the AVIF encoder's speed, 0-9.
    /// - Returns: the file's bytes; JPEG output carries no APP1 (no EXIF, no GPS).
    public static func encode(
        _ image: PixelBuffer, format: ImageFormat, quality: Int = 82, progressive: Bool = false,
        background: RGBColor = .white, iccProfile: [UInt8]? = nil, lossless: Bool = false, speed: Int = 6
    ) throws(ImageError) -> [UInt8] {
        guard image.width > 0, image.height > 0, image.bytes.count == image.width * image.height * image.channels
        else {
            throw .invalidRequest(
                "cannot encode a \(image.width)x\(image.height) picture of \(image.bytes.count) bytes")
        }
        switch format {
        case .jpeg:
            guard (1...100).contains(quality) else { throw .invalidRequest("JPEG quality \(quality) is not in 1-100") }
            return try encodeJPEG(
                image.flattened(onto: background), quality: quality, progressive: progressive, iccProfile: iccProfile)
        case .png:
            let file = try encodePNG(image)
            guard let iccProfile, !iccProfile.isEmpty else { return file }
            return PNGColorChunk.inserting(iccProfile, into: file)
        case .webp:
            guard lossless || (1...100).contains(quality) else {
                throw .invalidRequest("WebP quality \(quality) is not in 1-100")
            }
            return try WebPEncoder.encode(image, quality: quality, lossless: lossless)
        case .avif:
            guard (1...100).contains(quality) else { throw .invalidRequest("AVIF quality \(quality) is not in 1-100") }
            guard (0...9).contains(speed) else { throw .invalidRequest("AVIF speed \(speed) is not in 0-9") }
            return try AVIFEncoder.encode(image, quality: quality, speed: speed, iccProfile: iccProfile)
        case .gif, .heic:
            throw .invalidRequest(
                "picpipe reads \(format.displayName) but does not write it; it writes "
                    + ImageFormat.writable.map(\.displayName).joined(separator: ", "))
        }
    }

    private static func encodeJPEG(_ image: PixelBuffer, quality: Int, progressive: Bool, iccProfile: [UInt8]?)
        throws(ImageError) -> [UInt8]
    {
        guard image.channels == 3 else {
            throw .invalidRequest("JPEG needs RGB pixels, got \(image.channels) channels")
        }
        var status = CJPEGShims_Status()
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let profile = iccProfile ?? []
        guard profile.count <= 0xFFFF_0000 else {
            throw .invalidRequest("ICC profile of \(profile.count) bytes is too large")
        }
        let code = image.bytes.withUnsafeBufferPointer { pixels in
            profile.withUnsafeBufferPointer { icc in
                Int(
                    CJPEGShims_encodeRGB(
                        pixels.baseAddress, Int32(image.width), Int32(image.height), Int32(quality),
                        progressive ? 1 : 0, icc.count > 0 ? icc.baseAddress : nil, UInt32(icc.count), &output, &size,
                        &status))
            }
        }
        defer { CJPEGShims_free(output) }
        guard code == CJPEGShims_ok, let output else {
            let message = withUnsafeBytes(of: status.message) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            throw .encodeFailed(format: .jpeg, detail: message.isEmpty ? "libjpeg failed (code \(code))" : message)
        }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }

    private static func encodePNG(_ image: PixelBuffer) throws(ImageError) -> [UInt8] {
        var png = png_image()
        png.version = CPNG_imageVersion()
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        switch image.channels {
        case 3: png.format = CPNG_formatRGB()
        case 4: png.format = CPNG_formatRGBA()
        case 1: png.format = CPNG_formatGray()
        case 2: png.format = CPNG_formatGray() | CPNG_formatFlagAlpha()
        default: throw .invalidRequest("PNG needs 1 to 4 channels, got \(image.channels)")
        }
        var size = 0
        // First call measures, second call writes into a buffer of that size.
        let measured = image.bytes.withUnsafeBufferPointer { pixels in
            png_image_write_to_memory(&png, nil, &size, 0, pixels.baseAddress, 0, nil)
        }
        guard measured != 0, size > 0 else { throw encodeError(png) }
        var written = size
        var succeeded = false
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            succeeded = image.bytes.withUnsafeBufferPointer { pixels in
                png_image_write_to_memory(&png, buffer.baseAddress, &written, 0, pixels.baseAddress, 0, nil) != 0
            }
            initialized = succeeded ? min(written, size) : 0
        }
        guard succeeded else { throw encodeError(png) }
        return bytes
    }

    private static func encodeError(_ png: png_image) -> ImageError {
        var image = png
        let message = withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        png_image_free(&image)
        return .encodeFailed(format: .png, detail: message.isEmpty ? "libpng failed" : message)
    }
}
