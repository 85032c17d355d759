// A GIF's first frame through giflib's record-by-record reader: the records before the first image (the graphic
// control extension gives its transparent index), then that image's rows, painted onto a transparent canvas of
// the logical screen's size (or the frame's, when it is larger) with the frame's own palette (or the global one).
// The rest of the animation is never read. giflib reports every failure as a return code; it has no fatal path to catch.
import CGIF

/// Decodes a GIF's first frame to RGB, or RGBA when any pixel is transparent.
enum GIFDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, header: ImageHeader, limits: DecodeLimits) throws(ImageError)
        -> PixelBuffer
    {
        // Retained for giflib's callback until the file is closed.
        let source = Unmanaged.passRetained(GIFSource(bytes))
        defer { source.release() }
        var code: Int32 = 0
        let opened = DGifOpen(source.toOpaque(), { gif, buffer, length in
            guard let gif, let buffer, let user = gif.pointee.UserData else { return 0 }
            return Unmanaged<GIFSource>.fromOpaque(user).takeUnretainedValue().read(into: buffer, length: Int(length))
        }, &code)
        guard let gif = opened else { throw error(code, while: "opening the file") }
        defer { DGifCloseFile(gif, nil) }
        var transparent: Int = -1
        while true {
            var record = UNDEFINED_RECORD_TYPE
            guard DGifGetRecordType(gif, &record) == GIF_OK else { throw error(gif.pointee.Error, while: "reading") }
            switch record {
            case EXTENSION_RECORD_TYPE:
                var function: Int32 = 0
                var block: UnsafeMutablePointer<GifByteType>?
                guard DGifGetExtension(gif, &function, &block) == GIF_OK else {
                    throw error(gif.pointee.Error, while: "reading an extension")
                }
                if function == GRAPHICS_EXT_FUNC_CODE, let block {
                    var control = GraphicsControlBlock()
                    if DGifExtensionToGCB(Int(block[0]), block + 1, &control) == GIF_OK {
                        transparent = Int(control.TransparentColor)
                    }
                }
                while block != nil {
                    guard DGifGetExtensionNext(gif, &block) == GIF_OK else {
                        throw error(gif.pointee.Error, while: "reading an extension")
                    }
                }
            case IMAGE_DESC_RECORD_TYPE:
                guard DGifGetImageDesc(gif) == GIF_OK else {
                    throw error(gif.pointee.Error, while: "reading the first image's descriptor")
                }
                return try readFrame(gif, header: header, transparent: transparent, limits: limits)
            case TERMINATE_RECORD_TYPE:
                throw .corrupt(format: .gif, detail: "the file ends without any image")
            default:
                throw .corrupt(format: .gif, detail: "unknown record type")
            }
        }
    }

    private static func readFrame(
        _ gif: UnsafeMutablePointer<GifFileType>, header: ImageHeader, transparent: Int, limits: DecodeLimits
    ) throws(ImageError) -> PixelBuffer {
        let descriptor = gif.pointee.Image
        let (width, height) = (Int(descriptor.Width), Int(descriptor.Height))
        guard width > 0, height > 0 else { throw .invalidDimensions(width: width, height: height) }
        // A frame larger than the screen is the canvas, at its top left (`GIFHeaderParser.canvas`).
        let screen = (width: Int(gif.pointee.SWidth), height: Int(gif.pointee.SHeight))
        let placement = GIFHeaderParser.canvas(screen: screen, firstFrame: (width, height))
        guard placement.width == header.width, placement.height == header.height else {
            throw .corrupt(format: .gif, detail: "the first image's descriptor differs from the one the header read")
        }
        let (left, top) = placement.frameAtOrigin ? (0, 0) : (Int(descriptor.Left), Int(descriptor.Top))
        // The frame may claim more than the screen; its rows are read whole, so it is limited like the screen.
        try limits.check(ImageHeader(format: .gif, width: width, height: height))
        guard let map = descriptor.ColorMap ?? gif.pointee.SColorMap, let colors = map.pointee.Colors else {
            throw .corrupt(format: .gif, detail: "the first image has no colour table (neither local nor global)")
        }
        let paletteCount = Int(map.pointee.ColorCount)
        var canvas = [UInt8](repeating: 0, count: header.width * header.height * 4)
        var row = [GifPixelType](repeating: 0, count: width)
        // Interlaced images send rows in four passes: every 8th from 0, every 8th from 4, every 4th from 2, every
        // 2nd from 1.
        let order: [Int] =
            descriptor.Interlace
            ? [(0, 8), (4, 8), (2, 4), (1, 2)].flatMap { stride(from: $0.0, to: height, by: $0.1) }
            : Array(0..<height)
        var anyTransparent = top > 0 || left > 0 || left + width < header.width || top + height < header.height
        // The part of each row on the screen: none when the frame starts right of it (its rows are still read).
        let visibleWidth = max(0, min(width, header.width - left))
        for y in order {
            let status = row.withUnsafeMutableBufferPointer { DGifGetLine(gif, $0.baseAddress, Int32(width)) }
            guard status == GIF_OK else { throw error(gif.pointee.Error, while: "reading the first image's pixels") }
            let canvasY = top + y
            guard canvasY < header.height else { continue }
            for x in 0..<visibleWidth {
                let index = Int(row[x])
                if index == transparent {
                    anyTransparent = true
                    continue
                }
                let target = (canvasY * header.width + left + x) * 4
                if index < paletteCount {
                    let color = colors[index]
                    canvas[target] = color.Red
                    canvas[target + 1] = color.Green
                    canvas[target + 2] = color.Blue
                }  // An index past the table is black, as browsers show it.
                canvas[target + 3] = 255
            }
        }
        let picture = PixelBuffer(width: header.width, height: header.height, channels: 4, bytes: canvas)
        return anyTransparent ? picture : picture.droppingOpaqueAlpha()
    }

    /// A giflib error code as an `ImageError`.
    private static func error(_ code: Int32, while step: String) -> ImageError {
        if code == D_GIF_ERR_READ_FAILED || code == D_GIF_ERR_EOF_TOO_SOON {
            return .truncated(detail: "the GIF data ends early, \(step)")
        }
        let message = GifErrorString(code).map { String(cString: $0) } ?? "giflib error \(code)"
        return .corrupt(format: .gif, detail: "\(step): \(message)")
    }
}

/// The bytes giflib reads through its input callback.
private final class GIFSource {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Copies up to `length` bytes; fewer at the end of the data (giflib then reports a read failure).
    func read(into buffer: UnsafeMutablePointer<GifByteType>, length: Int) -> Int32 {
        let count = max(0, min(length, bytes.count - position))
        if count > 0, let base = bytes.baseAddress {
            buffer.update(from: (base + position).assumingMemoryBound(to: UInt8.self), count: count)
            position += count
        }
        return Int32(count)
    }
}
