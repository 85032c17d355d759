// A HEIF file (HEIC or AVIF) opened by libheif: its boxes parsed, no picture decoded. libheif applies the
// container's rotation and mirror (irot, imir) and assembles grids itself; the sizes here are after those. The
// EXIF Orientation counts only in a file without irot/imir (`HEIFTransformBoxes`): with them it is informational
// (phones write both), and applying it too would turn the picture twice.
import CHEIF

/// An open HEIF context and its primary image handle; freed when released.
final class HEIFContainer {
    private let context: OpaquePointer
    let handle: OpaquePointer
    let format: ImageFormat
    /// The EXIF Orientation still to apply after libheif's decode (1 unless the container has no irot/imir).
    let orientation: Int
    /// The EXIF Orientation the primary image's irot/imir amount to, which libheif applies; `nil` without them.
    let containerOrientation: Int?

    /// Parses the container in `bytes`, which must stay alive and unchanged as long as this object.
    /// - Parameter limits: `nil`, or limits whose pixel count also bounds libheif's own size check.
    init(_ bytes: UnsafeRawBufferPointer, format: ImageFormat, limits: DecodeLimits? = nil) throws(ImageError) {
        try HEIFContainer.requireLibrary(for: format)
        guard let base = bytes.baseAddress, let context = heif_context_alloc() else {
            throw .truncated(detail: "no \(format.displayName) data")
        }
        if HEIFMetaExtent.isCut(bytes) {
            heif_context_free(context)
            throw .truncated(detail: "the \(format.displayName) data ends before its 'meta' box does")
        }
        if HEIFDerivationCycle.present(in: bytes) {
            heif_context_free(context)
            throw .corrupt(format: format, detail: "its derived images refer back to themselves (a 'dimg' cycle)")
        }
        if let kind = HEIFCanvasSize.mismatch(in: bytes) {
            heif_context_free(context)
            let derived = kind == .grid ? "a grid" : "an overlay"
            throw .corrupt(format: format, detail: "\(derived) declares another size than its 'ispe' property")
        }
        if let limits, let coded = HEIFCodedSize.largest(in: bytes), HEIFCodedSize.pixels(coded) > limits.maxPixels {
            // The decoder sizes its pictures by the coded stream, not by `ispe`: the limit holds for that size too.
            heif_context_free(context)
            throw .tooManyPixels(width: coded.width, height: coded.height, limit: limits.maxPixels)
        }
        if let limits {
            // libheif's security limit is on each side; our pixel limit is checked on the handle below as well.
            heif_context_set_maximum_image_size_limit(context, Int32(clamping: limits.maxPixels))
        }
        // The error's message lives in the context: it is read (imageError) before the context is freed.
        var error = heif_context_read_from_memory_without_copy(context, base, bytes.count, nil)
        guard error.code == heif_error_Ok else {
            let failure = Self.imageError(error, format: format, while: "reading the container")
            heif_context_free(context)
            throw failure
        }
        var handle: OpaquePointer?
        error = heif_context_get_primary_image_handle(context, &handle)
        guard error.code == heif_error_Ok, let handle else {
            let failure = Self.imageError(error, format: format, while: "finding the primary image")
            heif_context_free(context)
            throw failure
        }
        self.context = context
        self.handle = handle
        self.format = format
        containerOrientation = HEIFTransformBoxes.orientation(in: bytes)
        var orientation = 1
        if containerOrientation == nil, case .tiff(let tiff) = Self.exif(handle) {
            orientation = tiff.withUnsafeBytes { EXIFOrientation.read(tiff: $0) } ?? 1
        }
        self.orientation = orientation
    }

    /// Opens libheif on the first HEIF or AVIF file (it is not linked, see CHEIF.h).
    static func requireLibrary(for format: ImageFormat) throws(ImageError) {
        guard CHEIF_load() == 0 else { return }
        let reason = CHEIF_loadError().map { String(cString: $0) } ?? "unknown reason"
        throw .libraryUnavailable(library: "libheif (needed for \(format.displayName))", reason: reason)
    }

    deinit {
        heif_image_handle_release(handle)
        heif_context_free(context)
    }

    /// The header: the primary image's size after libheif's rotation, the EXIF orientation left to apply, the
    /// size before any rotation (its `ispe`, what exiftool calls ImageWidth/ImageHeight) and the orientation the
    /// container's irot/imir amount to.
    func header() throws(ImageError) -> ImageHeader {
        let width = Int(heif_image_handle_get_width(handle))
        let height = Int(heif_image_handle_get_height(handle))
        guard width > 0, height > 0 else { throw .invalidDimensions(width: width, height: height) }
        let ispeWidth = Int(heif_image_handle_get_ispe_width(handle))
        let ispeHeight = Int(heif_image_handle_get_ispe_height(handle))
        // An ispe that is not the turned size (a clap crop) says nothing about the turn: the decoded size stands.
        let turned = (ispeWidth, ispeHeight) == (height, width)
        return ImageHeader(
            format: format, width: width, height: height, orientation: orientation,
            storedWidth: turned ? height : width, storedHeight: turned ? width : height,
            containerOrientation: containerOrientation)
    }

    var hasAlpha: Bool { heif_image_handle_has_alpha_channel(handle) != 0 }

    /// The handle of the embedded thumbnail image when it is at least `size`, has the primary image's aspect
    /// ratio (within 1 %) and its alpha when the primary has one (a thumbnail without it would show the colour of
    /// transparent pixels); the caller releases it. `nil` when there is none that fits.
    func thumbnail(atLeast size: (width: Int, height: Int)) -> OpaquePointer? {
        let count = Int(heif_image_handle_get_number_of_thumbnails(handle))
        guard count > 0 else { return nil }
        var ids = [heif_item_id](repeating: 0, count: min(count, 16))
        let listed = Int(heif_image_handle_get_list_of_thumbnail_IDs(handle, &ids, Int32(ids.count)))
        let (width, height) = (
            Double(heif_image_handle_get_width(handle)), Double(heif_image_handle_get_height(handle))
        )
        var best: (handle: OpaquePointer, pixels: Int)? = nil
        for id in ids.prefix(listed) {
            var thumbnail: OpaquePointer?
            guard heif_image_handle_get_thumbnail(handle, id, &thumbnail).code == heif_error_Ok, let thumbnail else {
                continue
            }
            let w = Int(heif_image_handle_get_width(thumbnail))
            let h = Int(heif_image_handle_get_height(thumbnail))
            let sameShape = w > 0 && h > 0 && abs(Double(w) / Double(h) - width / height) <= 0.01 * width / height
            let keepsAlpha = !hasAlpha || heif_image_handle_has_alpha_channel(thumbnail) != 0
            if sameShape, keepsAlpha, w >= size.width, h >= size.height, best == nil || w * h < best!.pixels {
                if let previous = best { heif_image_handle_release(previous.handle) }
                best = (thumbnail, w * h)
            } else {
                heif_image_handle_release(thumbnail)
            }
        }
        return best?.handle
    }

    /// The embedded ICC profile (`prof` or `rICC` colour box), or `nil` (none, or an nclx description).
    var iccProfile: [UInt8]? {
        let type = heif_image_handle_get_color_profile_type(handle)
        guard type == heif_color_profile_type_prof || type == heif_color_profile_type_rICC else { return nil }
        let size = heif_image_handle_get_raw_color_profile_size(handle)
        guard size > 0, size < 16 * 1024 * 1024 else { return nil }
        var profile = [UInt8](repeating: 0, count: size)
        let error = profile.withUnsafeMutableBytes { heif_image_handle_get_raw_color_profile(handle, $0.baseAddress) }
        return error.code == heif_error_Ok ? profile : nil
    }

    /// The colour the pixels are in by the nclx box (ITU-T H.273 code points), when the file has one: white, red,
    /// green and blue as CIE xy, as libheif decodes the primaries code, and the primaries and transfer codes.
    var nclx: NCLXColor? {
        var profile: UnsafeMutablePointer<heif_color_profile_nclx>?
        guard heif_image_handle_get_nclx_color_profile(handle, &profile).code == heif_error_Ok, let profile else {
            return nil
        }
        defer { heif_nclx_color_profile_free(profile) }
        let nclx = profile.pointee
        return NCLXColor(
            chromaticities: [
                nclx.color_primary_white_x, nclx.color_primary_white_y, nclx.color_primary_red_x,
                nclx.color_primary_red_y, nclx.color_primary_green_x, nclx.color_primary_green_y,
                nclx.color_primary_blue_x, nclx.color_primary_blue_y,
            ].map(Double.init),
            primaries: Int(nclx.color_primaries.rawValue), transfer: Int(nclx.transfer_characteristics.rawValue))
    }

    /// The TIFF structure of the primary image's EXIF item, or why it cannot be read: libheif's block starts with a
    /// 4-byte big-endian offset to the TIFF header (which itself may follow "Exif\0\0").
    var exif: HEIFMetadata.Exif { Self.exif(handle) }

    private static let largestExifItem = 16 * 1024 * 1024

    private static func exif(_ handle: OpaquePointer) -> HEIFMetadata.Exif {
        var id: heif_item_id = 0
        guard heif_image_handle_get_list_of_metadata_block_IDs(handle, "Exif", &id, 1) == 1 else { return .absent }
        let size = heif_image_handle_get_metadata_size(handle, id)
        guard size > 4 else { return .unreadable("Exif item of \(size) bytes is too short for its TIFF header offset") }
        guard size < largestExifItem else {
            return .unreadable("Exif item of \(size) bytes is larger than the \(largestExifItem >> 20) MiB read")
        }
        var block = [UInt8](repeating: 0, count: size)
        let error = block.withUnsafeMutableBytes { heif_image_handle_get_metadata(handle, id, $0.baseAddress) }
        guard error.code == heif_error_Ok else {
            let message = error.message.map { String(cString: $0) } ?? "libheif error \(error.code.rawValue)"
            return .unreadable("Exif item cannot be read: \(message)")
        }
        let offset = Int(block[0]) << 24 | Int(block[1]) << 16 | Int(block[2]) << 8 | Int(block[3])
        guard offset <= size - 4 - 8 else {
            return .unreadable("Exif item's TIFF header offset \(offset) is past its end (\(size) bytes)")
        }
        return .tiff(Array(block[(4 + offset)...]))
    }

    /// A libheif error as an `ImageError`: data that ends early is `.truncated`, a feature libheif lacks
    /// `.unsupportedVariant`, the rest `.corrupt`. Call it while
    /// the context (or handle) that returned `error` is alive: `error.message` may point into it.
    static func imageError(_ error: heif_error, format: ImageFormat, while step: String) -> ImageError {
        // libheif ends some messages with a line break, which a log line or a JSON body showed as "\n".
        let message =
            error.message.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) }
            ?? "libheif error \(error.code.rawValue)"
        if error.subcode == heif_suberror_End_of_data {
            return .truncated(detail: "the \(format.displayName) data ends early, \(step): \(message)")
        }
        if error.subcode == heif_suberror_Security_limit_exceeded {
            return .corrupt(format: format, detail: "\(Self.libheifLimitLead), \(step): \(message)")
        }
        if error.code == heif_error_Unsupported_feature {
            // An intact file asking for what this libheif cannot do (10-bit with `imir` in 1.15, a codec without its
            // plugin): until session 34 "corrupt HEIC data: … Unsupported feature: Unspecified: …".
            var reason = Substring(message)
            for lead in ["Unsupported feature: ", "Unspecified: "] where reason.hasPrefix(lead) {
                reason = reason.dropFirst(lead.count)
            }
            let version = String(cString: heif_get_version())
            return .unsupportedVariant(
                format: format, detail: "\(step) needs a feature libheif \(version) lacks: \(reason)")
        }
        return .corrupt(format: format, detail: "\(step): \(message)")
    }

    private static let libheifLimitLead = "over libheif's size limit"

    /// The size a file declares when libheif refused it for its own size limit ("Image size 60000x60000 exceeds
    /// the maximum image size 32768x32768"), read from the error; `nil` for any other error.
    static func sizeOverLibheifLimit(_ error: ImageError) -> (width: Int, height: Int)? {
        guard case .corrupt(_, let detail) = error, detail.hasPrefix(libheifLimitLead),
            let match = detail.firstMatch(of: #/Image size (\d+)x(\d+) exceeds/#),
            let width = Int(match.1), let height = Int(match.2), width > 0, height > 0
        else { return nil }
        return (width, height)
    }
}

/// What the metadata service reads from a HEIF container.
public enum HEIFMetadata {
    /// What a HEIF file's Exif item holds.
    public enum Exif: Equatable, Sendable {
        /// The TIFF block (after the item's offset and any "Exif\0\0").
        case tiff([UInt8])
        /// No Exif item, or a container libheif cannot read.
        case absent
        /// An Exif item that cannot be read, and why (a TIFF header offset past its end).
        case unreadable(String)
    }

    /// The Exif item of a HEIC or AVIF file, or why it cannot be read.
    public static func exif(in bytes: UnsafeRawBufferPointer, format: ImageFormat) -> Exif {
        (try? HEIFContainer(bytes, format: format))?.exif ?? .absent
    }
}

/// A colour described by code points (an nclx box) instead of an ICC profile.
struct NCLXColor: Sendable, Equatable {
    /// White, red, green, blue as CIE x, y.
    var chromaticities: [Double]
    /// ITU-T H.273 ColourPrimaries (1: BT.709/sRGB, 2: unspecified, 9: BT.2020, 12: Display P3, …).
    var primaries: Int
    /// ITU-T H.273 TransferCharacteristics (13: sRGB, 1/6/14/15: BT.709's, 8: linear, 16: PQ, 18: HLG, …).
    var transfer: Int
}
