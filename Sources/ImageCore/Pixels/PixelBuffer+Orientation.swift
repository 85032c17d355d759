// Applying an EXIF orientation so the picture stands upright.

extension PixelBuffer {
    /// The picture as it should be displayed for an EXIF orientation (1-8); other values leave it unchanged.
    /// Orientations 5-8 swap width and height.
    public func oriented(_ orientation: Int) -> PixelBuffer {
        guard (2...8).contains(orientation) else { return self }
        let swaps = orientation >= 5
        let outWidth = swaps ? height : width
        let outHeight = swaps ? width : height
        let channels = self.channels
        let (w, h) = (width, height)
        // For each output pixel (x, y), the stored pixel (sx, sy) = base + x * stepX + y * stepY, in pixels.
        let (base, stepX, stepY): (Int, Int, Int)
        switch orientation {
        case 2: (base, stepX, stepY) = (w - 1, -1, w)  // mirror horizontally
        case 3: (base, stepX, stepY) = (w * h - 1, -1, -w)  // rotate 180
        case 4: (base, stepX, stepY) = ((h - 1) * w, 1, -w)  // mirror vertically
        case 5: (base, stepX, stepY) = (0, w, 1)  // transpose: (sx, sy) = (y, x)
        case 6: (base, stepX, stepY) = ((h - 1) * w, -w, 1)  // rotate 90 clockwise: (y, h-1-x)
        case 7: (base, stepX, stepY) = (h * w - 1, -w, -1)  // transverse: (w-1-y, h-1-x)
        default: (base, stepX, stepY) = (w - 1, w, -1)  // 8, rotate 90 counter-clockwise: (w-1-y, x)
        }
        let result = [UInt8](unsafeUninitializedCapacity: bytes.count) { target, initialized in
            bytes.withUnsafeBufferPointer { source in
                guard let from = source.baseAddress, let to = target.baseAddress else { return }
                var out = to
                for y in 0..<outHeight {
                    var index = base + y * stepY
                    for _ in 0..<outWidth {
                        let sample = from + index * channels
                        for c in 0..<channels { out[c] = sample[c] }
                        out += channels
                        index += stepX
                    }
                }
            }
            initialized = bytes.count
        }
        return PixelBuffer(width: outWidth, height: outHeight, channels: channels, bytes: result)
    }
}
