// The integer pre-shrink: averages boxX x boxY blocks (partial blocks at the edges) into premultiplied floats.

/// Averages whole blocks of 8-bit samples into premultiplied `Float` samples (0-255 scale).
enum BoxShrink {
    static func run(
        source: UnsafeBufferPointer<UInt8>, width: Int, height: Int, channels: Int, hasAlpha: Bool, boxX: Int,
        boxY: Int, into target: UnsafeMutableBufferPointer<Float>
    ) {
        guard let from = source.baseAddress, let to = target.baseAddress else { return }
        let outWidth = (width + boxX - 1) / boxX
        let outHeight = (height + boxY - 1) / boxY
        let rowSamples = outWidth * channels
        if boxX == 1 && boxY == 1 {
            premultiply(from, count: width * height, channels: channels, hasAlpha: hasAlpha, into: to)
            return
        }
        let sums = UnsafeMutableBufferPointer<Int>.allocate(capacity: rowSamples)
        defer { sums.deallocate() }
        guard let sum = sums.baseAddress else { return }
        for outY in 0..<outHeight {
            let top = outY * boxY
            let bottom = min(height, top + boxY)
            sum.update(repeating: 0, count: rowSamples)
            for y in top..<bottom {
                let row = from + y * width * channels
                for outX in 0..<outWidth {
                    let left = outX * boxX
                    let right = min(width, left + boxX)
                    let cell = sum + outX * channels
                    var pixel = row + left * channels
                    if hasAlpha && channels == 4 {
                        var (r, g, b, a) = (0, 0, 0, 0)
                        for _ in left..<right {
                            let alpha = Int(pixel[3])
                            r &+= Int(pixel[0]) &* alpha
                            g &+= Int(pixel[1]) &* alpha
                            b &+= Int(pixel[2]) &* alpha
                            a &+= alpha
                            pixel += 4
                        }
                        cell[0] &+= r
                        cell[1] &+= g
                        cell[2] &+= b
                        cell[3] &+= a
                    } else if channels == 3 {
                        var (r, g, b) = (0, 0, 0)
                        for _ in left..<right {
                            r &+= Int(pixel[0])
                            g &+= Int(pixel[1])
                            b &+= Int(pixel[2])
                            pixel += 3
                        }
                        cell[0] &+= r
                        cell[1] &+= g
                        cell[2] &+= b
                    } else {
                        for _ in left..<right {
                            let alpha = hasAlpha ? Int(pixel[channels - 1]) : 255
                            for c in 0..<channels {
                                let isAlpha = hasAlpha && c == channels - 1
                                cell[c] &+= isAlpha ? alpha : Int(pixel[c]) &* alpha / 255
                            }
                            pixel += channels
                        }
                    }
                }
            }
            let out = to + outY * rowSamples
            let blockHeight = bottom - top
            for outX in 0..<outWidth {
                let blockWidth = min(width, outX * boxX + boxX) - outX * boxX
                let cell = sum + outX * channels
                let target = out + outX * channels
                let area = Float(blockWidth * blockHeight)
                // With alpha the colour sums carry an extra factor of 255 (sample x alpha).
                let colourScale = hasAlpha && channels == 4 ? 1 / (area * 255) : 1 / area
                for c in 0..<channels {
                    let isAlpha = hasAlpha && c == channels - 1
                    target[c] = Float(cell[c]) * (isAlpha ? 1 / area : colourScale)
                }
            }
        }
    }

    private static func premultiply(
        _ from: UnsafePointer<UInt8>, count: Int, channels: Int, hasAlpha: Bool, into to: UnsafeMutablePointer<Float>
    ) {
        if !hasAlpha {
            for index in 0..<(count * channels) { to[index] = Float(from[index]) }
            return
        }
        var source = from
        var target = to
        let last = channels - 1
        for _ in 0..<count {
            let alpha = Float(source[last])
            let factor = alpha * (1 / 255)
            for c in 0..<last { target[c] = Float(source[c]) * factor }
            target[last] = alpha
            source += channels
            target += channels
        }
    }
}
