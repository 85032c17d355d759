// Reading a picture's metadata: the image header (size, format) and the EXIF block, from memory or disk.
import Foundation
import ImageCore
import PipelineCore

/// Reads the normalised metadata (and optionally every raw tag) of a JPEG, PNG, WebP, GIF, HEIC or AVIF.
///
/// Safe to call from any thread: every call owns its buffers and its libexif state.
public enum MetadataReader {
    /// How much of a file is read first when the file is not hashed: APP1 and SOF of most camera files.
    /// When the SOF/IHDR or the EXIF block lies further in, `growingHeadLength`, then the whole file.
    public static let headLength = 32 * 1024
    /// The second read: an APP1 is at most 64 KiB, so this holds it and the SOF unless a large ICC profile
    /// or other APPn segment comes first.
    public static let growingHeadLength = 256 * 1024
    /// The most of an EXIF block read (1 MiB). A JPEG APP1 holds at most 64 KiB, but a PNG eXIf chunk, a WebP EXIF
    /// chunk or a HEIF Exif item can be longer, and exiftool reads them whole; a longer block (no camera writes one)
    /// is read up to here, and `exif_error` says it was cut.
    public static let largestExifBlock = 1 << 20

    /// Reads metadata from a whole file already in memory (the batch and pipeline path).
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - file: the path to report.
    ///   - sha256: the hash the caller already computed, or `nil`.
    ///   - includeRaw: also return every raw tag in `exif`.
    /// - Throws: `MetadataError.unsupportedImage` only when the bytes are not a JPEG/PNG with a readable header;
    ///   bad EXIF never throws, it is reported in `exifError`.
    public static func read(
        bytes: UnsafeRawBufferPointer, file: String, sha256: String?, includeRaw: Bool
    ) throws -> ImageMetadata {
        switch read(
            bytes: bytes, isWholeFile: true, fileSize: bytes.count, file: file, sha256: sha256, includeRaw: includeRaw)
        {
        case .success(let metadata): return metadata
        case .failure(.error(let error)): throw error
        case .failure(.needMoreBytes): throw MetadataError.unsupportedImage(path: file, reason: "truncated header")
        }
    }

    /// Reads metadata from a file on disk: only its head unless `hash` is true.
    /// - Parameters:
    ///   - path: the file, reported as given in `file`.
    ///   - hash: read the whole file and fill `sha256`; otherwise `sha256` is `nil`.
    ///   - includeRaw: also return every raw tag in `exif`.
    /// - Throws: `MetadataError` when the file cannot be read or is not a JPEG/PNG with a readable header.
    public static func read(fileAt path: String, hash: Bool, includeRaw: Bool) throws -> ImageMetadata {
        let file = try OpenFile(path: path)
        if hash {
            let whole = try file.read(upTo: file.size)
            return try whole.withUnsafeBytes { bytes in
                try read(bytes: bytes, file: path, sha256: ContentHash(of: bytes).hex, includeRaw: includeRaw)
            }
        }
        var length = min(headLength, file.size)
        while true {
            let head = try file.read(upTo: length)
            let isWholeFile = head.count >= file.size
            let outcome = head.withUnsafeBytes { bytes in
                read(
                    bytes: bytes, isWholeFile: isWholeFile, fileSize: file.size, file: path, sha256: nil,
                    includeRaw: includeRaw)
            }
            switch outcome {
            case .success(let metadata): return metadata
            case .failure(.needMoreBytes) where !isWholeFile:
                // A large APP1 or APP2/ICC before SOF, or a PNG whose eXIf follows IDAT: read more.
                length = length < growingHeadLength ? min(growingHeadLength, file.size) : file.size
            case .failure(.needMoreBytes): throw MetadataError.unsupportedImage(path: path, reason: "truncated header")
            case .failure(.error(let error)): throw error
            }
        }
    }

    /// Why a head of a file gave no metadata.
    package enum Failure: Error {
        case needMoreBytes
        case error(MetadataError)
    }

    /// Reads metadata from the first bytes of a file of `fileSize` bytes (all of it when `isWholeFile`).
    /// `reader` picks what reads the EXIF block's directories (tests hold picpipe's walk against libexif).
    package static func read(
        bytes: UnsafeRawBufferPointer, isWholeFile: Bool, fileSize: Int, file: String, sha256: String?,
        includeRaw: Bool, reader: ExifBlockReader = .bySize
    ) -> Result<ImageMetadata, Failure> {
        guard let format = ImageFormat.sniff(bytes) else {
            // Too few bytes to tell (a WebP signature needs 12, a HEIF `ftyp` up to 64): a head of a longer file
            // reads on.
            if !isWholeFile, bytes.count < 64 { return .failure(.needMoreBytes) }
            return .failure(
                .error(
                    .unsupportedImage(
                        path: file, reason: "not a JPEG, PNG, WebP, GIF, HEIC or AVIF image (unknown signature)")))
        }
        let header: ImageHeader
        do {
            header = try ImageHeader.read(from: bytes)
        } catch .truncated(let detail) {
            if !isWholeFile { return .failure(.needMoreBytes) }
            return .failure(.error(.unsupportedImage(path: file, reason: "image data is truncated (\(detail))")))
        } catch {
            return .failure(.error(.unsupportedImage(path: file, reason: error.description)))
        }
        var metadata = ImageMetadata(file: file)
        metadata.format = format.rawValue
        // Before any turn, for every format (a HEIF's irot is a turn, as the EXIF orientation is): exiftool's
        // ImageWidth/ImageHeight, and what `orientation` turns.
        metadata.width = header.storedWidth
        metadata.height = header.storedHeight
        metadata.bytes = fileSize
        metadata.sha256 = sha256
        switch ExifSegment.locate(in: bytes, format: format, isWholeFile: isWholeFile) {
        case .incomplete:
            return .failure(.needMoreBytes)
        case .absent:
            break
        case .broken(let reason):
            metadata.exifError = reason
        case .found(let range):
            let block = ExifBlock(
                in: bytes, tiffRange: range, thumbnailBase: format == .jpeg ? range.lowerBound : 0, reader: reader)
            block.apply(to: &metadata, includeRaw: includeRaw)
            metadata.exifError = block.problem
        case .copied(let tiff, let note):
            tiff.withUnsafeBytes { copy in
                let block = ExifBlock(in: copy, tiffRange: 0..<copy.count, reader: reader)
                block.apply(to: &metadata, includeRaw: includeRaw)
                metadata.exifError = block.problem ?? note
            }
        }
        if let turn = header.containerOrientation {
            // A HEIF's irot/imir is what libheif turns it by, its EXIF Orientation ignored: the orientation that
            // turn amounts to is the one that shows `width` x `height` as the thumbnails are.
            metadata.orientation = turn
        }
        return .success(metadata)
    }
}
