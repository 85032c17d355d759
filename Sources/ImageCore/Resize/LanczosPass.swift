// The vertical Lanczos pass over premultiplied floats, writing 8-bit straight alpha (the horizontal pass that feeds
// it is in LanczosPass+Horizontal.swift).
import CPixelKernels

/// One-dimensional resampling passes.
enum LanczosPass {
    /// Resamples columns to `weights.starts.count` rows and writes 8-bit samples, un-premultiplying alpha.
    /// - Parameter outputRows: the output rows to make (all when `nil`); each reads source rows
    ///   `starts[y] ..< starts[y] + counts[y]` only.
    static func vertical(
        source: UnsafeBufferPointer<Float>, width: Int, channels: Int, hasAlpha: Bool, weights: ResampleWeights,
        into target: UnsafeMutableBufferPointer<UInt8>, outputRows: Range<Int>? = nil
    ) {
        guard let from = source.baseAddress, let to = target.baseAddress else { return }
        let rowSamples = width * channels
        let accumulator = UnsafeMutableBufferPointer<Float>.allocate(capacity: rowSamples)
        defer { accumulator.deallocate() }
        guard let sum = accumulator.baseAddress else { return }
        weights.weights.withUnsafeBufferPointer { allWeights in
            guard let weightBase = allWeights.baseAddress else { return }
            for y in outputRows ?? 0..<weights.starts.count {
                let first = from + weights.starts[y] * rowSamples
                let tapWeights = weightBase + y * weights.stride
                let taps = weights.counts[y]
                let out = to + y * rowSamples
                // Eight samples at a time with the sum in a register (each tap one load, no sum row to read and
                // write back); the same products added in the same tap order as one sample at a time.
                var index = 0
                while index + 8 <= rowSamples {
                    var total = SIMD8<Float>()
                    var row = UnsafeRawPointer(first + index)
                    for tap in 0..<taps {
                        total += SIMD8(repeating: tapWeights[tap]) * row.loadUnaligned(as: SIMD8<Float>.self)
                        row += rowSamples * MemoryLayout<Float>.stride
                    }
                    UnsafeMutableRawPointer(sum + index).storeBytes(of: total, as: SIMD8<Float>.self)
                    index += 8
                }
                while index < rowSamples {
                    var total: Float = 0
                    for tap in 0..<taps { total += tapWeights[tap] * first[tap * rowSamples + index] }
                    sum[index] = total
                    index += 1
                }
                if hasAlpha {
                    unpremultiply(sum, count: rowSamples, channels: channels, into: out)
                } else {
                    picpipe_floats_to_bytes(sum, out, rowSamples)
                }
            }
        }
    }

    /// Writes premultiplied float pixels as 8-bit straight-alpha pixels (alpha last); fully transparent is all zero.
    private static func unpremultiply(
        _ sum: UnsafeMutablePointer<Float>, count rowSamples: Int, channels: Int, into out: UnsafeMutablePointer<UInt8>
    ) {
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
    }

    @inline(__always)
    private static func clampToByte(_ value: Float) -> UInt8 {
        UInt8(min(max(value + 0.5, 0), 255))
    }
}
