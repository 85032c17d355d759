// WebP pixels through libwebp: a still picture straight into a buffer picpipe allocated after the limits check;
// an animation's first frame through the demuxer's animation decoder (which composes it onto the canvas).
import CWebP

/// Decodes WebP data to 8-bit RGB, or RGBA when the picture has alpha.
enum WebPDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, header: ImageHeader) throws(ImageError) -> PixelBuffer {
        if let declared = RIFFChunks.declaredFileSize(bytes), declared > bytes.count {
            throw .truncated(detail: "the RIFF header declares \(declared) bytes, the file has \(bytes.count)")
        }
        let features = try WebPHeaderParser.features(bytes)
        if features.has_animation != 0 { return try decodeFirstFrame(bytes, header: header) }
        let channels = features.has_alpha != 0 ? 4 : 3
        let stride = header.width * channels
        var pixels = [UInt8](repeating: 0, count: stride * header.height)
        var config = WebPDecoderConfig()
        guard WebPInitDecoderConfig(&config) != 0 else {
            throw .corrupt(format: .webp, detail: "libwebp's decoder version does not match its headers")
        }
        let status = pixels.withUnsafeMutableBufferPointer { target -> VP8StatusCode in
            config.output.colorspace = channels == 4 ? MODE_RGBA : MODE_RGB
            config.output.is_external_memory = 1
            config.output.u.RGBA.rgba = target.baseAddress
            config.output.u.RGBA.stride = Int32(stride)
            config.output.u.RGBA.size = target.count
            return WebPDecode(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count, &config)
        }
        WebPFreeDecBuffer(&config.output)
        switch status {
        case VP8_STATUS_OK:
            return PixelBuffer(width: header.width, height: header.height, channels: channels, bytes: pixels)
        case VP8_STATUS_NOT_ENOUGH_DATA:
            throw .truncated(detail: "the WebP data ends before the picture does")
        default:
            throw .corrupt(format: .webp, detail: "libwebp cannot decode the picture (\(WebPStatus.describe(status)))")
        }
    }

    /// The first frame of an animation, composed on its canvas (RGBA; alpha dropped when every pixel is opaque).
    private static func decodeFirstFrame(_ bytes: UnsafeRawBufferPointer, header: ImageHeader) throws(ImageError)
        -> PixelBuffer
    {
        var data = WebPData(bytes: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), size: bytes.count)
        var options = WebPAnimDecoderOptions()
        guard WebPAnimDecoderOptionsInit(&options) != 0 else {
            throw .corrupt(format: .webp, detail: "libwebp's demuxer version does not match its headers")
        }
        options.color_mode = MODE_RGBA
        options.use_threads = 0
        guard let decoder = WebPAnimDecoderNew(&data, &options) else {
            throw .corrupt(format: .webp, detail: "libwebp cannot read the animation's frames (damaged or truncated)")
        }
        defer { WebPAnimDecoderDelete(decoder) }
        var info = WebPAnimInfo()
        guard WebPAnimDecoderGetInfo(decoder, &info) != 0, Int(info.canvas_width) == header.width,
            Int(info.canvas_height) == header.height
        else {
            throw .corrupt(format: .webp, detail: "the animation's canvas differs from its header")
        }
        var frame: UnsafeMutablePointer<UInt8>?
        var timestamp: Int32 = 0
        guard WebPAnimDecoderGetNext(decoder, &frame, &timestamp) != 0, let frame else {
            throw .corrupt(format: .webp, detail: "libwebp cannot decode the animation's first frame")
        }
        let rgba = Array(UnsafeBufferPointer(start: frame, count: header.width * header.height * 4))
        return PixelBuffer(width: header.width, height: header.height, channels: 4, bytes: rgba).droppingOpaqueAlpha()
    }
}
