// Whether a HEIF file describes its own rotation or mirror (`irot`, `imir` in `meta/iprp/ipco`). libheif applies
// those when it decodes; the EXIF Orientation then only repeats them (phones write both) and must not be applied
// again. A file without them (libheif 1.15's heif-enc copies a JPEG's EXIF as it is, pixels unturned) is turned
// by its EXIF Orientation, the way a JPEG is.

/// A shallow walk of the ISOBMFF boxes down to the item property container.
enum HEIFTransformBoxes {
    /// True when `meta/iprp/ipco` holds an `irot` or `imir` property (or the boxes cannot be walked: then the
    /// container is trusted, and the EXIF Orientation ignored).
    static func present(in bytes: UnsafeRawBufferPointer) -> Bool {
        guard let meta = HEIFBoxWalk.child("meta", in: bytes, range: 0..<bytes.count),
            let iprp = HEIFBoxWalk.child("iprp", in: bytes, range: (meta.lowerBound + 4)..<meta.upperBound),
            let ipco = HEIFBoxWalk.child("ipco", in: bytes, range: iprp)
        else { return true }
        var position = ipco.lowerBound
        while let box = HEIFBoxWalk.box(at: position, in: bytes, end: ipco.upperBound) {
            if box.type == "irot" || box.type == "imir" { return true }
            position = box.end
        }
        return false
    }
}

/// A shallow walk of ISOBMFF boxes by their declared sizes.
enum HEIFBoxWalk {
    /// The payload range of the first box of `type` directly inside `range`.
    static func child(_ type: String, in bytes: UnsafeRawBufferPointer, range: Range<Int>)
        -> Range<Int>?
    {
        var position = range.lowerBound
        while let box = HEIFBoxWalk.box(at: position, in: bytes, end: range.upperBound) {
            if box.type == type { return box.payload..<box.end }
            position = box.end
        }
        return nil
    }

    /// The box at `position`: its type, where its payload starts and where it ends (`nil` past `end` or damaged).
    static func box(at position: Int, in bytes: UnsafeRawBufferPointer, end: Int)
        -> (type: String, payload: Int, end: Int)?
    {
        guard position >= 0, position + 8 <= end, end <= bytes.count else { return nil }
        var size = Int(bytes[position]) << 24 | Int(bytes[position + 1]) << 16 | Int(bytes[position + 2]) << 8
            | Int(bytes[position + 3])
        let type = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(position + 4)..<(position + 8)]), as: UTF8.self)
        var payload = position + 8
        if size == 1 {  // a 64-bit size follows the type
            guard position + 16 <= end else { return nil }
            size = 0
            for index in 0..<8 { size = size << 8 | Int(bytes[position + 8 + index]) }
            guard size >= 16, size <= end - position else { return nil }
            payload = position + 16
        } else if size == 0 {  // to the end of the file
            size = end - position
        }
        guard size >= payload - position, size <= end - position else { return nil }
        return (type, payload, position + size)
    }
}
