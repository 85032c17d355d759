// Gray (and gray with alpha) pictures as RGB(A), for encoders that take only RGB or RGBA.

extension PixelBuffer {
    /// RGB from gray, RGBA from gray + alpha; RGB and RGBA pictures unchanged.
    func expandedToRGB() -> PixelBuffer {
        guard channels == 1 || channels == 2 else { return self }
        let outChannels = channels == 1 ? 3 : 4
        var result = [UInt8]()
        result.reserveCapacity(width * height * outChannels)
        var index = 0
        while index < bytes.count {
            let gray = bytes[index]
            result.append(gray)
            result.append(gray)
            result.append(gray)
            if channels == 2 { result.append(bytes[index + 1]) }
            index += channels
        }
        return PixelBuffer(width: width, height: height, channels: outChannels, bytes: result)
    }
}
