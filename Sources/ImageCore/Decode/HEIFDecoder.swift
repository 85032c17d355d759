// HEIC and AVIF pixels through libheif: the primary image, with its grid assembled and its rotation and mirror
// applied by libheif, converted to 8-bit interleaved RGB or RGBA; or, when the caller needs no more than it, the
// thumbnail image the file carries (phones store a 320x240 one beside the 12 MP grid), as vipsthumbnail does.
import CHEIF

/// Decodes the primary image of a HEIF container, or its embedded thumbnail when that is large enough.
enum HEIFDecoder {
    /// - Parameter minimumSize: the smallest picture (stored orientation) the caller needs, or `nil` for the
    ///   primary image at full size.
    static func decode(_ container: HEIFContainer, header: ImageHeader, minimumSize: (width: Int, height: Int)?)
        throws(ImageError) -> PixelBuffer
    {
        if let minimumSize, let thumbnail = container.thumbnail(atLeast: minimumSize) {
            defer { heif_image_handle_release(thumbnail) }
            let width = Int(heif_image_handle_get_width(thumbnail))
            let height = Int(heif_image_handle_get_height(thumbnail))
            if let pixels = try? decode(
                thumbnail, width: width, height: height, alpha: heif_image_handle_has_alpha_channel(thumbnail) != 0,
                format: header.format)
            {
                return pixels
            }  // A damaged thumbnail: the primary image decides.
        }
        return try decode(
            container.handle, width: header.width, height: header.height, alpha: container.hasAlpha,
            format: header.format)
    }

    private static func decode(
        _ handle: OpaquePointer, width expectedWidth: Int, height expectedHeight: Int, alpha: Bool, format: ImageFormat
    )
        throws(ImageError) -> PixelBuffer
    {
        let channels = alpha ? 4 : 3
        var image: OpaquePointer?
        let error = heif_decode_image(
            handle, &image, heif_colorspace_RGB, alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB,
            nil)
        guard error.code == heif_error_Ok, let image else {
            throw HEIFContainer.imageError(error, format: format, while: "decoding the picture")
        }
        defer { heif_image_release(image) }
        let width = Int(heif_image_get_width(image, heif_channel_interleaved))
        let height = Int(heif_image_get_height(image, heif_channel_interleaved))
        guard width == expectedWidth, height == expectedHeight,
            heif_image_get_bits_per_pixel_range(image, heif_channel_interleaved) == 8
        else {
            throw .corrupt(
                format: format,
                detail: "libheif decoded \(width)x\(height), the container says \(expectedWidth)x\(expectedHeight)")
        }
        var stride: Int32 = 0
        guard let plane = heif_image_get_plane_readonly(image, heif_channel_interleaved, &stride) else {
            throw .corrupt(format: format, detail: "libheif returned no pixels")
        }
        let rowBytes = width * channels
        var pixels = [UInt8](repeating: 0, count: rowBytes * height)
        pixels.withUnsafeMutableBufferPointer { target in
            for y in 0..<height {
                (target.baseAddress! + y * rowBytes).update(from: plane + y * Int(stride), count: rowBytes)
            }
        }
        if alpha, heif_image_handle_is_premultiplied_alpha(handle) != 0 { unpremultiply(&pixels) }
        return PixelBuffer(width: width, height: height, channels: channels, bytes: pixels)
    }

    /// Straight alpha from premultiplied (a file whose alpha is linked with `prem`): every pipeline step after the
    /// decode, and every encoder, takes colour and alpha apart.
    static func unpremultiply(_ pixels: inout [UInt8]) {
        pixels.withUnsafeMutableBufferPointer { rgba in
            var index = 0
            while index + 3 < rgba.count {
                let alpha = Int(rgba[index + 3])
                if alpha > 0, alpha < 255 {
                    for channel in 0..<3 {
                        rgba[index + channel] = UInt8(min(255, (Int(rgba[index + channel]) * 255 + alpha / 2) / alpha))
                    }
                }
                index += 4
            }
        }
    }
}
