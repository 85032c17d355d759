// The vertical Lanczos pass over premultiplied floats, writing 8-bit straight alpha (the horizontal pass that feeds
// it is in LanczosPass+Horizontal.swift).

/// One-dimensional resampling passes.
enum LanczosPass {
    /// Resamples columns to `weights.starts.count` rows and writes 8-bit samples, un-premultiplying alpha.
    static func vertical(
        source: UnsafeBufferPointer<Float>, width: Int, channels: Int, hasAlpha: Bool, weights: ResampleWeights,
        into target: UnsafeMutableBufferPointer<UInt8>
    ) {
        guard let from = source.baseAddress, let to = target.baseAddress else { return }
        let rowSamples = width * channels
        let accumulator = UnsafeMutableBufferPointer<Float>.allocate(capacity: rowSamples)
        defer { accumulator.deallocate() }
        guard let sum = accumulator.baseAddress else { return }
        for y in 0..<weights.starts.count {
            sum.update(repeating: 0, count: rowSamples)
            let start = weights.starts[y]
            for tap in 0..<weights.counts[y] {
                let weight = weights.weights[y * weights.stride + tap]
                let row = from + (start + tap) * rowSamples
                for index in 0..<rowSamples { sum[index] += weight * row[index] }
            }
            let out = to + y * rowSamples
            if hasAlpha {
                let last = channels - 1
                var index = 0
                while index < rowSamples {
                    let alpha = min(max(sum[index + last], 0), 255)
                    let rounded = (alpha + 0.5).rounded(.down)
                    if rounded < 1 {
                        for c in 0..<channels { out[index + c] = 0 }
                    } else {
                        let factor = 255 / alpha
                        for c in 0..<last { out[index + c] = clampToByte(sum[index + c] * factor) }
                        out[index + last] = UInt8(rounded)
                    }
                    index += channels
                }
            } else {
                for index in 0..<rowSamples { out[index] = clampToByte(sum[index]) }
            }
        }
    }

    @inline(__always)
    private static func clampToByte(_ value: Float) -> UInt8 {
        UInt8(min(max(value + 0.5, 0), 255))
    }
}
