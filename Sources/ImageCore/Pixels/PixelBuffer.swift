// An 8-bit interleaved raster: the value every image operation takes and returns.

/// Decoded pixels: 8 bits per sample, interleaved, rows without padding.
public struct PixelBuffer: Sendable, Equatable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// Samples per pixel: 3 for RGB, 4 for RGBA (straight, not premultiplied, alpha).
    public var channels: Int
    /// `width * height * channels` samples, row after row.
    public var bytes: [UInt8]

    /// Wraps samples already laid out as `width * height * channels` bytes.
    public init(width: Int, height: Int, channels: Int, bytes: [UInt8]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.bytes = bytes
    }

    /// A buffer of one colour.
    /// - Parameter pixel: the samples of one pixel; its count is the channel count.
    public init(width: Int, height: Int, filledWith pixel: [UInt8]) {
        self.width = width
        self.height = height
        self.channels = pixel.count
        var bytes = [UInt8]()
        bytes.reserveCapacity(width * height * pixel.count)
        for _ in 0..<(width * height) { bytes.append(contentsOf: pixel) }
        self.bytes = bytes
    }

    /// Whether the last channel is alpha.
    public var hasAlpha: Bool { channels == 4 || channels == 2 }

    /// The samples of the pixel at (x, y).
    public func pixel(x: Int, y: Int) -> ArraySlice<UInt8> {
        let start = (y * width + x) * channels
        return bytes[start..<(start + channels)]
    }
}
