// The normalised metadata of one picture: what `picpipe metadata` prints and the store keeps.
import ImageCore

/// The normalised fields of one picture, EXIF values as exiftool `-n` reports them; a field the file
/// does not hold is `nil` (never 0 or "").
public struct ImageMetadata: Codable, Sendable, Equatable {
    /// The path as given (or, from the store, the stored original's path).
    public var file: String
    /// IFD0 Make, trimmed of padding NULs and spaces.
    public var make: String?
    /// IFD0 Model, trimmed.
    public var model: String?
    /// ExifIFD LensModel, trimmed.
    public var lensModel: String?
    /// ExifIFD DateTimeOriginal as `YYYY-MM-DDTHH:MM:SS`, the camera's local wall time.
    public var takenAt: String?
    /// OffsetTimeOriginal, else OffsetTime, as `+HH:MM`; never guessed.
    public var takenAtOffset: String?
    /// Exposure time in seconds.
    public var exposureTime: Double?
    /// The f-number.
    public var fNumber: Double?
    /// ExifIFD ISO (ISOSpeedRatings), the first value.
    public var iso: Int?
    /// Focal length in millimetres.
    public var focalLength: Double?
    /// FocalLengthIn35mmFormat in millimetres.
    public var focalLength35mm: Int?
    /// IFD0 Orientation as stored (1-8 when valid).
    public var orientation: Int?
    /// Signed decimal degrees, south negative.
    public var gpsLatitude: Double?
    /// Signed decimal degrees, west negative.
    public var gpsLongitude: Double?
    /// Signed metres, below sea level negative.
    public var gpsAltitude: Double?
    /// Stored pixel width, from the image header (not from EXIF).
    public var width: Int?
    /// Stored pixel height, from the image header.
    public var height: Int?
    /// `jpeg` or `png`, sniffed from the bytes.
    public var format: String?
    /// The file's size in bytes.
    public var bytes: Int?
    /// SHA-256 of the whole file, lowercase hex; `nil` when it was not computed.
    public var sha256: String?
    /// Why the EXIF block could not be read completely, when it could not.
    public var exifError: String?
    /// Every raw tag, when asked for.
    public var exif: ExifTags?

    /// A record with only the file set; the reader fills the rest.
    public init(file: String) {
        self.file = file
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case file, make, model
        case lensModel = "lens_model"
        case takenAt = "taken_at"
        case takenAtOffset = "taken_at_offset"
        case exposureTime = "exposure_time"
        case fNumber = "f_number"
        case iso
        case focalLength = "focal_length"
        case focalLength35mm = "focal_length_35mm"
        case orientation
        case gpsLatitude = "gps_latitude"
        case gpsLongitude = "gps_longitude"
        case gpsAltitude = "gps_altitude"
        case width, height, format, bytes, sha256
        case exifError = "exif_error"
        case exif
    }

    /// Encodes every normalised key, `null` where absent; `exif` only when present.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(file, forKey: .file)
        try container.encode(make, forKey: .make)
        try container.encode(model, forKey: .model)
        try container.encode(lensModel, forKey: .lensModel)
        try container.encode(takenAt, forKey: .takenAt)
        try container.encode(takenAtOffset, forKey: .takenAtOffset)
        try container.encode(exposureTime, forKey: .exposureTime)
        try container.encode(fNumber, forKey: .fNumber)
        try container.encode(iso, forKey: .iso)
        try container.encode(focalLength, forKey: .focalLength)
        try container.encode(focalLength35mm, forKey: .focalLength35mm)
        try container.encode(orientation, forKey: .orientation)
        try container.encode(gpsLatitude, forKey: .gpsLatitude)
        try container.encode(gpsLongitude, forKey: .gpsLongitude)
        try container.encode(gpsAltitude, forKey: .gpsAltitude)
        try container.encode(width, forKey: .width)
        try container.encode(height, forKey: .height)
        try container.encode(format, forKey: .format)
        try container.encode(bytes, forKey: .bytes)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(exifError, forKey: .exifError)
        try container.encodeIfPresent(exif, forKey: .exif)
    }
}
