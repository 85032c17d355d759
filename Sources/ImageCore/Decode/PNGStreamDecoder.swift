// PNG rows streamed through libpng's classic reader (CPNGShims owns the setjmp) straight into the box pre-shrink:
// the full-size raster is never held. Interlaced files and non-sRGB gamma stay with the full decoder.

import CPNGShims

/// Decodes non-interlaced PNG data to 8-bit RGB(A), box-shrunk by a whole factor while reading.
enum PNGStreamDecoder {
    /// The largest whole box factor that leaves at least twice `minimumWidth` x `minimumHeight` (so the Lanczos
    /// reduce still has work to do, as in `ImageResizer`); 1 when no reduction fits.
    static func shrinkFactor(width: Int, height: Int, minimumWidth: Int, minimumHeight: Int) -> Int {
        guard minimumWidth > 0, minimumHeight > 0 else { return 1 }
        return min(4096, max(1, min(width / (2 * minimumWidth), height / (2 * minimumHeight))))
    }

    /// The picture reduced by `shrink` (`ceil(width / shrink)` x `ceil(height / shrink)`), or `nil` when the file
    /// needs the full decoder (interlaced, or a gAMA chunk that is not sRGB's).
    /// - Throws: `.truncated` for an incomplete chunk list, `.corrupt` for damaged data or a palette index past
    ///   the end of PLTE.
    /// - Parameter preinflate: let libdeflate inflate the image data ahead of libpng when the file allows it (see
    ///   `CPNGShims_open`); `false` leaves every byte to libpng (the tests compare the two).
    static func decode(_ bytes: UnsafeRawBufferPointer, header: ImageHeader, shrink: Int, preinflate: Bool = true)
        throws(ImageError) -> PixelBuffer?
    {
        try decodeReportingPreinflate(bytes, header: header, shrink: shrink, preinflate: preinflate)?.pixels
    }

    /// `decode`, and whether libdeflate inflated the data ahead.
    static func decodeReportingPreinflate(
        _ bytes: UnsafeRawBufferPointer, header: ImageHeader, shrink: Int, preinflate: Bool
    ) throws(ImageError) -> (pixels: PixelBuffer, preinflated: Bool)? {
        // libpng stops reading at the last row; an incomplete file must not pass.
        try PNGHeaderParser.checkComplete(bytes)
        guard let base = bytes.baseAddress else { throw .truncated(detail: "no PNG data") }
        var status = CPNGShims_Status()
        var info = CPNGShims_Info()
        var opened: OpaquePointer?
        let code = CPNGShims_open(
            base.assumingMemoryBound(to: UInt8.self), bytes.count, preinflate ? 1 : 0, &opened, &info, &status)
        if code == CPNGShims_unsupported { return nil }
        guard code == CPNGShims_ok, let reader = opened else {
            throw .corrupt(format: .png, detail: message(of: status))
        }
        defer { CPNGShims_close(reader) }
        guard Int(info.width) == header.width, Int(info.height) == header.height else {
            throw .corrupt(format: .png, detail: "libpng reads \(info.width)x\(info.height), the IHDR says otherwise")
        }
        // Warnings (a damaged ancillary chunk that libpng skipped) leave the pixels intact: accepted.
        let cancellation = CancellationFlag.current
        let pixels = try RowBoxShrink.run(
            width: header.width, height: header.height, channels: Int(info.channels), box: shrink
        ) { (rows, count) throws(ImageError) in
            // Every band: a cancelled decode stops within a few rows.
            if cancellation?.isCancelled == true { throw .cancelled }
            guard CPNGShims_readRows(reader, rows, Int32(count), &status) == CPNGShims_ok else {
                throw .corrupt(format: .png, detail: message(of: status))
            }
        }
        return (pixels, info.preinflated != 0)
    }

    private static func message(of status: CPNGShims_Status) -> String {
        let text = withUnsafeBytes(of: status.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return text.isEmpty ? "libpng refused the data" : text
    }
}
