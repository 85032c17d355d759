// Reading only the header: format, stored dimensions and EXIF orientation, before any pixel is decoded.

/// What the header of an image says, read without decoding pixels.
public struct ImageHeader: Sendable, Equatable {
    /// The format sniffed from the bytes.
    public var format: ImageFormat
    /// Stored (un-rotated) width in pixels.
    public var width: Int
    /// Stored (un-rotated) height in pixels.
    public var height: Int
    /// EXIF orientation 1-8 when present and valid, else 1.
    public var orientation: Int

    public init(format: ImageFormat, width: Int, height: Int, orientation: Int = 1) {
        self.format = format
        self.width = width
        self.height = height
        self.orientation = orientation
    }
}
