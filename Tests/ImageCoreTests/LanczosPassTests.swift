// The vectorised Lanczos passes against the plain sums they replaced: the row-blocked horizontal pass must give the
// same floats bit for bit, and the eight-wide vertical pass the same bytes (so no thumbnail changes), for every
// channel count, partial blocks of rows, alpha premultiplied on the fly, downscales and upscales.

@testable import ImageCore
import Testing

struct LanczosPassTests {
    /// (source width, rows, output width): rows not a multiple of eight, fewer rows than a block, an upscale.
    static let shapes = [(2000, 17, 1024), (97, 8, 13), (300, 3, 299), (5, 9, 40), (1, 11, 1), (640, 1, 100)]

    @Test(arguments: shapes, [3, 4])
    func bytesGiveTheSameFloatsAsOneRowAtATime(shape: (Int, Int, Int), channels: Int) {
        let (sourceWidth, rows, width) = shape
        let bytes = Self.noise(count: sourceWidth * rows * channels, seed: UInt64(sourceWidth * 31 + channels))
        let weights = ResampleWeights(sourceCount: sourceWidth, outputCount: width, originalSpan: sourceWidth, boxFactor: 1)
        for hasAlpha in channels == 4 ? [true, false] : [false] {
            let blocked = bytes.withUnsafeBufferPointer { source in
                Self.run(width * rows * channels) {
                    LanczosPass.horizontal(
                        bytes: source, sourceWidth: sourceWidth, rows: rows, channels: channels, hasAlpha: hasAlpha,
                        weights: weights, into: $0)
                }
            }
            let expected = Self.oneRowAtATime(
                bytes.map(Float.init), sourceWidth: sourceWidth, rows: rows, channels: channels,
                premultiplying: hasAlpha, weights: weights)
            #expect(blocked.count == expected.count)
            let differing = zip(blocked, expected).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(differing) of \(expected.count) floats differ (alpha \(hasAlpha))")
        }
    }

    @Test(arguments: shapes, [1, 2, 3, 4])
    func floatsGiveTheSameFloatsAsOneRowAtATime(shape: (Int, Int, Int), channels: Int) {
        let (sourceWidth, rows, width) = shape
        let floats = Self.noise(count: sourceWidth * rows * channels, seed: UInt64(rows * 7 + channels))
            .map { Float($0) * 0.73 }
        let weights = ResampleWeights(sourceCount: sourceWidth, outputCount: width, originalSpan: sourceWidth * 2, boxFactor: 2)
        let blocked = floats.withUnsafeBufferPointer { source in
            Self.run(width * rows * channels) {
                LanczosPass.horizontal(
                    source: source, sourceWidth: sourceWidth, rows: rows, channels: channels, weights: weights, into: $0)
            }
        }
        let expected = Self.oneRowAtATime(
            floats, sourceWidth: sourceWidth, rows: rows, channels: channels, premultiplying: false, weights: weights)
        let differing = zip(blocked, expected).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(blocked.count == expected.count && differing == 0, "\(differing) of \(expected.count) floats differ")
    }

    @Test(arguments: [(1024, 1500, 768), (13, 40, 7), (3, 5, 9), (333, 9, 2)], [1, 3, 4])
    func verticalGivesTheSameBytesAsOneSampleAtATime(shape: (Int, Int, Int), channels: Int) {
        let (width, sourceRows, rows) = shape
        let floats = Self.noise(count: width * sourceRows * channels, seed: UInt64(width + channels))
            .map { Float($0) * 1.01 - 1 }
        let weights = ResampleWeights(sourceCount: sourceRows, outputCount: rows, originalSpan: sourceRows, boxFactor: 1)
        for hasAlpha in channels == 4 ? [true, false] : [false] {
            let count = width * rows * channels
            let bytes = floats.withUnsafeBufferPointer { source in
                [UInt8](unsafeUninitializedCapacity: count) { target, initialized in
                    LanczosPass.vertical(
                        source: source, width: width, channels: channels, hasAlpha: hasAlpha, weights: weights,
                        into: target)
                    initialized = count
                }
            }
            var expected = [UInt8](repeating: 0, count: count)
            let rowSamples = width * channels
            for y in 0..<rows {
                var sums = [Float](repeating: 0, count: rowSamples)
                for tap in 0..<weights.counts[y] {
                    let weight = weights.weights[y * weights.stride + tap]
                    for index in 0..<rowSamples { sums[index] += weight * floats[(weights.starts[y] + tap) * rowSamples + index] }
                }
                for pixel in stride(from: 0, to: rowSamples, by: channels) {
                    let alpha = min(max(sums[pixel + channels - 1], 0), 255)
                    let opaque = !hasAlpha
                    if !opaque && (alpha + 0.5).rounded(.down) < 1 { continue }
                    for c in 0..<channels {
                        let straight = opaque || c == channels - 1 ? sums[pixel + c] : sums[pixel + c] * (255 / alpha)
                        expected[y * rowSamples + pixel + c] = UInt8(min(max(straight + 0.5, 0), 255))
                    }
                }
            }
            let differing = zip(bytes, expected).filter { $0 != $1 }.count
            #expect(differing == 0, "\(differing) of \(count) bytes differ (alpha \(hasAlpha))")
        }
    }

    /// The pass as it was written before row blocks: each output the sum over its taps, in tap order; with alpha
    /// premultiplied, each weight scaled by alpha / 255 before it multiplies a colour sample.
    static func oneRowAtATime(
        _ samples: [Float], sourceWidth: Int, rows: Int, channels: Int, premultiplying: Bool, weights: ResampleWeights
    ) -> [Float] {
        let width = weights.starts.count
        var out = [Float](repeating: 0, count: width * rows * channels)
        for y in 0..<rows {
            for x in 0..<width {
                var sums = [Float](repeating: 0, count: channels)
                for tap in 0..<weights.counts[x] {
                    let pixel = (y * sourceWidth + weights.starts[x] + tap) * channels
                    var weight = weights.weights[x * weights.stride + tap]
                    if premultiplying {
                        sums[3] += weight * samples[pixel + 3]
                        weight *= samples[pixel + 3] * (1 / 255)
                        for c in 0..<3 { sums[c] += weight * samples[pixel + c] }
                    } else {
                        for c in 0..<channels { sums[c] += weight * samples[pixel + c] }
                    }
                }
                for c in 0..<channels { out[(y * width + x) * channels + c] = sums[c] }
            }
        }
        return out
    }

    /// Fills a float array of `count` through `body`.
    static func run(_ count: Int, _ body: (UnsafeMutableBufferPointer<Float>) -> Void) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            buffer.initialize(repeating: .nan)
            body(buffer)
            initialized = count
        }
    }

    /// Deterministic noise (xorshift) covering all 256 byte values.
    static func noise(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }
}
