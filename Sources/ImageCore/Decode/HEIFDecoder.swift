// HEIC and AVIF pixels through libheif: the primary image, with its grid assembled and its rotation and mirror
// applied by libheif, converted to 8-bit interleaved RGB or RGBA.
import CHEIF

/// Decodes the primary image of a HEIF container.
enum HEIFDecoder {
    static func decode(_ container: HEIFContainer, header: ImageHeader) throws(ImageError) -> PixelBuffer {
        let alpha = container.hasAlpha
        let channels = alpha ? 4 : 3
        var image: OpaquePointer?
        let error = heif_decode_image(
            container.handle, &image, heif_colorspace_RGB,
            alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB, nil)
        guard error.code == heif_error_Ok, let image else {
            throw HEIFContainer.imageError(error, format: header.format, while: "decoding the picture")
        }
        defer { heif_image_release(image) }
        let width = Int(heif_image_get_width(image, heif_channel_interleaved))
        let height = Int(heif_image_get_height(image, heif_channel_interleaved))
        guard width == header.width, height == header.height,
            heif_image_get_bits_per_pixel_range(image, heif_channel_interleaved) == 8
        else {
            throw .corrupt(
                format: header.format,
                detail: "libheif decoded \(width)x\(height), the container says \(header.width)x\(header.height)")
        }
        var stride: Int32 = 0
        guard let plane = heif_image_get_plane_readonly(image, heif_channel_interleaved, &stride) else {
            throw .corrupt(format: header.format, detail: "libheif returned no pixels")
        }
        let rowBytes = width * channels
        var pixels = [UInt8](repeating: 0, count: rowBytes * height)
        pixels.withUnsafeMutableBufferPointer { target in
            for y in 0..<height {
                (target.baseAddress! + y * rowBytes).update(from: plane + y * Int(stride), count: rowBytes)
            }
        }
        return PixelBuffer(width: width, height: height, channels: channels, bytes: pixels)
    }
}
