// Whether a HEIF file's derived images (`dimg` references in `meta/iref`: grids, overlays) lead back to themselves.
// libheif 1.15 (Debian 12) follows such references without end while decoding: a 685-byte HEIC whose primary grid
// lists itself as a tile made it start threads until none were left (the process aborts), or, decoding on one
// thread, overflow its stack. Later libheif versions refuse such files; picpipe refuses them before libheif decodes.

/// A walk of `meta/iref`'s `dimg` references.
enum HEIFDerivationCycle {
    /// True when following `dimg` references from some item comes back to it.
    static func present(in bytes: UnsafeRawBufferPointer) -> Bool {
        var edges: [UInt32: [UInt32]] = [:]
        guard let meta = HEIFBoxWalk.child("meta", in: bytes, range: 0..<bytes.count),
            let metaChildren = HEIFBoxWalk.fullBoxChildren(of: meta),
            let iref = HEIFBoxWalk.child("iref", in: bytes, range: metaChildren),
            iref.count >= 4
        else { return false }
        let wide = bytes[iref.lowerBound] != 0  // version 1: 32-bit item ids
        let idLength = wide ? 4 : 2
        var position = iref.lowerBound + 4
        while case .header(let reference) = HEIFBoxWalk.header(at: position, in: bytes, end: iref.upperBound) {
            // A reference box that claims more than its iref holds (a fuzzed `dimg` of 78 bytes in a 26-byte iref)
            // is still read by libheif as far as the bytes go, and its ids followed: so its ids are read here too.
            let referenceEnd = min(reference.declaredEnd ?? iref.upperBound, bytes.count)
            position = referenceEnd
            guard reference.type == "dimg" else { continue }
            var cursor = reference.payload
            func readID() -> UInt32? {
                guard let id = HEIFBoxWalk.integer(bytes, cursor, idLength, limit: referenceEnd) else { return nil }
                cursor += idLength
                return UInt32(id)
            }
            guard let from = readID(), let count = HEIFBoxWalk.integer(bytes, cursor, 2, limit: referenceEnd) else {
                continue
            }
            cursor += 2
            // Only the ids the box holds: a count past its end is libheif's to refuse.
            for _ in 0..<count {
                guard let to = readID() else { break }
                edges[from, default: []].append(to)
            }
        }
        // Kahn's topological sort, without recursion (a hostile file may hold a million references): the items
        // left once every item without an incoming reference has been removed lie on a cycle.
        var incoming: [UInt32: Int] = [:]
        for (from, targets) in edges {
            incoming[from, default: 0] += 0
            for to in targets { incoming[to, default: 0] += 1 }
        }
        var ready = incoming.filter { $0.value == 0 }.map(\.key)
        var removed = 0
        while let item = ready.popLast() {
            removed += 1
            for to in edges[item] ?? [] {
                incoming[to, default: 0] -= 1
                if incoming[to] == 0 { ready.append(to) }
            }
        }
        return removed < incoming.count
    }
}
