// The colour under fully transparent pixels, for encoders that subsample chroma (AVIF at 4:2:0): a transparent pixel
// keeps whatever colour it has, and one of black (what the premultiplied resize leaves) is averaged into the chroma
// of its visible neighbours, darkening every edge next to transparency. Each one takes its nearest visible
// neighbour's colour instead, as libwebp's and vips's encoders leave it; nothing visible changes.

extension PixelBuffer {
    /// This RGBA picture with the RGB of every pixel whose alpha is 0 taken from the nearest visible pixel of its row
    /// (or, in a row with none, from the nearest row with one); any other picture unchanged.
    func withVisibleColourUnderTransparency() -> PixelBuffer {
        guard channels == 4 else { return self }
        var picture = self
        let width = self.width
        let height = self.height
        picture.bytes.withUnsafeMutableBufferPointer { pixels in
            var filledRows = [Bool](repeating: false, count: height)
            for y in 0..<height {
                filledRows[y] = Self.fillRow(pixels, start: y * width * 4, width: width)
            }
            guard let firstFilled = filledRows.firstIndex(of: true) else { return }
            // Rows with no visible pixel copy the colours of the nearest filled row above (below for the top ones).
            var source = firstFilled
            for y in 0..<height where !filledRows[y] {
                if y > firstFilled { source = y - 1 }
                for x in 0..<width {
                    let to = (y * width + x) * 4
                    let from = (source * width + x) * 4
                    pixels[to] = pixels[from]
                    pixels[to + 1] = pixels[from + 1]
                    pixels[to + 2] = pixels[from + 2]
                }
            }
        }
        return picture
    }

    /// Fills one row's transparent pixels from the nearest visible pixel on either side; false when it has none.
    private static func fillRow(_ pixels: UnsafeMutableBufferPointer<UInt8>, start: Int, width: Int) -> Bool {
        // Distance (in pixels) to the nearest visible pixel on the left, filled on the way right.
        var lastVisible = -1
        var distanceLeft = [Int](repeating: Int.max, count: width)
        for x in 0..<width {
            let at = start + x * 4
            if pixels[at + 3] != 0 {
                lastVisible = x
            } else if lastVisible >= 0 {
                distanceLeft[x] = x - lastVisible
                pixels[at] = pixels[start + lastVisible * 4]
                pixels[at + 1] = pixels[start + lastVisible * 4 + 1]
                pixels[at + 2] = pixels[start + lastVisible * 4 + 2]
            }
        }
        guard lastVisible >= 0 else { return false }
        var nextVisible = -1
        for x in stride(from: width - 1, through: 0, by: -1) {
            let at = start + x * 4
            if pixels[at + 3] != 0 {
                nextVisible = x
            } else if nextVisible >= 0, nextVisible - x < distanceLeft[x] {
                pixels[at] = pixels[start + nextVisible * 4]
                pixels[at + 1] = pixels[start + nextVisible * 4 + 1]
                pixels[at + 2] = pixels[start + nextVisible * 4 + 2]
            }
        }
        return true
    }
}
