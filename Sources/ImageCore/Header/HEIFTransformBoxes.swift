// Whether a HEIF file describes its own rotation or mirror (`irot`, `imir` in `meta/iprp/ipco`), and which EXIF
// Orientation the primary item's ones amount to. libheif applies those when it decodes; the EXIF Orientation then
// only repeats them (phones write both) and must not be applied again. A file without them (libheif 1.15's heif-enc
// copies a JPEG's EXIF as it is, pixels unturned) is turned by its EXIF Orientation, the way a JPEG is.

/// A shallow walk of the ISOBMFF boxes down to the item properties and their associations.
enum HEIFTransformBoxes {
    /// True when `meta/iprp/ipco` holds an `irot` or `imir` property (or the boxes cannot be walked: then the
    /// container is trusted, and the EXIF Orientation ignored).
    static func present(in bytes: UnsafeRawBufferPointer) -> Bool {
        guard let ipco = Self.ipco(in: bytes) else { return true }
        var position = ipco.lowerBound
        while let box = HEIFBoxWalk.box(at: position, in: bytes, end: ipco.upperBound) {
            if box.type == "irot" || box.type == "imir" { return true }
            position = box.end
        }
        return false
    }

    /// The EXIF Orientation (1-8) that shows the stored picture (its `ispe`) as libheif decodes it: the primary
    /// item's `irot` (a quarter turn anticlockwise per step) and `imir` (axis 0 flips top to bottom, 1 left to
    /// right, as libheif 1.15 and avifenc read it), composed in the order `ipma` associates them, which is the order
    /// libheif applies them in. `nil` when the file has neither property (its EXIF Orientation counts); 1 when the
    /// primary item has none of them, or the boxes cannot be read (the container is trusted, see `present`).
    static func orientation(in bytes: UnsafeRawBufferPointer) -> Int? {
        guard present(in: bytes) else { return nil }
        var turn = Turn.identity
        for property in primaryProperties(in: bytes) {
            guard let byte = HEIFBoxWalk.integer(bytes, property.payload, 1, limit: property.end) else { continue }
            switch property.type {
            case "irot":
                for _ in 0..<(byte & 3) { turn = Turn.anticlockwise.after(turn) }
            case "imir":
                turn = (byte & 1 == 0 ? Turn.topToBottom : Turn.leftToRight).after(turn)
            default: break
            }
        }
        return turn.exifOrientation
    }

    private static func ipco(in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        guard let meta = HEIFBoxWalk.child("meta", in: bytes, range: 0..<bytes.count),
            let metaChildren = HEIFBoxWalk.fullBoxChildren(of: meta),
            let iprp = HEIFBoxWalk.child("iprp", in: bytes, range: metaChildren)
        else { return nil }
        return HEIFBoxWalk.child("ipco", in: bytes, range: iprp)
    }

    /// The `irot` and `imir` boxes `ipma` associates with the primary item (`pitm`), in its order. The first `ipma`
    /// entry of the item counts, as in libheif; an index of 0 or past `ipco` is skipped (libheif refuses it).
    private static func primaryProperties(in bytes: UnsafeRawBufferPointer) -> [(type: String, payload: Int, end: Int)]
    {
        guard let meta = HEIFBoxWalk.child("meta", in: bytes, range: 0..<bytes.count),
            let children = HEIFBoxWalk.fullBoxChildren(of: meta),
            let pitm = HEIFBoxWalk.child("pitm", in: bytes, range: children),
            let pitmVersion = HEIFBoxWalk.integer(bytes, pitm.lowerBound, 1, limit: pitm.upperBound),
            let primary = HEIFBoxWalk.integer(
                bytes, pitm.lowerBound + 4, pitmVersion == 0 ? 2 : 4, limit: pitm.upperBound),
            let iprp = HEIFBoxWalk.child("iprp", in: bytes, range: children),
            let ipco = HEIFBoxWalk.child("ipco", in: bytes, range: iprp),
            let ipma = HEIFBoxWalk.child("ipma", in: bytes, range: iprp),
            let version = HEIFBoxWalk.integer(bytes, ipma.lowerBound, 1, limit: ipma.upperBound),
            let flags = HEIFBoxWalk.integer(bytes, ipma.lowerBound + 1, 3, limit: ipma.upperBound),
            let count = HEIFBoxWalk.integer(bytes, ipma.lowerBound + 4, 4, limit: ipma.upperBound)
        else { return [] }
        var properties: [(type: String, payload: Int, end: Int)] = []
        var position = ipco.lowerBound
        while let property = HEIFBoxWalk.box(at: position, in: bytes, end: ipco.upperBound) {
            properties.append(property)
            position = property.end
        }
        let idLength = version < 1 ? 2 : 4
        let indexLength = flags & 1 == 0 ? 1 : 2
        position = ipma.lowerBound + 8
        for _ in 0..<count {
            guard let id = HEIFBoxWalk.integer(bytes, position, idLength, limit: ipma.upperBound),
                let associations = HEIFBoxWalk.integer(bytes, position + idLength, 1, limit: ipma.upperBound)
            else { return [] }
            position += idLength + 1
            guard id == primary else {
                position += associations * indexLength
                continue
            }
            var found: [(type: String, payload: Int, end: Int)] = []
            for _ in 0..<associations {
                guard let entry = HEIFBoxWalk.integer(bytes, position, indexLength, limit: ipma.upperBound) else {
                    break
                }
                position += indexLength
                let index = entry & (indexLength == 1 ? 0x7F : 0x7FFF)
                if index >= 1, index <= properties.count, ["irot", "imir"].contains(properties[index - 1].type) {
                    found.append(properties[index - 1])
                }
            }
            return found
        }
        return []
    }

    /// One of the eight turns and mirrors of a picture, as the matrix that takes a stored pixel's position (from the
    /// centre, y down) to the displayed one.
    struct Turn: Equatable {
        let xx: Int, xy: Int, yx: Int, yy: Int

        static let identity = Turn(xx: 1, xy: 0, yx: 0, yy: 1)
        /// A quarter turn anticlockwise: the right edge goes to the top.
        static let anticlockwise = Turn(xx: 0, xy: 1, yx: -1, yy: 0)
        static let topToBottom = Turn(xx: 1, xy: 0, yx: 0, yy: -1)
        static let leftToRight = Turn(xx: -1, xy: 0, yx: 0, yy: 1)

        /// This turn done after `first`.
        func after(_ first: Turn) -> Turn {
            Turn(
                xx: xx * first.xx + xy * first.yx, xy: xx * first.xy + xy * first.yy,
                yx: yx * first.xx + yy * first.yx, yy: yx * first.xy + yy * first.yy)
        }

        /// The EXIF Orientation that shows a stored picture the same way (`PixelBuffer.oriented`).
        var exifOrientation: Int {
            switch (xx, xy, yx, yy) {
            case (-1, 0, 0, 1): return 2  // mirrored left to right
            case (-1, 0, 0, -1): return 3  // half a turn
            case (1, 0, 0, -1): return 4  // mirrored top to bottom
            case (0, 1, 1, 0): return 5  // transposed
            case (0, -1, 1, 0): return 6  // a quarter turn clockwise
            case (0, -1, -1, 0): return 7  // transversed
            case (0, 1, -1, 0): return 8  // a quarter turn anticlockwise
            default: return 1
            }
        }
    }
}
