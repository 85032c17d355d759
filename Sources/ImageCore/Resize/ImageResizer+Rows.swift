// The resize of a picture whose rows are still being decoded: each block of rows is filtered as soon as the decode
// has written it, and each output row as soon as the rows it reads are filtered, so when the decode ends only its
// last rows are left. `resize` uses it with every row already there whenever there is no box pre-shrink.

extension ImageResizer {
    /// Whether a resize from `source` to `width` x `height` filters the source's own rows (no box pre-shrink, 8-bit
    /// RGB or RGBA): the case `resize(rowsOf:...)` handles, for `resize` too.
    static func filtersSourceRows(sourceWidth: Int, sourceHeight: Int, channels: Int, width: Int, height: Int) -> Bool {
        width > 0 && height > 0 && (channels == 3 || channels == 4) && (sourceWidth, sourceHeight) != (width, height)
            && boxFactor(sourceWidth, width) == 1 && boxFactor(sourceHeight, height) == 1
    }

    /// `resize` of `source` (`sourceWidth` x `sourceHeight`, `channels` 8-bit samples a pixel), reading its rows as
    /// they are written: `rowsReady(n)` returns once the first `n` rows are there, `false` if they never will be.
    /// - Returns: the resized picture, or `nil` when the rows stopped coming.
    static func resize(
        rowsOf source: UnsafeBufferPointer<UInt8>, sourceWidth: Int, sourceHeight: Int, channels: Int,
        hasAlpha: Bool, width: Int, height: Int, rowsReady: (Int) -> Bool
    ) -> PixelBuffer? {
        precondition(
            filtersSourceRows(
                sourceWidth: sourceWidth, sourceHeight: sourceHeight, channels: channels, width: width, height: height)
                && source.count >= sourceWidth * sourceHeight * channels)
        let columns = ResampleWeights(sourceCount: sourceWidth, outputCount: width, originalSpan: sourceWidth, boxFactor: 1)
        let rows = ResampleWeights(
            sourceCount: sourceHeight, outputCount: height, originalSpan: sourceHeight, boxFactor: 1)
        let narrow = UnsafeMutableBufferPointer<Float>.allocate(capacity: width * sourceHeight * channels)
        defer { narrow.deallocate() }
        var complete = false
        let count = width * height * channels
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { target, initialized in
            var made = 0  // output rows written
            complete = LanczosPass.horizontal(
                bytes: source, sourceWidth: sourceWidth, rows: sourceHeight, channels: channels, hasAlpha: hasAlpha,
                weights: columns, into: narrow
            ) { done, next in
                // Every output row whose taps lie in the rows filtered so far.
                var end = made
                while end < height && rows.starts[end] + rows.counts[end] <= done { end += 1 }
                if end > made {
                    LanczosPass.vertical(
                        source: UnsafeBufferPointer(narrow), width: width, channels: channels, hasAlpha: hasAlpha,
                        weights: rows, into: target, outputRows: made..<end)
                    made = end
                }
                // Waiting for a few blocks at once: fewer wake-ups, at most those rows' filtering left at the end.
                return next <= done || rowsReady(min(sourceHeight, next + 24))
            }
            initialized = complete && made == height ? count : 0
        }
        return complete && bytes.count == count
            ? PixelBuffer(width: width, height: height, channels: channels, bytes: bytes) : nil
    }
}
