// Compositing alpha onto an opaque background, for formats (JPEG) that have no alpha.

extension PixelBuffer {
    /// The picture as opaque RGB: alpha composited onto `background`; RGB input is returned as it is.
    public func flattened(onto background: RGBColor) -> PixelBuffer {
        guard channels == 4 || channels == 2 else { return self }
        let pixelCount = width * height
        let backdrop = [Int(background.red), Int(background.green), Int(background.blue)]
        let gray = channels == 2
        let result = [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { target, initialized in
            bytes.withUnsafeBufferPointer { source in
                guard let from = source.baseAddress, let to = target.baseAddress else { return }
                for index in 0..<pixelCount {
                    let pixel = from + index * channels
                    let alpha = Int(pixel[channels - 1])
                    for c in 0..<3 {
                        let sample = Int(gray ? pixel[0] : pixel[c])
                        to[index * 3 + c] = UInt8((sample * alpha + backdrop[c] * (255 - alpha) + 127) / 255)
                    }
                }
            }
            initialized = pixelCount * 3
        }
        return PixelBuffer(width: width, height: height, channels: 3, bytes: result)
    }
}
