// Reading only the header: format, stored dimensions and EXIF orientation, before any pixel is decoded.

/// What the header of an image says, read without decoding pixels.
public struct ImageHeader: Sendable, Equatable {
    /// The format sniffed from the bytes.
    public var format: ImageFormat
    /// Width in pixels before `orientation` is applied (for HEIF: after the container's irot/imir, which libheif
    /// applies while decoding).
    public var width: Int
    /// Height in pixels before `orientation` is applied (for HEIF: after the container's irot/imir).
    public var height: Int
    /// EXIF orientation 1-8 still to apply when present and valid, else 1.
    public var orientation: Int
    /// The size the file stores before any turn, the container's or the EXIF's: exiftool's ImageWidth and
    /// ImageHeight. It differs from `width`/`height` only for a HEIF whose irot turns it a quarter (its `ispe`).
    public var storedWidth: Int
    /// The stored height before any turn (see `storedWidth`).
    public var storedHeight: Int
    /// For a HEIF with `irot`/`imir`: the EXIF orientation 1-8 that turns `storedWidth` x `storedHeight` the way
    /// libheif does (its EXIF Orientation is then ignored, `orientation` is 1). `nil` for every other file.
    public var containerOrientation: Int?

    public init(
        format: ImageFormat, width: Int, height: Int, orientation: Int = 1, storedWidth: Int? = nil,
        storedHeight: Int? = nil, containerOrientation: Int? = nil
    ) {
        self.format = format
        self.width = width
        self.height = height
        self.orientation = orientation
        self.storedWidth = storedWidth ?? width
        self.storedHeight = storedHeight ?? height
        self.containerOrientation = containerOrientation
    }
}
