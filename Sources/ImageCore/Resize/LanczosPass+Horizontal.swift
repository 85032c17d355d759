// The horizontal Lanczos pass, eight rows at a time: the eight rows are first transposed into one SIMD8 per source
// sample (each 8-bit sample converted once, not once per tap that reads it), then each tap is one vector multiply-add
// per channel for all eight rows. Interleaved RGB does not vectorise along a row; eight rows side by side do.
// Every output is the same sum, in the same tap order, as a one-row-at-a-time pass: the pixels do not change.

extension LanczosPass {
    /// Rows resampled together: one SIMD8 lane per row.
    private static let lanes = 8

    /// Resamples each row of 8-bit RGB or RGBA samples to `weights.starts.count` premultiplied float samples
    /// (alpha premultiplied on the fly when `hasAlpha`); the same result as premultiplying into floats and calling
    /// `horizontal(source:...)`.
    /// - Parameter between: called before each block of rows with the rows finished so far and the rows the next
    ///   block reads (the first `next`), and once more at the end with both equal to `rows`; `false` stops the
    ///   pass (the decode feeding it failed). Lets a caller wait for rows still being decoded, and use the rows
    ///   finished.
    /// - Returns: whether every row was resampled.
    @discardableResult
    static func horizontal(
        bytes source: UnsafeBufferPointer<UInt8>, sourceWidth: Int, rows: Int, channels: Int, hasAlpha: Bool,
        weights: ResampleWeights, into target: UnsafeMutableBufferPointer<Float>,
        between: (_ done: Int, _ next: Int) -> Bool = { _, _ in true }
    ) -> Bool {
        precondition(channels == 3 || channels == 4, "8-bit horizontal pass takes RGB or RGBA")
        guard let from = source.baseAddress, let to = target.baseAddress else { return false }
        let premultiplies = hasAlpha && channels == 4
        // Premultiplying keeps alpha / 255 as a fifth plane: the weight is scaled by it per tap, as in one row's
        // pass (w * (alpha / 255) * sample, in that order), so the sums are bit for bit the same.
        let planes = premultiplies ? 5 : channels
        return resampleRows(
            rows, sourceWidth: sourceWidth, channels: channels, planes: planes, premultiplies: premultiplies,
            weights: weights, into: to, between: between
        ) { row, lane in
            var pixel = from + row * sourceWidth * channels
            var sample = lane
            for _ in 0..<sourceWidth {
                for channel in 0..<channels { sample[channel * lanes] = Float(pixel[channel]) }
                if premultiplies { sample[4 * lanes] = Float(pixel[3]) * (1 / 255) }
                pixel += channels
                sample += planes * lanes
            }
        }
    }

    /// Resamples each row of `channels`-sample floats from `sourceWidth` to `weights.starts.count` samples.
    static func horizontal(
        source: UnsafeBufferPointer<Float>, sourceWidth: Int, rows: Int, channels: Int, weights: ResampleWeights,
        into target: UnsafeMutableBufferPointer<Float>
    ) {
        guard let from = source.baseAddress, let to = target.baseAddress, channels > 0 else { return }
        _ = resampleRows(
            rows, sourceWidth: sourceWidth, channels: channels, planes: channels, premultiplies: false,
            weights: weights, into: to
        ) { row, lane in
            var pixel = from + row * sourceWidth * channels
            var sample = lane
            for _ in 0..<sourceWidth {
                for channel in 0..<channels { sample[channel * lanes] = pixel[channel] }
                pixel += channels
                sample += channels * lanes
            }
        }
    }

    /// Runs the rows through in blocks of eight: `transpose` writes one row's samples into its lane of the block
    /// (sample (x, plane) at `(x * planes + plane) * 8`), then the block's outputs are summed and written.
    @inline(__always)
    private static func resampleRows(
        _ rows: Int, sourceWidth: Int, channels: Int, planes: Int, premultiplies: Bool, weights: ResampleWeights,
        into target: UnsafeMutablePointer<Float>, between: (_ done: Int, _ next: Int) -> Bool = { _, _ in true },
        transpose: (_ row: Int, _ lane: UnsafeMutablePointer<Float>) -> Void
    ) -> Bool {
        var complete = true
        withRowBlock(sourceWidth: sourceWidth, planes: planes) { block in
            for top in stride(from: 0, to: rows, by: lanes) {
                let count = min(lanes, rows - top)
                if !between(top, top + count) {
                    complete = false
                    return
                }
                for lane in 0..<count { transpose(top + lane, block + lane) }
                resampleBlock(
                    block, sourceWidth: sourceWidth, planes: planes, premultiplies: premultiplies, weights: weights,
                    top: top, count: count, channels: channels, into: target)
            }
        }
        if complete { complete = between(rows, rows) }
        return complete
    }

    /// Calls `body` with a zeroed block of `sourceWidth * planes` SIMD8 samples, laid out column by column (the
    /// planes of source column x at `x * planes`), as floats. Lanes past the last row of a picture stay zero.
    private static func withRowBlock(
        sourceWidth: Int, planes: Int, _ body: (UnsafeMutablePointer<Float>) -> Void
    ) {
        let count = sourceWidth * planes
        let block = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: count)
        defer { block.deallocate() }
        block.initialize(repeating: SIMD8(), count: count)
        block.withMemoryRebound(to: Float.self, capacity: count * lanes) { body($0) }
    }

    /// The outputs of one block's rows: for each output column, its taps summed over all eight rows at once; then
    /// the `count` real rows written to `target` (rows `top ..< top + count`, `channels` samples per output).
    private static func resampleBlock(
        _ floats: UnsafeMutablePointer<Float>, sourceWidth: Int, planes: Int, premultiplies: Bool,
        weights: ResampleWeights, top: Int, count: Int, channels: Int, into target: UnsafeMutablePointer<Float>
    ) {
        let width = weights.starts.count
        let rowSamples = width * channels
        floats.withMemoryRebound(to: SIMD8<Float>.self, capacity: sourceWidth * planes) { block in
            weights.starts.withUnsafeBufferPointer { starts in
                weights.counts.withUnsafeBufferPointer { counts in
                    weights.weights.withUnsafeBufferPointer { allWeights in
                        guard let weightBase = allWeights.baseAddress else { return }
                        for x in 0..<width {
                            var column = block + starts[x] * planes
                            let tapWeights = weightBase + x * weights.stride
                            let out = target + top * rowSamples + x * channels
                            switch planes {
                            case 3:
                                var (r, g, b) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
                                for tap in 0..<counts[x] {
                                    let weight = SIMD8(repeating: tapWeights[tap])
                                    r += weight * column[0]
                                    g += weight * column[1]
                                    b += weight * column[2]
                                    column += 3
                                }
                                scatter(r, g, b, nil, rows: count, rowSamples: rowSamples, to: out)
                            case 4:
                                var (r, g, b, a) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
                                for tap in 0..<counts[x] {
                                    let weight = SIMD8(repeating: tapWeights[tap])
                                    r += weight * column[0]
                                    g += weight * column[1]
                                    b += weight * column[2]
                                    a += weight * column[3]
                                    column += 4
                                }
                                scatter(r, g, b, a, rows: count, rowSamples: rowSamples, to: out)
                            case 5 where premultiplies:
                                var (r, g, b, a) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
                                for tap in 0..<counts[x] {
                                    let weight = SIMD8(repeating: tapWeights[tap])
                                    a += weight * column[3]
                                    let scaled = weight * column[4]
                                    r += scaled * column[0]
                                    g += scaled * column[1]
                                    b += scaled * column[2]
                                    column += 5
                                }
                                scatter(r, g, b, a, rows: count, rowSamples: rowSamples, to: out)
                            default:
                                for channel in 0..<channels {
                                    var sum = SIMD8<Float>()
                                    var sample = column + channel
                                    for tap in 0..<counts[x] {
                                        sum += SIMD8(repeating: tapWeights[tap]) * sample[0]
                                        sample += planes
                                    }
                                    for lane in 0..<count { out[lane * rowSamples + channel] = sum[lane] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Writes one output pixel of each of the block's first `rows` rows: lane i of each sum to row i.
    @inline(__always)
    private static func scatter(
        _ r: SIMD8<Float>, _ g: SIMD8<Float>, _ b: SIMD8<Float>, _ a: SIMD8<Float>?, rows: Int, rowSamples: Int,
        to out: UnsafeMutablePointer<Float>
    ) {
        for lane in 0..<rows {
            let pixel = out + lane * rowSamples
            pixel[0] = r[lane]
            pixel[1] = g[lane]
            pixel[2] = b[lane]
            if let a { pixel[3] = a[lane] }
        }
    }
}
