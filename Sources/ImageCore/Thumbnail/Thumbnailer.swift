// The thumbnail pipeline: header → limits → one decode (shrink-on-load for the largest spec) → per spec
// resize → orient → crop → colour (sRGB, or the source profile kept) → encode.

/// Makes thumbnails from an image file in memory.
public enum Thumbnailer {
    /// One header read, ONE decode (shrink-on-load chosen for the largest spec), then per spec:
    /// resize → orient → crop → colour (to sRGB, or the profile kept) → encode.
    /// - Parameters:
    ///   - bytes: the whole source file (format sniffed from the bytes).
    ///   - specs: the thumbnails to make; the fit box applies to the upright picture.
    ///   - limits: checked from the header before decoding.
    ///   - overlap: whether the largest resize of a JPEG may run on a spare core while the picture is decoded
    ///     (`ImageDecoder.decode(resizingTo:)`): less time to the thumbnails when a core is idle, the same pixels.
    ///     Batch runs leave it off, so `-j N` keeps meaning N threads.
    /// - Throws: `ImageError` for unreadable, damaged, oversize input or an invalid spec; `.cancelled` when the
    ///   thread's `CancellationFlag` was raised (checked within the JPEG and PNG decodes, after the others, and
    ///   before each resize and encode).
    public static func render(
        _ bytes: UnsafeRawBufferPointer, specs: [ThumbnailSpec], limits: DecodeLimits, overlap: Bool = false
    ) throws(ImageError) -> ThumbnailRender {
        for spec in specs {
            guard spec.width > 0, spec.height > 0 else {
                throw .invalidRequest("thumbnail box \(spec.width)x\(spec.height) must be at least 1x1")
            }
            guard spec.format.isWritable else {
                throw .invalidRequest(
                    "picpipe cannot write \(spec.format.displayName); it writes "
                        + ImageFormat.writable.map(\.displayName).joined(separator: ", "))
            }
            guard spec.format == .png || (spec.format == .webp && spec.lossless) || (1...100).contains(spec.quality)
            else {
                throw .invalidRequest("\(spec.format.displayName) quality \(spec.quality) is not in 1-100")
            }
            guard spec.format != .avif || (0...9).contains(spec.speed) else {
                throw .invalidRequest("AVIF speed \(spec.speed) is not in 0-9")
            }
        }
        try limits.check(fileBytes: bytes.count)
        let header = try ImageHeader.read(from: bytes)
        try limits.check(header)
        let swapsAxes = header.orientation >= 5
        let upright = swapsAxes ? (header.height, header.width) : (header.width, header.height)
        // Per spec, the resized size in stored orientation.
        let plans = specs.map { spec in
            let resized = ThumbnailGeometry.resizedSize(
                sourceWidth: upright.0, sourceHeight: upright.1, boxWidth: spec.width, boxHeight: spec.height,
                fit: spec.fit)
            return swapsAxes ? (width: resized.height, height: resized.width) : resized
        }
        let needed = (width: plans.map(\.width).max() ?? 1, height: plans.map(\.height).max() ?? 1)
        // Largest first: each smaller size is reduced from the smallest larger result already made (a
        // Lanczos-filtered picture), not from the decode again, the way an image pyramid is built.
        let order = plans.indices.sorted { plans[$0].width * plans[$0].height > plans[$1].width * plans[$1].height }
        // Read here: the largest thumbnail may be finished on a helper thread, which has no current flag.
        let cancellation = CancellationFlag.current
        func stopIfCancelled() throws(ImageError) {
            if cancellation?.isCancelled == true { throw .cancelled }
        }
        let decoded = try ImageDecoder.decode(
            bytes, limits: limits, minimumSize: needed, resizingTo: overlap ? order.first.map { plans[$0] } : nil)
        // A WebP, GIF, HEIC or AVIF decode is one library call: it stops only here, after it.
        try stopIfCancelled()
        var thumbnails: [RenderedThumbnail?] = Array(repeating: nil, count: specs.count)
        guard let first = order.first else {
            return ThumbnailRender(header: header, shrink: decoded.shrink, colorProfile: decoded.colorProfile, thumbnails: [])
        }
        let (orientation, profile) = (header.orientation, decoded.colorProfile)
        var made: [PixelBuffer] = []
        let largestResized: PixelBuffer
        if let early = decoded.resized, early.width == plans[first].width, early.height == plans[first].height {
            largestResized = early
        } else {
            largestResized = ImageResizer.resize(decoded.pixels, width: plans[first].width, height: plans[first].height)
        }
        made.append(largestResized)
        let finishLargest: @Sendable () -> Result<RenderedThumbnail, ImageError> = { [spec = specs[first]] in
            Result { () throws(ImageError) in
                if cancellation?.isCancelled == true { throw .cancelled }
                return try finish(largestResized, spec: spec, orientation: orientation, profile: profile)
            }
        }
        // The smaller sizes, each from the smallest larger result made.
        var restFailure: ImageError?
        func makeRest() {
            for index in order.dropFirst() {
                let plan = plans[index]
                let source = made.last { $0.width >= plan.width && $0.height >= plan.height } ?? decoded.pixels
                do throws(ImageError) {
                    try stopIfCancelled()
                    let resized = ImageResizer.resize(source, width: plan.width, height: plan.height)
                    made.append(resized)
                    try stopIfCancelled()
                    thumbnails[index] = try finish(resized, spec: specs[index], orientation: orientation, profile: profile)
                } catch {
                    restFailure = error
                    return
                }
            }
        }
        if overlap && order.count > 1 {
            // The largest encoded on a spare core while the smaller ones are made.
            let (_, helped) = SpareCore.alongside(finishLargest, while: makeRest)
            thumbnails[first] = try (helped ?? finishLargest()).get()
        } else {
            thumbnails[first] = try finishLargest().get()
            makeRest()
        }
        if let restFailure { throw restFailure }
        return ThumbnailRender(
            header: header, shrink: decoded.shrink, colorProfile: decoded.colorProfile,
            thumbnails: thumbnails.compactMap { $0 })
    }

    /// Orients, crops (for `cover`), converts the colour (or keeps the profile) and encodes one resized picture.
    private static func finish(
        _ resized: PixelBuffer, spec: ThumbnailSpec, orientation: Int, profile: ColorProfile?
    ) throws(ImageError) -> RenderedThumbnail {
        var picture = resized.oriented(orientation)
        if spec.fit == .cover {
            let width = min(spec.width, picture.width)
            let height = min(spec.height, picture.height)
            picture = picture.cropped(
                x: (picture.width - width) / 2, y: (picture.height - height) / 2, width: width, height: height)
        }
        // Colour last, on the fewest pixels (as vipsthumbnail does): the resize works on the source's encoded
        // values either way, and converting the small result costs far less than converting the decode.
        var embedded: [UInt8]? = nil
        if let profile {
            // WebP output carries no profile here (that needs libwebpmux's chunk writer): converted instead.
            if spec.color == .keep && profile.space == .rgb && spec.format != .webp {
                embedded = profile.bytes
            } else if !profile.isSRGB, let converted = profile.convertedToSRGB(picture) {
                picture = converted
            }
        }
        let encoded = try ImageEncoder.encode(
            picture, format: spec.format, quality: spec.quality, progressive: spec.progressive,
            background: spec.background, iccProfile: embedded, lossless: spec.lossless, speed: spec.speed)
        return RenderedThumbnail(spec: spec, width: picture.width, height: picture.height, bytes: encoded)
    }
}
