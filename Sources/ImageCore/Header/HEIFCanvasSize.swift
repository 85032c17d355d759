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

    /// The kind of a derived item whose descriptor declares a canvas size other than its `ispe` says, or that has
    /// no `ispe`. A descriptor that cannot be found is not a mismatch (libheif then refuses the file).
    /// Each box is walked once, so a file of a million items costs a million steps, not a million squared.
    static func mismatch(in bytes: UnsafeRawBufferPointer) -> Kind? {
        guard let meta = HEIFBoxWalk.child("meta", in: bytes, range: 0..<bytes.count),
            let children = HEIFBoxWalk.fullBoxChildren(of: meta),
            let iinf = HEIFBoxWalk.child("iinf", in: bytes, range: children)
        else { return nil }
        let derived = derivedItems(in: bytes, iinf: iinf)
        guard !derived.isEmpty, let iloc = HEIFBoxWalk.child("iloc", in: bytes, range: children) else { return nil }
        let idat = HEIFBoxWalk.child("idat", in: bytes, range: children)
        // Each reading of `iloc` (HEIFItemLocations) is checked, so neither libheif's nor the standard's gets past.
        var declared: [Int: Size] = [:]
        for reading in HEIFItemLocations.readings(in: bytes, iloc: iloc) {
            for (item, size) in declaredSizes(
                of: derived, in: bytes, iloc: iloc, idat: idat, readsIndexOfVersion1: reading)
            where declared[item] != size {
                // Either reading's size must be the `ispe`: a second size for the same item is a mismatch by itself.
                if declared[item] != nil { return derived[item] }
                declared[item] = size
            }
        }
        guard !declared.isEmpty else { return nil }
        let extents = ispeSizes(of: Set(declared.keys), in: bytes, meta: children)
        // `ispe` is mandatory on every image item; without one, nothing has bounded the declared size.
        for (item, size) in declared.sorted(by: { $0.key < $1.key }) where extents[item] != size {
            return derived[item]
        }
        return nil
    }

    /// The items whose type is `grid` or `iovl` (`infe` version 2 and 3), by id.
    static func derivedItems(in bytes: UnsafeRawBufferPointer, iinf: Range<Int>) -> [Int: Kind] {
        guard let version = HEIFBoxWalk.integer(bytes, iinf.lowerBound, 1, limit: iinf.upperBound) else { return [:] }
        var position = iinf.lowerBound + 4 + (version == 0 ? 2 : 4)
        var derived: [Int: Kind] = [:]
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
                derived[id] = kind
            }
        }
        return derived
    }

    /// The canvas size each derived item's descriptor declares, found through `iloc` (in the file or in `idat`).
    /// The first `iloc` entry of an id counts. `readsIndexOfVersion1`: see `HEIFItemLocations.walk`.
    static func declaredSizes(
        of derived: [Int: Kind], in bytes: UnsafeRawBufferPointer, iloc: Range<Int>, idat: Range<Int>?,
        readsIndexOfVersion1: Bool
    ) -> [Int: Size] {
        var sizes: [Int: Size] = [:]
        HEIFItemLocations.walk(bytes, iloc: iloc, readsIndexOfVersion1: readsIndexOfVersion1) { entry in
            guard let kind = derived[entry.item], sizes[entry.item] == nil, let first = entry.extents.first else {
                return
            }
            // Construction method 0: offsets in the file; 1: offsets in `idat`. Others are libheif's to refuse.
            let start: Int
            switch entry.method {
            case 0: start = entry.base + first.offset
            case 1:
                guard let idat else { return }
                start = idat.lowerBound + entry.base + first.offset
            default: return
            }
            guard let flags = HEIFBoxWalk.integer(bytes, start + 1, 1, limit: bytes.count) else { return }
            let field = flags & 1 == 0 ? 2 : 4
            let widthAt = start + kind.widthOffset
            guard let width = HEIFBoxWalk.integer(bytes, widthAt, field, limit: bytes.count),
                let height = HEIFBoxWalk.integer(bytes, widthAt + field, field, limit: bytes.count)
            else { return }
            sizes[entry.item] = Size(width: width, height: height)
        }
        return sizes
    }

    /// The size the first `ispe` property `ipma` associates with each of `items` gives (from `ipco`).
    static func ispeSizes(of items: Set<Int>, in bytes: UnsafeRawBufferPointer, meta: Range<Int>) -> [Int: Size] {
        var sizes: [Int: Size] = [:]
        guard let iprp = HEIFBoxWalk.child("iprp", in: bytes, range: meta),
            let ipco = HEIFBoxWalk.child("ipco", in: bytes, range: iprp),
            let ipma = HEIFBoxWalk.child("ipma", in: bytes, range: iprp),
            let version = HEIFBoxWalk.integer(bytes, ipma.lowerBound, 1, limit: ipma.upperBound),
            let flags = HEIFBoxWalk.integer(bytes, ipma.lowerBound + 1, 3, limit: ipma.upperBound),
            let count = HEIFBoxWalk.integer(bytes, ipma.lowerBound + 4, 4, limit: ipma.upperBound)
        else { return sizes }
        // The properties in order (ipma's indexes count from 1); an `ispe` keeps its size, others nil.
        var properties: [Size?] = []
        var position = ipco.lowerBound
        while let property = HEIFBoxWalk.box(at: position, in: bytes, end: ipco.upperBound) {
            if property.type == "ispe",
                let width = HEIFBoxWalk.integer(bytes, property.payload + 4, 4, limit: property.end),
                let height = HEIFBoxWalk.integer(bytes, property.payload + 8, 4, limit: property.end)
            {
                properties.append(Size(width: width, height: height))
            } else {
                properties.append(nil)
            }
            position = property.end
        }
        let idLength = version < 1 ? 2 : 4
        let indexLength = flags & 1 == 0 ? 1 : 2
        position = ipma.lowerBound + 8
        for _ in 0..<count {
            guard let id = HEIFBoxWalk.integer(bytes, position, idLength, limit: ipma.upperBound),
                let associations = HEIFBoxWalk.integer(bytes, position + idLength, 1, limit: ipma.upperBound)
            else { return sizes }
            position += idLength + 1
            let wanted = items.contains(id) && sizes[id] == nil
            for _ in 0..<associations {
                guard let entry = HEIFBoxWalk.integer(bytes, position, indexLength, limit: ipma.upperBound) else {
                    return sizes
                }
                position += indexLength
                let index = entry & (indexLength == 1 ? 0x7F : 0x7FFF)
                guard wanted, sizes[id] == nil, index >= 1, index <= properties.count,
                    let size = properties[index - 1]
                else { continue }
                sizes[id] = size
            }
        }
        return sizes
    }

    struct Size: Equatable {
        let width: Int
        let height: Int
    }
}
