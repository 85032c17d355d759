// Cutting a rectangle out of a picture (the centre crop of the `cover` fit).

extension PixelBuffer {
    /// The rectangle at (x, y) of the given size, clipped to the picture.
    public func cropped(x: Int, y: Int, width: Int, height: Int) -> PixelBuffer {
        let left = min(max(0, x), self.width)
        let top = min(max(0, y), self.height)
        let outWidth = max(0, min(width, self.width - left))
        let outHeight = max(0, min(height, self.height - top))
        if left == 0, top == 0, outWidth == self.width, outHeight == self.height { return self }
        let rowBytes = outWidth * channels
        var result = [UInt8]()
        result.reserveCapacity(rowBytes * outHeight)
        for row in top..<(top + outHeight) {
            let start = (row * self.width + left) * channels
            result.append(contentsOf: bytes[start..<(start + rowBytes)])
        }
        return PixelBuffer(width: outWidth, height: outHeight, channels: channels, bytes: result)
    }
}
