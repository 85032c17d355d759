// AVIF output through libheif's AV1 encoder (aom on Debian): a quality, an encoder speed, one thread per picture
// (picpipe runs several pictures at once), alpha kept, 4:2:0 chroma, an ICC profile when asked.
import CHEIF

/// Encodes RGB or RGBA pixels to AVIF.
enum AVIFEncoder {
    /// - Parameters:
    ///   - quality: 1-100, libheif's lossy quality.
    ///   - speed: the AV1 encoder's speed, 0 (slowest, smallest) to 9 (fastest).
    ///   - iccProfile: an RGB ICC profile to embed, or `nil`.
    static func encode(_ image: PixelBuffer, quality: Int, speed: Int, iccProfile: [UInt8]?) throws(ImageError)
        -> [UInt8]
    {
        let picture = (image.channels == 3 || image.channels == 4 ? image : image.expandedToRGB())
            .withVisibleColourUnderTransparency()
        try HEIFContainer.requireLibrary(for: .avif)
        guard let context = heif_context_alloc() else { throw .encodeFailed(format: .avif, detail: "out of memory") }
        defer { heif_context_free(context) }
        var encoder: OpaquePointer?
        try check(
            heif_context_get_encoder_for_format(context, heif_compression_AV1, &encoder), "finding an AV1 encoder")
        guard let encoder else { throw .encodeFailed(format: .avif, detail: "libheif has no AV1 encoder") }
        defer { heif_encoder_release(encoder) }
        try check(heif_encoder_set_lossy_quality(encoder, Int32(quality)), "setting the quality")
        try check(heif_encoder_set_parameter_integer(encoder, "speed", Int32(speed)), "setting the speed")
        try check(heif_encoder_set_parameter_integer(encoder, "threads", 1), "setting the threads")

        var heifImage: OpaquePointer?
        let alpha = picture.channels == 4
        try check(
            heif_image_create(
                Int32(picture.width), Int32(picture.height), heif_colorspace_RGB,
                alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB, &heifImage), "creating the picture")
        guard let heifImage else { throw .encodeFailed(format: .avif, detail: "libheif made no picture") }
        defer { heif_image_release(heifImage) }
        try check(
            heif_image_add_plane(heifImage, heif_channel_interleaved, Int32(picture.width), Int32(picture.height), 8),
            "adding the pixel plane")
        var stride: Int32 = 0
        guard let plane = heif_image_get_plane(heifImage, heif_channel_interleaved, &stride) else {
            throw .encodeFailed(format: .avif, detail: "libheif gave no pixel plane")
        }
        let rowBytes = picture.width * picture.channels
        picture.bytes.withUnsafeBufferPointer { source in
            for y in 0..<picture.height {
                (plane + y * Int(stride)).update(from: source.baseAddress! + y * rowBytes, count: rowBytes)
            }
        }
        if let iccProfile, !iccProfile.isEmpty {
            let error = iccProfile.withUnsafeBytes { bytes in
                heif_image_set_raw_color_profile(heifImage, "prof", bytes.baseAddress, bytes.count)
            }
            try check(error, "embedding the ICC profile")
        }
        try check(heif_context_encode_image(context, heifImage, encoder, nil, nil), "encoding")
        var buffer = CHEIF_Buffer()
        defer { CHEIF_freeBuffer(&buffer) }
        try check(CHEIF_writeToMemory(context, &buffer), "writing the file")
        guard buffer.failed == 0, let bytes = buffer.bytes else {
            throw .encodeFailed(format: .avif, detail: "out of memory writing the file")
        }
        return Array(UnsafeBufferPointer(start: bytes, count: buffer.size))
    }

    private static func check(_ error: heif_error, _ step: String) throws(ImageError) {
        guard error.code != heif_error_Ok else { return }
        let message = error.message.map { String(cString: $0) } ?? "libheif error \(error.code.rawValue)"
        throw .encodeFailed(format: .avif, detail: "\(step): \(message)")
    }
}
