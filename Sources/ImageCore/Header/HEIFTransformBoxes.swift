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
            let metaChildren = HEIFBoxWalk.fullBoxChildren(of: meta),
            let iprp = HEIFBoxWalk.child("iprp", in: bytes, range: metaChildren),
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
