// Lanczos-3 weights for one axis, widened by the reduction factor so a downscale does not alias.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// For each output position along one axis: the first source index, the number of taps and their weights.
struct ResampleWeights {
    /// First source index of each output position.
    var starts: [Int]
    /// Number of taps of each output position (at most `stride`).
    var counts: [Int]
    /// `stride` weights per output position, normalised to sum to 1.
    var weights: [Float]
    /// Slots reserved per output position in `weights`.
    var stride: Int

    /// Weights mapping `sourceCount` samples, which cover `originalSpan` original pixels (`boxFactor` each), onto
    /// `outputCount` samples.
    init(sourceCount: Int, outputCount: Int, originalSpan: Int, boxFactor: Int) {
        let scale = Double(originalSpan) / Double(outputCount) / Double(boxFactor)
        let filterScale = max(1, scale)
        let support = 3 * filterScale
        let stride = Int((2 * support).rounded(.up)) + 2
        var starts = [Int](repeating: 0, count: outputCount)
        var counts = [Int](repeating: 0, count: outputCount)
        var weights = [Float](repeating: 0, count: outputCount * stride)
        var taps = [Double](repeating: 0, count: stride)
        for index in 0..<outputCount {
            // Centre of the output pixel in source sample coordinates (sample i covers [i, i+1)).
            let centre = (Double(index) + 0.5) * scale - 0.5
            let first = Int((centre - support).rounded(.up))
            let last = Int((centre + support).rounded(.down))
            let start = min(max(first, 0), sourceCount - 1)
            let end = max(min(last, sourceCount - 1), start)
            let count = min(end - start + 1, stride)
            for slot in 0..<count { taps[slot] = 0 }
            var sum = 0.0
            for source in first...max(first, last) {
                let weight = Self.lanczos3((Double(source) - centre) / filterScale)
                // Samples past an edge repeat the edge sample.
                let slot = min(max(source, start), start + count - 1) - start
                taps[slot] += weight
                sum += weight
            }
            starts[index] = start
            counts[index] = count
            for slot in 0..<count {
                weights[index * stride + slot] = Float(sum != 0 ? taps[slot] / sum : 1 / Double(count))
            }
        }
        self.starts = starts
        self.counts = counts
        self.weights = weights
        self.stride = stride
    }

    private static func lanczos3(_ x: Double) -> Double {
        if x == 0 { return 1 }
        if x <= -3 || x >= 3 { return 0 }
        let pix = Double.pi * x
        return 3 * sin(pix) * sin(pix / 3) / (pix * pix)
    }
}
