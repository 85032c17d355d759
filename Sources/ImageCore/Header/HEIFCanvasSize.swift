// Whether a HEIF derived image (a `grid` or an `iovl` overlay) declares another canvas size than its `ispe`
// property. libheif 1.15 (Debian 12) allocates the size the descriptor declares, and checks it against no limit:
// a 542-byte HEIC whose grid said 24949 x 30787 behind an `ispe` of 17 x 17 (so the pixel limit let it through)
// made it allocate 768 MB and write out of bounds; a 1055-byte one whose overlay said the same kind of size made
// `picpipe thumbnail` reach 3.7 GB. picpipe refuses such a file before libheif decodes it.

/// A shallow read of `meta`'s `iinf`, `iloc`, `idat` and `iprp` for the `grid` and `iovl` items.
enum HEIFCanvasSize {
    /// The derived image kinds whose descriptor declares a canvas.
    enum Kind: String {
        case grid
        case overlay = "iovl"

        /// Where the output width starts in the descriptor (ISO/IEC 23008-12): a grid's follows version, flags,
        /// rows and columns (a byte each); an overlay's follows version, flags and four 16-bit fill values.
        var widthOffset: Int { self == .grid ? 4 : 10 }
    }

    /// The kind of the first derived item whose descriptor declares a canvas size other than its `ispe` says, or
    /// that has no `ispe`. A descriptor that cannot be found is not a mismatch (libheif then refuses the file).
    static func mismatch(in bytes: UnsafeRawBufferPointer) -> Kind? {
        guard let meta = HEIFBoxWalk.child("meta", in: bytes, range: 0..<bytes.count),
            let children = HEIFBoxWalk.fullBoxChildren(of: meta),
            let iinf = HEIFBoxWalk.child("iinf", in: bytes, range: children)
        else { return nil }
        let derived = derivedItems(in: bytes, iinf: iinf)
        guard !derived.isEmpty, let iloc = HEIFBoxWalk.child("iloc", in: bytes, range: children) else { return nil }
        let idat = HEIFBoxWalk.child("idat", in: bytes, range: children)
        for (item, kind) in derived {
            guard let declared = declaredSize(of: item, kind: kind, in: bytes, iloc: iloc, idat: idat) else { continue }
            // `ispe` is mandatory on every image item; without one, nothing has bounded the declared size.
            if ispe(of: item, in: bytes, meta: children) != declared { return kind }
        }
        return nil
    }

    /// The ids of the items whose type is `grid` or `iovl` (`infe` version 2 and 3).
    static func derivedItems(in bytes: UnsafeRawBufferPointer, iinf: Range<Int>) -> [(id: Int, kind: Kind)] {
        guard let version = HEIFBoxWalk.integer(bytes, iinf.lowerBound, 1, limit: iinf.upperBound) else { return [] }
        var position = iinf.lowerBound + 4 + (version == 0 ? 2 : 4)
        var derived: [(id: Int, kind: Kind)] = []
        while let entry = HEIFBoxWalk.box(at: position, in: bytes, end: iinf.upperBound) {
            position = entry.end
            guard entry.type == "infe",
                let entryVersion = HEIFBoxWalk.integer(bytes, entry.payload, 1, limit: entry.end),
                entryVersion >= 2
            else { continue }
            let idLength = entryVersion == 2 ? 2 : 4
            let typeAt = entry.payload + 4 + idLength + 2
            guard let id = HEIFBoxWalk.integer(bytes, entry.payload + 4, idLength, limit: entry.end),
                typeAt + 4 <= entry.end
            else {
                continue
            }
            let type = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[typeAt..<(typeAt + 4)]), as: UTF8.self)
            if let kind = Kind(rawValue: type) {
                derived.append((id, kind))
            }
        }
        return derived
    }

    /// The canvas size `item`'s descriptor declares, found through `iloc` (in the file or in `idat`).
    static func declaredSize(
        of item: Int, kind: Kind, in bytes: UnsafeRawBufferPointer, iloc: Range<Int>, idat: Range<Int>?
    ) -> Size? {
        let end = iloc.upperBound
        guard let version = HEIFBoxWalk.integer(bytes, iloc.lowerBound, 1, limit: end),
            let sizes = HEIFBoxWalk.integer(bytes, iloc.lowerBound + 4, 2, limit: end)
        else { return nil }
        let offsetSize = sizes >> 12 & 0xF, lengthSize = sizes >> 8 & 0xF, baseSize = sizes >> 4 & 0xF
        let indexSize = version == 1 || version == 2 ? sizes & 0xF : 0
        let idLength = version == 2 ? 4 : 2
        var position = iloc.lowerBound + 6
        guard let count = HEIFBoxWalk.integer(bytes, position, idLength, limit: end) else { return nil }
        position += idLength
        for _ in 0..<count {
            guard let id = HEIFBoxWalk.integer(bytes, position, idLength, limit: end) else { return nil }
            position += idLength
            var method = 0
            if version == 1 || version == 2 {
                guard let field = HEIFBoxWalk.integer(bytes, position, 2, limit: end) else { return nil }
                method = field & 0xF
                position += 2
            }
            position += 2  // data_reference_index
            guard let base = HEIFBoxWalk.integer(bytes, position, baseSize, limit: end) else { return nil }
            position += baseSize
            guard let extents = HEIFBoxWalk.integer(bytes, position, 2, limit: end) else { return nil }
            position += 2
            var first: (offset: Int, length: Int)?
            for _ in 0..<extents {
                position += indexSize
                guard let offset = HEIFBoxWalk.integer(bytes, position, offsetSize, limit: end),
                    let length = HEIFBoxWalk.integer(bytes, position + offsetSize, lengthSize, limit: end)
                else { return nil }
                position += offsetSize + lengthSize
                if first == nil { first = (offset, length) }
            }
            guard id == item, let first else { continue }
            // Construction method 0: offsets in the file; 1: offsets in `idat`. Others are libheif's to refuse.
            let start: Int
            switch method {
            case 0: start = base + first.offset
            case 1:
                guard let idat else { return nil }
                start = idat.lowerBound + base + first.offset
            default: return nil
            }
            guard let flags = HEIFBoxWalk.integer(bytes, start + 1, 1, limit: bytes.count) else { return nil }
            let field = flags & 1 == 0 ? 2 : 4
            let widthAt = start + kind.widthOffset
            guard let width = HEIFBoxWalk.integer(bytes, widthAt, field, limit: bytes.count),
                let height = HEIFBoxWalk.integer(bytes, widthAt + field, field, limit: bytes.count)
            else { return nil }
            return Size(width: width, height: height)
        }
        return nil
    }

    /// The size `item`'s `ispe` property gives (`ipma` associates it from `ipco`).
    static func ispe(of item: Int, in bytes: UnsafeRawBufferPointer, meta: Range<Int>) -> Size? {
        guard let iprp = HEIFBoxWalk.child("iprp", in: bytes, range: meta),
            let ipco = HEIFBoxWalk.child("ipco", in: bytes, range: iprp),
            let ipma = HEIFBoxWalk.child("ipma", in: bytes, range: iprp),
            let version = HEIFBoxWalk.integer(bytes, ipma.lowerBound, 1, limit: ipma.upperBound),
            let flags = HEIFBoxWalk.integer(bytes, ipma.lowerBound + 1, 3, limit: ipma.upperBound),
            let count = HEIFBoxWalk.integer(bytes, ipma.lowerBound + 4, 4, limit: ipma.upperBound)
        else { return nil }
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
            else { return nil }
            position += idLength + 1
            for _ in 0..<associations {
                guard let entry = HEIFBoxWalk.integer(bytes, position, indexLength, limit: ipma.upperBound) else {
                    return nil
                }
                position += indexLength
                let index = entry & (indexLength == 1 ? 0x7F : 0x7FFF)
                guard id == item, index >= 1, index <= properties.count else { continue }
                let property = properties[index - 1]
                guard property.type == "ispe",
                    let width = HEIFBoxWalk.integer(bytes, property.payload + 4, 4, limit: property.end),
                    let height = HEIFBoxWalk.integer(bytes, property.payload + 8, 4, limit: property.end)
                else { continue }
                return Size(width: width, height: height)
            }
        }
        return nil
    }

    struct Size: Equatable {
        let width: Int
        let height: Int
    }
}
