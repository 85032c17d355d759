// Reads PNG's IHDR and looks for an eXIf chunk (else an ImageMagick raw EXIF profile); also checks that a whole
// file's chunk list is complete.

/// Reads a PNG's size and orientation from its chunks, without libpng and without inflating anything but an
/// ImageMagick raw profile (at most `PNGRawProfile.largestText` bytes of it).
enum PNGHeaderParser {
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageHeader {
        guard bytes.count >= 8 + 8 + 13 else {
            throw .truncated(detail: "the PNG data ends before its IHDR chunk is complete")
        }
        guard readUInt32(bytes, at: 8) == 13, readUInt32(bytes, at: 12) == chunkType("IHDR") else {
            throw .corrupt(format: .png, detail: "the first chunk is not a 13-byte IHDR")
        }
        let width = Int(readUInt32(bytes, at: 16))
        let height = Int(readUInt32(bytes, at: 20))
        let bitDepth = bytes[24]
        let colorType = bytes[25]
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw .invalidDimensions(width: width, height: height)
        }
        guard isValid(bitDepth: bitDepth, colorType: colorType) else {
            throw .corrupt(format: .png, detail: "IHDR declares bit depth \(bitDepth) with colour type \(colorType)")
        }
        return ImageHeader(format: .png, width: width, height: height, orientation: orientation(in: bytes))
    }

    /// Checks that the chunk list of a whole file ends with IEND inside the buffer.
    /// - Throws: `.truncated` naming the chunk that runs past the end of the data.
    static func checkComplete(_ bytes: UnsafeRawBufferPointer) throws(ImageError) {
        var position = 8
        while position + 8 <= bytes.count {
            let length = Int(readUInt32(bytes, at: position))
            let type = readUInt32(bytes, at: position + 4)
            let next = position + 12 + length
            guard next <= bytes.count else {
                throw .truncated(
                    detail:
                        "chunk \(name(of: type)) declares \(length) bytes but the file ends \(bytes.count - position - 8) bytes later"
                )
            }
            if type == chunkType("IEND") { return }
            position = next
        }
        throw .truncated(detail: "the PNG data ends before its IEND chunk")
    }

    /// The orientation from an eXIf chunk found in the bytes available, else from the first ImageMagick raw profile
    /// (`PNGRawProfile`, as the metadata service reads it; until session 31 neither read it), else 1.
    private static func orientation(in bytes: UnsafeRawBufferPointer) -> Int {
        var position = 8
        var profile: PNGRawProfile.Content?
        var sawProfile = false  // the first raw profile only, as the metadata service: one inflation at most
        while position + 8 <= bytes.count {
            let length = Int(readUInt32(bytes, at: position))
            let type = readUInt32(bytes, at: position + 4)
            let body = position + 8
            guard length <= bytes.count - body else { break }
            let data = UnsafeRawBufferPointer(rebasing: bytes[body..<(body + length)])
            if type == chunkType("eXIf") {
                // Some writers keep JPEG's "Exif\0\0" before the TIFF structure; the metadata service (and
                // exiftool) skip it, and until session 32 the thumbnail did not and stayed unturned.
                let header: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]
                let tiff = data.starts(with: header) ? UnsafeRawBufferPointer(rebasing: data[6...]) : data
                return EXIFOrientation.read(tiff: tiff) ?? 1
            }
            if type == chunkType("IEND") { break }
            if !sawProfile, let text = textChunk(type), PNGRawProfile.isNamed(data) {
                sawProfile = true
                profile = PNGRawProfile.exif(chunk: text, data: data)
            }
            position = body + length + 4
        }
        guard case .tiff(let tiff, _) = profile else { return 1 }
        return tiff.withUnsafeBytes { EXIFOrientation.read(tiff: $0) } ?? 1
    }

    /// "tEXt", "zTXt" or "iTXt" for a text chunk's type, else `nil`.
    private static func textChunk(_ type: UInt32) -> String? {
        switch type {
        case chunkType("tEXt"): return "tEXt"
        case chunkType("zTXt"): return "zTXt"
        case chunkType("iTXt"): return "iTXt"
        default: return nil
        }
    }

    private static func isValid(bitDepth: UInt8, colorType: UInt8) -> Bool {
        switch colorType {
        case 0: return [1, 2, 4, 8, 16].contains(bitDepth)
        case 3: return [1, 2, 4, 8].contains(bitDepth)
        case 2, 4, 6: return bitDepth == 8 || bitDepth == 16
        default: return false
        }
    }

    private static func readUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }

    private static func chunkType(_ name: StaticString) -> UInt32 {
        let pointer = name.utf8Start
        return UInt32(pointer[0]) << 24 | UInt32(pointer[1]) << 16 | UInt32(pointer[2]) << 8 | UInt32(pointer[3])
    }

    private static func name(of type: UInt32) -> String {
        let scalars = [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: type >> $0) }
        guard scalars.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
            return "0x" + String(type, radix: 16)
        }
        return String(decoding: scalars, as: UTF8.self)
    }
}
