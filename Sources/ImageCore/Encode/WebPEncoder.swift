// WebP output through libwebp's encoder: lossy at a quality, or lossless; alpha kept.
import CWebP

/// Encodes RGB or RGBA pixels to WebP.
enum WebPEncoder {
    /// - Parameters:
    ///   - quality: 1-100 for lossy output (ignored when `lossless`).
    ///   - lossless: exact pixels (libwebp's lossless mode at its default effort).
    static func encode(_ image: PixelBuffer, quality: Int, lossless: Bool) throws(ImageError) -> [UInt8] {
        let picture = image.channels == 3 || image.channels == 4 ? image : image.expandedToRGB()
        guard picture.width <= Int(WEBP_MAX_DIMENSION), picture.height <= Int(WEBP_MAX_DIMENSION) else {
            throw .encodeFailed(
                format: .webp, detail: "\(picture.width)x\(picture.height) is over WebP's \(WEBP_MAX_DIMENSION) a side")
        }
        var output: UnsafeMutablePointer<UInt8>?
        let stride = Int32(picture.width * picture.channels)
        let (width, height) = (Int32(picture.width), Int32(picture.height))
        let size = picture.bytes.withUnsafeBufferPointer { pixels -> Int in
            let base = pixels.baseAddress
            switch (picture.channels, lossless) {
            case (4, true): return WebPEncodeLosslessRGBA(base, width, height, stride, &output)
            case (4, false): return WebPEncodeRGBA(base, width, height, stride, Float(quality), &output)
            case (_, true): return WebPEncodeLosslessRGB(base, width, height, stride, &output)
            default: return WebPEncodeRGB(base, width, height, stride, Float(quality), &output)
            }
        }
        defer { WebPFree(output) }
        guard size > 0, let output else { throw .encodeFailed(format: .webp, detail: "libwebp's encoder failed") }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }
}
