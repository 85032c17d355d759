// exiftool's names for the standard TIFF/EXIF, GPS and Interoperability tags (libexif's names differ:
// "DateTime" is exiftool's ModifyDate, "ISOSpeedRatings" its ISO, "PixelXDimension" its ExifImageWidth).

/// exiftool's tag names by tag id, per table.
enum ExifTagNames {
    /// The name exiftool gives a tag found in `group`, or `nil` when this table does not know it.
    static func name(for id: UInt16, in group: ExifGroup) -> String? {
        switch group {
        case .gps: return gps[id]
        case .interop: return interop[id] ?? main[id]
        case .ifd0, .exif, .ifd1: return main[id]
        }
    }

    /// The id of a tag name in `group`, for decoding.
    static func id(forName name: String, in group: ExifGroup) -> UInt16? {
        let table = group == .gps ? gps : (group == .interop ? interop.merging(main) { first, _ in first } : main)
        return table.first { $0.value == name }?.key
    }

    /// exiftool's Exif::Main table: one table for IFD0, ExifIFD and IFD1.
    static let main: [UInt16: String] = [
        0x000b: "ProcessingSoftware", 0x00fe: "SubfileType", 0x00ff: "OldSubfileType",
        0x0100: "ImageWidth", 0x0101: "ImageHeight", 0x0102: "BitsPerSample", 0x0103: "Compression",
        0x0106: "PhotometricInterpretation", 0x0107: "Thresholding", 0x010a: "FillOrder",
        0x010d: "DocumentName", 0x010e: "ImageDescription", 0x010f: "Make", 0x0110: "Model",
        0x0111: "StripOffsets", 0x0112: "Orientation", 0x0115: "SamplesPerPixel", 0x0116: "RowsPerStrip",
        0x0117: "StripByteCounts", 0x0118: "MinSampleValue", 0x0119: "MaxSampleValue",
        0x011a: "XResolution", 0x011b: "YResolution", 0x011c: "PlanarConfiguration", 0x011d: "PageName",
        0x011e: "XPosition", 0x011f: "YPosition", 0x0128: "ResolutionUnit", 0x0129: "PageNumber",
        0x012d: "TransferFunction", 0x0131: "Software", 0x0132: "ModifyDate", 0x013b: "Artist",
        0x013c: "HostComputer", 0x013d: "Predictor", 0x013e: "WhitePoint", 0x013f: "PrimaryChromaticities",
        0x0140: "ColorMap", 0x0141: "HalftoneHints", 0x0142: "TileWidth", 0x0143: "TileLength",
        0x014a: "SubIFD", 0x0150: "DotRange", 0x0152: "ExtraSamples", 0x0153: "SampleFormat",
        0x0201: "ThumbnailOffset", 0x0202: "ThumbnailLength", 0x0211: "YCbCrCoefficients",
        0x0212: "YCbCrSubSampling", 0x0213: "YCbCrPositioning", 0x0214: "ReferenceBlackWhite",
        0x02bc: "ApplicationNotes", 0x4746: "Rating", 0x4749: "RatingPercent", 0x8298: "Copyright",
        0x829a: "ExposureTime", 0x829d: "FNumber", 0x83bb: "IPTC-NAA", 0x8649: "PhotoshopSettings",
        0x8769: "ExifOffset", 0x8773: "ICC_Profile", 0x8822: "ExposureProgram", 0x8824: "SpectralSensitivity",
        0x8825: "GPSInfo", 0x8827: "ISO", 0x8828: "Opto-ElectricConvFactor", 0x882a: "TimeZoneOffset",
        0x882b: "SelfTimerMode", 0x8830: "SensitivityType", 0x8831: "StandardOutputSensitivity",
        0x8832: "RecommendedExposureIndex", 0x8833: "ISOSpeed", 0x8834: "ISOSpeedLatitudeyyy",
        0x8835: "ISOSpeedLatitudezzz", 0x9000: "ExifVersion", 0x9003: "DateTimeOriginal",
        0x9004: "CreateDate", 0x9009: "GooglePlusUploadCode", 0x9010: "OffsetTime",
        0x9011: "OffsetTimeOriginal", 0x9012: "OffsetTimeDigitized", 0x9101: "ComponentsConfiguration",
        0x9102: "CompressedBitsPerPixel", 0x9201: "ShutterSpeedValue", 0x9202: "ApertureValue",
        0x9203: "BrightnessValue", 0x9204: "ExposureCompensation", 0x9205: "MaxApertureValue",
        0x9206: "SubjectDistance", 0x9207: "MeteringMode", 0x9208: "LightSource", 0x9209: "Flash",
        0x920a: "FocalLength", 0x9211: "ImageNumber", 0x9212: "SecurityClassification",
        0x920c: "SpatialFrequencyResponse", 0x9213: "ImageHistory", 0x9214: "SubjectArea", 0x927c: "MakerNote",
        0x9286: "UserComment",
        0x9290: "SubSecTime", 0x9291: "SubSecTimeOriginal", 0x9292: "SubSecTimeDigitized",
        0x9400: "AmbientTemperature", 0x9401: "Humidity", 0x9402: "Pressure", 0x9403: "WaterDepth",
        0x9404: "Acceleration", 0x9405: "CameraElevationAngle", 0x9c9b: "XPTitle", 0x9c9c: "XPComment",
        0x9c9d: "XPAuthor", 0x9c9e: "XPKeywords", 0x9c9f: "XPSubject", 0xa000: "FlashpixVersion",
        0xa001: "ColorSpace", 0xa002: "ExifImageWidth", 0xa003: "ExifImageHeight",
        0xa004: "RelatedSoundFile", 0xa005: "InteropOffset", 0xa20b: "FlashEnergy",
        0xa20c: "SpatialFrequencyResponse", 0xa20e: "FocalPlaneXResolution",
        0xa20f: "FocalPlaneYResolution", 0xa210: "FocalPlaneResolutionUnit", 0xa214: "SubjectLocation",
        0xa215: "ExposureIndex", 0xa217: "SensingMethod", 0xa300: "FileSource", 0xa301: "SceneType",
        0xa302: "CFAPattern", 0xa401: "CustomRendered", 0xa402: "ExposureMode", 0xa403: "WhiteBalance",
        0xa404: "DigitalZoomRatio", 0xa405: "FocalLengthIn35mmFormat", 0xa406: "SceneCaptureType",
        0xa407: "GainControl", 0xa408: "Contrast", 0xa409: "Saturation", 0xa40a: "Sharpness",
        0xa40b: "DeviceSettingDescription", 0xa40c: "SubjectDistanceRange", 0xa420: "ImageUniqueID",
        0xa430: "OwnerName", 0xa431: "SerialNumber", 0xa432: "LensInfo", 0xa433: "LensMake",
        0xa434: "LensModel", 0xa435: "LensSerialNumber", 0xa460: "CompositeImage",
        0xa461: "CompositeImageCount", 0xa462: "CompositeImageExposureTimes", 0xa500: "Gamma",
        0xc4a5: "PrintIM", 0xc612: "DNGVersion", 0xc614: "UniqueCameraModel", 0xea1c: "Padding",
        0xea1d: "OffsetSchema",
    ]

    /// exiftool's GPS table.
    static let gps: [UInt16: String] = [
        0x00: "GPSVersionID", 0x01: "GPSLatitudeRef", 0x02: "GPSLatitude", 0x03: "GPSLongitudeRef",
        0x04: "GPSLongitude", 0x05: "GPSAltitudeRef", 0x06: "GPSAltitude", 0x07: "GPSTimeStamp",
        0x08: "GPSSatellites", 0x09: "GPSStatus", 0x0a: "GPSMeasureMode", 0x0b: "GPSDOP",
        0x0c: "GPSSpeedRef", 0x0d: "GPSSpeed", 0x0e: "GPSTrackRef", 0x0f: "GPSTrack",
        0x10: "GPSImgDirectionRef", 0x11: "GPSImgDirection", 0x12: "GPSMapDatum",
        0x13: "GPSDestLatitudeRef", 0x14: "GPSDestLatitude", 0x15: "GPSDestLongitudeRef",
        0x16: "GPSDestLongitude", 0x17: "GPSDestBearingRef", 0x18: "GPSDestBearing",
        0x19: "GPSDestDistanceRef", 0x1a: "GPSDestDistance", 0x1b: "GPSProcessingMethod",
        0x1c: "GPSAreaInformation", 0x1d: "GPSDateStamp", 0x1e: "GPSDifferential",
        0x1f: "GPSHPositioningError",
    ]

    /// exiftool's InteropIFD names (the rest of that IFD uses the main table).
    static let interop: [UInt16: String] = [
        0x0001: "InteropIndex", 0x0002: "InteropVersion", 0x1000: "RelatedImageFileFormat",
        0x1001: "RelatedImageWidth", 0x1002: "RelatedImageHeight",
    ]
}
