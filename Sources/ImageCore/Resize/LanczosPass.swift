// The two separable Lanczos passes over premultiplied floats; the vertical one writes 8-bit straight alpha.

/// One-dimensional resampling passes.
enum LanczosPass {
    /// Resamples each row from `sourceWidth` to `weights.starts.count` samples.
    static func horizontal(
        source: UnsafeBufferPointer<Float>, sourceWidth: Int, rows: Int, channels: Int, weights: ResampleWeights,
        into target: UnsafeMutableBufferPointer<Float>
    ) {
        guard let from = source.baseAddress, let to = target.baseAddress else { return }
        let width = weights.starts.count
        weights.starts.withUnsafeBufferPointer { starts in
            weights.counts.withUnsafeBufferPointer { counts in
                weights.weights.withUnsafeBufferPointer { allWeights in
                    guard let weightBase = allWeights.baseAddress else { return }
                    for y in 0..<rows {
                        let row = from + y * sourceWidth * channels
                        var out = to + y * width * channels
                        for x in 0..<width {
                            var pixel = row + starts[x] * channels
                            let tapWeights = weightBase + x * weights.stride
                            let taps = counts[x]
                            if channels == 3 {
                                var (r, g, b): (Float, Float, Float) = (0, 0, 0)
                                for tap in 0..<taps {
                                    let weight = tapWeights[tap]
                                    r += weight * pixel[0]
                                    g += weight * pixel[1]
                                    b += weight * pixel[2]
                                    pixel += 3
                                }
                                out[0] = r
                                out[1] = g
                                out[2] = b
                            } else if channels == 4 {
                                var (r, g, b, a): (Float, Float, Float, Float) = (0, 0, 0, 0)
                                for tap in 0..<taps {
                                    let weight = tapWeights[tap]
                                    r += weight * pixel[0]
                                    g += weight * pixel[1]
                                    b += weight * pixel[2]
                                    a += weight * pixel[3]
                                    pixel += 4
                                }
                                out[0] = r
                                out[1] = g
                                out[2] = b
                                out[3] = a
                            } else {
                                for c in 0..<channels { out[c] = 0 }
                                for tap in 0..<taps {
                                    let weight = tapWeights[tap]
                                    for c in 0..<channels { out[c] += weight * pixel[c] }
                                    pixel += channels
                                }
                            }
                            out += channels
                        }
                    }
                }
            }
        }
    }

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
