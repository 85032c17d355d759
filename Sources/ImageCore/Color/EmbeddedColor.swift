// What a file says about its colours, read from JPEG markers, PNG chunks or WebP chunks before any pixel is decoded:
// an embedded ICC profile (JPEG APP2 ICC_PROFILE chunks reassembled in sequence order, PNG iCCP inflated by libpng,
// WebP ICCP), EXIF's Adobe RGB marker, PNG's sRGB and cHRM chunks.

import CPNGShims

/// The colour information a JPEG or PNG carries beside its pixels.
struct EmbeddedColor: Equatable {
    /// The whole ICC profile, or `nil` when there is none or it is incomplete (a missing or repeated chunk).
    var iccProfile: [UInt8]?
    /// EXIF ColorSpace 0xFFFF (uncalibrated) with InteropIndex "R03": Adobe RGB (1998) without a profile.
    var exifAdobeRGB = false
    /// Colour components as stored: 1 gray, 3 RGB/YCbCr, 4 CMYK/YCCK (JPEG); 1 gray or 3 colour (PNG).
    var components = 3
    /// PNG's sRGB chunk: the picture says it is sRGB.
    var declaresSRGB = false
    /// PNG's cICP chunk (coding-independent code points, used for HDR), which outranks cHRM and which picpipe does
    /// not interpret: with it, cHRM is not applied either.
    var hasCICP = false
    /// PNG's cHRM chunk: white point, red, green and blue as CIE xy (x, y pairs, in that order).
    var chromaticities: [Double]?

    /// Reads the colour information of a whole file; damaged or missing pieces count as absent, never as errors.
    static func read(_ bytes: UnsafeRawBufferPointer, format: ImageFormat) -> EmbeddedColor {
        switch format {
        case .jpeg: return readJPEG(bytes)
        case .png: return readPNG(bytes)
        case .webp:
            var result = EmbeddedColor()
            result.iccProfile = RIFFChunks.find("ICCP", in: bytes).map { Array(bytes[$0]) }
            return result
        // GIF has no colour space (sRGB by convention); HEIF's profile is read from its container by the decoder.
        case .gif, .heic, .avif: return EmbeddedColor()
        }
    }

    // MARK: JPEG

    /// Walks the markers up to the first scan (APPn may follow the frame header), collecting APP2 ICC chunks,
    /// the EXIF colour-space tags from APP1 and the component count from SOF.
    static func readJPEG(_ bytes: UnsafeRawBufferPointer) -> EmbeddedColor {
        var result = EmbeddedColor()
        var chunks: [(sequence: Int, total: Int, range: Range<Int>)] = []
        _ = JPEGMarkers.walk(bytes) { (segment) -> Bool in
            let body = segment.body
            let end = min(segment.end, bytes.count)
            switch segment.marker {
            case 0xE2:
                // "ICC_PROFILE\0", sequence number (1-based), number of chunks, then the data.
                let signature: [UInt8] = Array("ICC_PROFILE".utf8) + [0]
                if end - body > 14, UnsafeRawBufferPointer(rebasing: bytes[body..<end]).starts(with: signature) {
                    chunks.append((Int(bytes[body + 12]), Int(bytes[body + 13]), (body + 14)..<end))
                }
            case 0xE1:
                let exif = UnsafeRawBufferPointer(rebasing: bytes[body..<end])
                if exif.starts(with: [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]) {  // "Exif\0\0"
                    result.exifAdobeRGB = EXIFColorSpace.isAdobeRGB(tiff: UnsafeRawBufferPointer(rebasing: exif[6...]))
                }
            default:
                if segment.isStartOfFrame, body + 5 < end { result.components = Int(bytes[body + 5]) }
            }
            return true
        }
        result.iccProfile = assemble(chunks, from: bytes)
        return result
    }

    /// The profile from its chunks in sequence order, or `nil` unless chunks 1...total are each there exactly once
    /// and agree on the total (a missing chunk would make a wrong profile, which is worse than none).
    private static func assemble(
        _ chunks: [(sequence: Int, total: Int, range: Range<Int>)], from bytes: UnsafeRawBufferPointer
    )
        -> [UInt8]?
    {
        guard let total = chunks.first?.total, total > 0, chunks.count == total,
            chunks.allSatisfy({ $0.total == total })
        else { return nil }
        let ordered = chunks.sorted { $0.sequence < $1.sequence }
        guard ordered.map(\.sequence) == Array(1...total) else { return nil }
        var profile: [UInt8] = []
        profile.reserveCapacity(ordered.reduce(0) { $0 + $1.range.count })
        for chunk in ordered { profile.append(contentsOf: bytes[chunk.range]) }
        return profile
    }

    // MARK: PNG

    /// Looks at the chunks before the first IDAT; only when there is an iCCP does libpng read it (inflating it
    /// and checking its header against the colour type).
    static func readPNG(_ bytes: UnsafeRawBufferPointer) -> EmbeddedColor {
        var result = EmbeddedColor()
        guard bytes.count >= 33 else { return result }
        result.components = bytes[25] & 2 != 0 ? 3 : 1  // colour types 2, 3, 6 have colour
        var position = 8
        var hasICCP = false
        while position + 8 <= bytes.count {
            let length = Int(readUInt32(bytes, at: position))
            let type = readUInt32(bytes, at: position + 4)
            if type == 0x4944_4154 || type == 0x4945_4E44 { break }  // IDAT, IEND
            guard length <= bytes.count - position - 12 else { break }
            switch type {
            case 0x6943_4350: hasICCP = true  // iCCP
            case 0x7352_4742: result.declaresSRGB = true  // sRGB
            case 0x6349_4350: result.hasCICP = true  // cICP
            case 0x6348_524D where length == 32:  // cHRM: eight unsigned values times 100,000
                result.chromaticities = (0..<8).map { Double(readUInt32(bytes, at: position + 8 + $0 * 4)) / 100_000 }
            default: break
            }
            position += 12 + length
        }
        guard hasICCP, let base = bytes.baseAddress else { return result }
        var profile: UnsafeMutablePointer<UInt8>?
        var length = 0
        var status = CPNGShims_Status()
        let code = CPNGShims_readICCProfile(
            base.assumingMemoryBound(to: UInt8.self), bytes.count, &profile, &length, &status)
        defer { CPNGShims_free(profile) }
        if code == CPNGShims_ok, let profile, length > 0 {
            result.iccProfile = Array(UnsafeBufferPointer(start: profile, count: length))
        }
        return result
    }

    private static func readUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }
}
