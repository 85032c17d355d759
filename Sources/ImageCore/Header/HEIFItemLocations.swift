// The `iloc` box read by picpipe's own checks (HEIFCanvasSize, HEIFCodedSize): where each item's bytes are.
// libheif 1.15 reads an `iloc` of version 1 without its extents' index field, which the standard (and later libheif)
// reads; a file whose index size is not 0 reads differently each way, so the checks walk both readings.

/// The entries of an `iloc` box (ISO/IEC 14496-12 8.11.3).
enum HEIFItemLocations {
    /// One item's entry: its construction method (0: offsets in the file; 1: in `idat`), base offset and extents.
    struct Entry {
        let item: Int
        let method: Int
        let base: Int
        let extents: [(offset: Int, length: Int)]
    }

    /// The readings to check: the standard's (`true`: a version-1 `iloc` has the index its `index_size` announces),
    /// and libheif 1.15's (`false`) when the two differ.
    static func readings(in bytes: UnsafeRawBufferPointer, iloc: Range<Int>) -> [Bool] {
        guard let version = HEIFBoxWalk.integer(bytes, iloc.lowerBound, 1, limit: iloc.upperBound),
            let fieldSizes = HEIFBoxWalk.integer(bytes, iloc.lowerBound + 4, 2, limit: iloc.upperBound)
        else { return [true] }
        return version == 1 && fieldSizes & 0xF != 0 ? [true, false] : [true]
    }

    /// Calls `visit` with each entry of `iloc` (its payload, version and flags included), in order, until the box
    /// ends or cannot be read further.
    static func walk(
        _ bytes: UnsafeRawBufferPointer, iloc: Range<Int>, readsIndexOfVersion1: Bool, _ visit: (Entry) -> Void
    ) {
        let end = iloc.upperBound
        guard let version = HEIFBoxWalk.integer(bytes, iloc.lowerBound, 1, limit: end),
            let fieldSizes = HEIFBoxWalk.integer(bytes, iloc.lowerBound + 4, 2, limit: end)
        else { return }
        let offsetSize = fieldSizes >> 12 & 0xF, lengthSize = fieldSizes >> 8 & 0xF, baseSize = fieldSizes >> 4 & 0xF
        let indexSize = version == 2 || (version == 1 && readsIndexOfVersion1) ? fieldSizes & 0xF : 0
        let idLength = version == 2 ? 4 : 2
        var position = iloc.lowerBound + 6
        guard let count = HEIFBoxWalk.integer(bytes, position, idLength, limit: end) else { return }
        position += idLength
        for _ in 0..<count {
            guard let item = HEIFBoxWalk.integer(bytes, position, idLength, limit: end) else { return }
            position += idLength
            var method = 0
            if version == 1 || version == 2 {
                guard let field = HEIFBoxWalk.integer(bytes, position, 2, limit: end) else { return }
                method = field & 0xF
                position += 2
            }
            position += 2  // data_reference_index
            guard let base = HEIFBoxWalk.integer(bytes, position, baseSize, limit: end),
                let extentCount = HEIFBoxWalk.integer(bytes, position + baseSize, 2, limit: end)
            else { return }
            position += baseSize + 2
            // Extents of zero bytes each (every field size 0) would not move the walk: one stands for them all.
            let walked = indexSize + offsetSize + lengthSize == 0 ? min(extentCount, 1) : extentCount
            var extents: [(offset: Int, length: Int)] = []
            for _ in 0..<walked {
                position += indexSize
                guard let offset = HEIFBoxWalk.integer(bytes, position, offsetSize, limit: end),
                    let length = HEIFBoxWalk.integer(bytes, position + offsetSize, lengthSize, limit: end)
                else { return }
                position += offsetSize + lengthSize
                extents.append((offset, length))
            }
            visit(Entry(item: item, method: method, base: base, extents: extents))
        }
    }
}
