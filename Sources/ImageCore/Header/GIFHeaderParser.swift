// Reads a GIF's size: its logical screen, grown to its first frame when that frame is larger (as browsers and vips
// show such files); GIF has no orientation.

/// Reads a GIF's header.
enum GIFHeaderParser {
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageHeader {
        guard bytes.count >= 13 else {
            throw .truncated(detail: "the GIF data ends before its logical screen descriptor")
        }
        let screen = (width: Int(bytes[6]) | Int(bytes[7]) << 8, height: Int(bytes[8]) | Int(bytes[9]) << 8)
        // After the screen descriptor and its global colour table comes a block: an extension (0x21), an image
        // (0x2C) or the trailer (0x3B). Anything else is not a GIF, whatever its first six bytes say.
        let globalTable = bytes[10] & 0x80 != 0 ? 3 << (Int(bytes[10] & 0x07) + 1) : 0
        let next = 13 + globalTable
        if next < bytes.count, ![0x21, 0x2C, 0x3B].contains(bytes[next]) {
            throw .corrupt(format: .gif, detail: "no extension, image or trailer after the screen descriptor")
        }
        let canvas = Self.canvas(screen: screen, firstFrame: firstFrameSize(bytes, from: next))
        guard canvas.width > 0, canvas.height > 0 else {
            throw .invalidDimensions(width: canvas.width, height: canvas.height)
        }
        return ImageHeader(format: .gif, width: canvas.width, height: canvas.height)
    }

    /// The canvas a GIF's first frame is painted on: the logical screen, or the frame's own size (the frame then at
    /// the top left) when the frame is wider or taller than the screen. Some encoders write a screen of 0x0, or of
    /// the size they were made on; Chromium's and Firefox's decoders take the frame's size for those, and so does
    /// picpipe (until session 37 such a frame was cut to the screen, or a 0x0 screen was refused).
    static func canvas(screen: (width: Int, height: Int), firstFrame: (width: Int, height: Int)?) -> (
        width: Int, height: Int, frameAtOrigin: Bool
    ) {
        guard let frame = firstFrame, frame.width > screen.width || frame.height > screen.height else {
            return (screen.width, screen.height, false)
        }
        return (frame.width, frame.height, true)
    }

    /// The width and height of the first image descriptor, found past the extensions before it (`nil` when the
    /// data ends or breaks first: the decode then says what is wrong).
    private static func firstFrameSize(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (width: Int, height: Int)? {
        var offset = start
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x2C:
                guard offset + 9 <= bytes.count else { return nil }
                return (
                    Int(bytes[offset + 5]) | Int(bytes[offset + 6]) << 8,
                    Int(bytes[offset + 7]) | Int(bytes[offset + 8]) << 8
                )
            case 0x21:
                // The introducer and the label, then data sub-blocks (a length byte each) up to an empty one.
                offset += 2
                while offset < bytes.count, bytes[offset] != 0 { offset += Int(bytes[offset]) + 1 }
                offset += 1
            default:
                return nil
            }
        }
        return nil
    }
}
