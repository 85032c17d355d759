// High-quality downscaling: an integer box pre-shrink of premultiplied samples, then a separable Lanczos-3 reduce
// of the remaining (at most about 4x) factor. The libvips shape: cheap for big reductions, no aliasing.

/// Resizes pixel buffers with Lanczos-3 and premultiplied alpha.
public enum ImageResizer {
    /// The picture resampled to exactly `width` x `height` (aspect ratio is the caller's business).
    /// Alpha is premultiplied while filtering, so transparent pixels never bleed their colour.
    /// - Returns: the input unchanged when the size is the same or not positive.
    public static func resize(_ image: PixelBuffer, width: Int, height: Int) -> PixelBuffer {
        guard width > 0, height > 0, image.width > 0, image.height > 0,
            image.bytes.count >= image.width * image.height * image.channels, image.channels > 0
        else { return image }
        if width == image.width && height == image.height { return image }
        let channels = image.channels
        if filtersSourceRows(
            sourceWidth: image.width, sourceHeight: image.height, channels: channels, width: width, height: height)
        {
            // No pre-shrink: the horizontal pass reads the 8-bit samples itself (no full-size float copy); the rows
            // are all there, so the row-wise resize never waits.
            return image.bytes.withUnsafeBufferPointer { source in
                resize(
                    rowsOf: source, sourceWidth: image.width, sourceHeight: image.height, channels: channels,
                    hasAlpha: image.hasAlpha, width: width, height: height, rowsReady: { _ in true })!
            }
        }
        // Box-shrink by whole factors while at least 2x remains for the Lanczos reduce.
        let boxX = boxFactor(image.width, width)
        let boxY = boxFactor(image.height, height)
        let middleWidth = (image.width + boxX - 1) / boxX
        let middleHeight = (image.height + boxY - 1) / boxY
        let columns = ResampleWeights(
            sourceCount: middleWidth, outputCount: width, originalSpan: image.width, boxFactor: boxX)
        let rows = ResampleWeights(
            sourceCount: middleHeight, outputCount: height, originalSpan: image.height, boxFactor: boxY)
        let narrow = UnsafeMutableBufferPointer<Float>.allocate(capacity: width * middleHeight * channels)
        defer { narrow.deallocate() }
        let middle = UnsafeMutableBufferPointer<Float>.allocate(capacity: middleWidth * middleHeight * channels)
        defer { middle.deallocate() }
        image.bytes.withUnsafeBufferPointer { source in
            BoxShrink.run(
                source: source, width: image.width, height: image.height, channels: channels,
                hasAlpha: image.hasAlpha, boxX: boxX, boxY: boxY, into: middle)
        }
        LanczosPass.horizontal(
            source: UnsafeBufferPointer(middle), sourceWidth: middleWidth, rows: middleHeight, channels: channels,
            weights: columns, into: narrow)
        let count = width * height * channels
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { target, initialized in
            LanczosPass.vertical(
                source: UnsafeBufferPointer(narrow), width: width, channels: channels, hasAlpha: image.hasAlpha,
                weights: rows, into: target)
            initialized = count
        }
        return PixelBuffer(width: width, height: height, channels: channels, bytes: bytes)
    }

    /// The whole factor a side of `source` samples is box-shrunk by before the Lanczos reduce to `output` samples.
    static func boxFactor(_ source: Int, _ output: Int) -> Int { max(1, source / (2 * output)) }
}
