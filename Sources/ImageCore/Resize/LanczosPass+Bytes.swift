// The horizontal Lanczos pass reading 8-bit samples directly (premultiplying alpha on the fly), for when no box
// pre-shrink is needed: skips a full-size float copy of the picture.

extension LanczosPass {
    /// Resamples each row of 8-bit RGB or RGBA samples to `weights.starts.count` premultiplied float samples;
    /// the same result as premultiplying into floats and calling `horizontal(source:...)`.
    static func horizontal(
        bytes source: UnsafeBufferPointer<UInt8>, sourceWidth: Int, rows: Int, channels: Int, hasAlpha: Bool,
        weights: ResampleWeights, into target: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(channels == 3 || channels == 4, "8-bit horizontal pass takes RGB or RGBA")
        guard let from = source.baseAddress, let to = target.baseAddress else { return }
        let width = weights.starts.count
        let premultiplies = hasAlpha && channels == 4
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
                            var (r, g, b, a): (Float, Float, Float, Float) = (0, 0, 0, 0)
                            for tap in 0..<counts[x] {
                                var weight = tapWeights[tap]
                                if channels == 4 {
                                    let alpha = Float(pixel[3])
                                    a += weight * alpha
                                    if premultiplies { weight *= alpha * (1 / 255) }
                                }
                                r += weight * Float(pixel[0])
                                g += weight * Float(pixel[1])
                                b += weight * Float(pixel[2])
                                pixel += channels
                            }
                            out[0] = r
                            out[1] = g
                            out[2] = b
                            if channels == 4 { out[3] = a }
                            out += channels
                        }
                    }
                }
            }
        }
    }
}
