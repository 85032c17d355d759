// Box pre-shrink on the fly: rows arrive in order from a streaming decoder and are averaged box x box into an
// 8-bit raster, so the full-size picture is never held (a few rows plus the shrunk raster).

/// Averages `box` x `box` blocks (partial blocks at the right and bottom edges) of rows read in order.
enum RowBoxShrink {
    /// Rows handed to `readRows` per call at most (bounds the row buffer for tall boxes).
    static let rowsPerRead = 8
    /// Rows handed to `readRows` per call when nothing is shrunk (each call is a chance for it to stop).
    static let rowsPerBand = 64

    /// The shrunk raster: `ceil(width / box)` x `ceil(height / box)`, straight alpha when `channels` is 4.
    /// Colour is averaged weighted by alpha (premultiplied), so transparent pixels never bleed their colour.
    /// - Parameters:
    ///   - box: the shrink factor, at least 1 and at most 4096 (keeps the 32-bit column sums from overflowing).
    ///   - readRows: fills its buffer with the next `count` rows of `width * channels` 8-bit samples.
    static func run(
        width: Int, height: Int, channels: Int, box: Int,
        readRows: (_ rows: UnsafeMutablePointer<UInt8>, _ count: Int) throws(ImageError) -> Void
    ) throws(ImageError) -> PixelBuffer {
        precondition(channels == 3 || channels == 4, "RowBoxShrink takes RGB or RGBA rows")
        precondition((1...4096).contains(box), "box factor out of range")
        let rowSamples = width * channels
        if box == 1 {
            var failure: ImageError?
            let bytes = [UInt8](unsafeUninitializedCapacity: rowSamples * height) { buffer, initialized in
                guard let base = buffer.baseAddress else { return }
                do throws(ImageError) {
                    // In bands, not all rows in one call: `readRows` may stop between them (a cancelled decode).
                    for top in stride(from: 0, to: height, by: rowsPerBand) {
                        try readRows(base + top * rowSamples, min(rowsPerBand, height - top))
                    }
                    initialized = rowSamples * height
                } catch { failure = error }
            }
            if let failure { throw failure }
            return PixelBuffer(width: width, height: height, channels: channels, bytes: bytes)
        }
        let outWidth = (width + box - 1) / box
        let outHeight = (height + box - 1) / box
        let chunk = min(box, rowsPerRead)
        let rows = UnsafeMutablePointer<UInt8>.allocate(capacity: rowSamples * chunk)
        defer { rows.deallocate() }
        let sums = UnsafeMutablePointer<UInt32>.allocate(capacity: rowSamples)
        defer { sums.deallocate() }
        var failure: ImageError?
        let bytes = [UInt8](unsafeUninitializedCapacity: outWidth * outHeight * channels) { buffer, initialized in
            guard let out = buffer.baseAddress else { return }
            do throws(ImageError) {
                for outY in 0..<outHeight {
                    let top = outY * box
                    let blockHeight = min(height, top + box) - top
                    sums.update(repeating: 0, count: rowSamples)
                    var done = 0
                    while done < blockHeight {
                        let count = min(chunk, blockHeight - done)
                        try readRows(rows, count)
                        for row in 0..<count {
                            addRow(rows + row * rowSamples, to: sums, samples: rowSamples, alpha: channels == 4)
                        }
                        done += count
                    }
                    writeBlocks(
                        sums, width: width, channels: channels, box: box, blockHeight: blockHeight,
                        into: out + outY * outWidth * channels)
                }
                initialized = outWidth * outHeight * channels
            } catch { failure = error }
        }
        if let failure { throw failure }
        return PixelBuffer(width: outWidth, height: outHeight, channels: channels, bytes: bytes)
    }

    /// Adds one row to the column sums; with alpha, colour samples are added multiplied by their alpha.
    @inline(__always)
    private static func addRow(
        _ row: UnsafeMutablePointer<UInt8>, to sums: UnsafeMutablePointer<UInt32>, samples: Int, alpha: Bool
    ) {
        if !alpha {
            for index in 0..<samples { sums[index] &+= UInt32(row[index]) }
            return
        }
        var index = 0
        while index < samples {
            let a = UInt32(row[index + 3])
            sums[index] &+= UInt32(row[index]) &* a
            sums[index + 1] &+= UInt32(row[index + 1]) &* a
            sums[index + 2] &+= UInt32(row[index + 2]) &* a
            sums[index + 3] &+= a
            index += 4
        }
    }

    /// Sums the column sums across each block and writes one row of rounded 8-bit averages.
    @inline(__always)
    private static func writeBlocks(
        _ sums: UnsafeMutablePointer<UInt32>, width: Int, channels: Int, box: Int, blockHeight: Int,
        into out: UnsafeMutablePointer<UInt8>
    ) {
        var target = out
        var left = 0
        while left < width {
            let right = min(width, left + box)
            let area = (right - left) * blockHeight
            var total: (Int, Int, Int, Int) = (0, 0, 0, 0)
            var cell = sums + left * channels
            for _ in left..<right {
                total.0 &+= Int(cell[0])
                total.1 &+= Int(cell[1])
                total.2 &+= Int(cell[2])
                if channels == 4 { total.3 &+= Int(cell[3]) }
                cell += channels
            }
            // Reciprocals instead of integer divisions (three per pixel would dominate this loop).
            let inverseArea = 1 / Float(area)
            if channels == 3 {
                target[0] = UInt8(min(255, Float(total.0) * inverseArea + 0.5))
                target[1] = UInt8(min(255, Float(total.1) * inverseArea + 0.5))
                target[2] = UInt8(min(255, Float(total.2) * inverseArea + 0.5))
            } else {
                let alpha = Float(total.3) * inverseArea + 0.5
                if alpha < 1 {
                    target.update(repeating: 0, count: 4)
                } else {
                    // Colour sums are sample x alpha: dividing by the alpha sum gives the alpha-weighted mean.
                    let inverseWeight = 1 / Float(total.3)
                    target[0] = UInt8(min(255, Float(total.0) * inverseWeight + 0.5))
                    target[1] = UInt8(min(255, Float(total.1) * inverseWeight + 0.5))
                    target[2] = UInt8(min(255, Float(total.2) * inverseWeight + 0.5))
                    target[3] = UInt8(min(255, alpha))
                }
            }
            target += channels
            left = right
        }
    }
}
