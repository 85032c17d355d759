// Dropping an alpha channel that says nothing (every pixel opaque), so a frame decoded as RGBA encodes as RGB.

extension PixelBuffer {
    /// RGB when this RGBA picture is opaque everywhere; otherwise the picture unchanged.
    func droppingOpaqueAlpha() -> PixelBuffer {
        guard channels == 4 else { return self }
        var index = 3
        while index < bytes.count {
            if bytes[index] != 255 { return self }
            index += 4
        }
        var rgb = [UInt8]()
        rgb.reserveCapacity(width * height * 3)
        index = 0
        while index < bytes.count {
            rgb.append(bytes[index])
            rgb.append(bytes[index + 1])
            rgb.append(bytes[index + 2])
            index += 4
        }
        return PixelBuffer(width: width, height: height, channels: 3, bytes: rgb)
    }
}
