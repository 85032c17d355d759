// Reads a WebP's canvas size, alpha and animation flags with libwebp's header parser (no pixels decoded), and the
// EXIF orientation from its EXIF chunk.
import CWebP

/// Reads a WebP's header.
enum WebPHeaderParser {
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageHeader {
        let features = try features(bytes)
        let width = Int(features.width)
        let height = Int(features.height)
        guard width > 0, height > 0 else { throw .invalidDimensions(width: width, height: height) }
        var orientation = 1
        if let tiff = RIFFChunks.exifTIFF(in: bytes) {
            orientation = EXIFOrientation.read(tiff: UnsafeRawBufferPointer(rebasing: bytes[tiff])) ?? 1
        }
        return ImageHeader(format: .webp, width: width, height: height, orientation: orientation)
    }

    /// libwebp's view of the header: canvas size, alpha, animation.
    static func features(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> WebPBitstreamFeatures {
        guard let base = bytes.baseAddress else { throw .truncated(detail: "no WebP data") }
        var features = WebPBitstreamFeatures()
        let status = WebPGetFeatures(base.assumingMemoryBound(to: UInt8.self), bytes.count, &features)
        switch status {
        case VP8_STATUS_OK: return features
        case VP8_STATUS_NOT_ENOUGH_DATA: throw .truncated(detail: "the WebP data ends before its header is complete")
        default: throw .corrupt(format: .webp, detail: "libwebp cannot read the header (\(WebPStatus.describe(status)))")
        }
    }
}

/// libwebp's status codes in words.
enum WebPStatus {
    static func describe(_ status: VP8StatusCode) -> String {
        switch status {
        case VP8_STATUS_OUT_OF_MEMORY: return "out of memory"
        case VP8_STATUS_INVALID_PARAM: return "invalid parameter"
        case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error"
        case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature"
        case VP8_STATUS_SUSPENDED: return "suspended"
        case VP8_STATUS_USER_ABORT: return "aborted"
        case VP8_STATUS_NOT_ENOUGH_DATA: return "not enough data"
        default: return "status \(status.rawValue)"
        }
    }
}
