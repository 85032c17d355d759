// Whether HEIF bytes end before the top-level `meta` box does. libheif reads such data as "no 'meta' box", which
// calls a mere head of a longer file (the metadata service reads heads first) corrupt; picpipe calls it truncated,
// so the head is read further and a whole file cut short says what is wrong with it.

/// The top-level boxes of an ISOBMFF file, walked by their declared sizes up to `meta`.
enum HEIFMetaExtent {
    /// True when the bytes end inside `meta`, inside a box before it, or inside a box header.
    static func isCut(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var position = 0
        while position < bytes.count {
            guard position + 8 <= bytes.count else { return true }
            var size = Int(bytes.loadBigEndianUInt32(at: position))
            let type = (bytes[position + 4], bytes[position + 5], bytes[position + 6], bytes[position + 7])
            var headerLength = 8
            if size == 1 {  // a 64-bit size follows the type
                guard position + 16 <= bytes.count else { return true }
                let wide = (0..<8).reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[position + 8 + $1]) }
                guard wide <= UInt64(Int.max / 2) else { return false }  // damaged: libheif says how
                size = Int(wide)
                headerLength = 16
            } else if size == 0 {
                return false  // the box runs to the end of the data, whatever its length
            }
            guard size >= headerLength else { return false }  // damaged: libheif says how
            if type == (0x6D, 0x65, 0x74, 0x61) { return position + size > bytes.count }  // "meta"
            position += size
        }
        return position > bytes.count
    }
}

extension UnsafeRawBufferPointer {
    fileprivate func loadBigEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16 | UInt32(self[offset + 2]) << 8
            | UInt32(self[offset + 3])
    }
}
