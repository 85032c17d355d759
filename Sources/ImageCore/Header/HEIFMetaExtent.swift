// Whether HEIF bytes end before the top-level `meta` box does. libheif reads such data as "no 'meta' box", which
// calls a mere head of a longer file (the metadata service reads heads first) corrupt; picpipe calls it truncated,
// so the head is read further and a whole file cut short says what is wrong with it.

/// The top-level boxes of an ISOBMFF file, walked by their declared sizes up to `meta`.
enum HEIFMetaExtent {
    /// True when the bytes end inside `meta`, inside a box before it, or inside a box header.
    static func isCut(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var position = 0
        while position < bytes.count {
            switch HEIFBoxWalk.header(at: position, in: bytes, end: bytes.count) {
            case .cut: return true
            case .damaged: return false  // libheif says how
            case .header(let header):
                // Size 0: the box runs to the end of the data, whatever its length.
                guard let end = header.declaredEnd else { return false }
                if header.type == "meta" { return end > bytes.count }
                position = end
            }
        }
        return position > bytes.count
    }
}
