// The largest picture a HEIF file's coded streams declare: every HEVC SPS and every AV1 sequence header, in the
// configuration boxes (`hvcC`, `av1C`) and in the coded items' data. libde265 and dav1d size their pictures by these,
// not by `ispe`, and libheif 1.15 compares the two only after decoding: a 1,940-byte AVIF whose `ispe` said 32 x 32
// over a 12000 x 12000 AV1 frame passed the pixel limit and peaked at 1.83 GB. The limit is checked on this size too.
// A header that cannot be read is skipped (libheif and the decoder then refuse the file or decode what it holds).

/// A shallow read of the coded streams' own picture sizes.
enum HEIFCodedSize {
    /// The width and height of the largest picture any SPS or sequence header declares, or nil when none is read.
    static func largest(in bytes: UnsafeRawBufferPointer) -> (width: Int, height: Int)? {
        guard let meta = HEIFBoxWalk.child("meta", in: bytes, range: 0..<bytes.count),
            let children = HEIFBoxWalk.fullBoxChildren(of: meta)
        else { return nil }
        var largest: (width: Int, height: Int)?
        func consider(_ size: (width: Int, height: Int)?) {
            guard let size else { return }
            if largest.map({ pixels($0) < pixels(size) }) ?? true { largest = size }
        }
        // The configuration boxes.
        if let iprp = HEIFBoxWalk.child("iprp", in: bytes, range: children),
            let ipco = HEIFBoxWalk.child("ipco", in: bytes, range: iprp)
        {
            var position = ipco.lowerBound
            while let property = HEIFBoxWalk.box(at: position, in: bytes, end: ipco.upperBound) {
                position = property.end
                switch property.type {
                case "hvcC": hevcConfiguration(bytes, property.payload..<property.end, consider)
                case "av1C": av1OBUs(bytes, min(property.payload + 4, property.end)..<property.end, consider)
                default: break
                }
            }
        }
        // The data: the coded streams may carry their own headers. Every extent in the file is scanned both ways;
        // a reading that is not a stream of that codec finds no header.
        if let iloc = HEIFBoxWalk.child("iloc", in: bytes, range: children) {
            for extent in fileExtents(in: bytes, iloc: iloc) {
                hevcLengthPrefixedNALs(bytes, extent, consider)
                av1OBUs(bytes, extent, consider)
            }
        }
        return largest
    }

    /// Every extent `iloc` places in the file (construction method 0), in each reading (`HEIFItemLocations`).
    static func fileExtents(in bytes: UnsafeRawBufferPointer, iloc: Range<Int>) -> Set<Range<Int>> {
        var extents = Set<Range<Int>>()
        for reading in HEIFItemLocations.readings(in: bytes, iloc: iloc) {
            HEIFItemLocations.walk(bytes, iloc: iloc, readsIndexOfVersion1: reading) { entry in
                guard entry.method == 0 else { return }
                for extent in entry.extents {
                    let start = entry.base + extent.offset
                    // Length 0 means "to the end of the file".
                    let stop = extent.length == 0 ? bytes.count : min(start + extent.length, bytes.count)
                    if start < stop { extents.insert(start..<stop) }
                }
            }
        }
        return extents
    }

    /// width x height, saturating (an Exp-Golomb size may be up to 2^32 - 1 on each side).
    static func pixels(_ size: (width: Int, height: Int)) -> Int {
        let (product, overflow) = size.width.multipliedReportingOverflow(by: size.height)
        return overflow ? .max : product
    }

    // MARK: HEVC

    /// The SPS NAL units of an `hvcC` payload's arrays.
    static func hevcConfiguration(
        _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ consider: ((width: Int, height: Int)?) -> Void
    ) {
        guard let arrays = HEIFBoxWalk.integer(bytes, range.lowerBound + 22, 1, limit: range.upperBound) else { return }
        var position = range.lowerBound + 23
        for _ in 0..<arrays {
            guard let count = HEIFBoxWalk.integer(bytes, position + 1, 2, limit: range.upperBound) else { return }
            position += 3
            for _ in 0..<count {
                guard let length = HEIFBoxWalk.integer(bytes, position, 2, limit: range.upperBound),
                    position + 2 + length <= range.upperBound
                else { return }
                consider(hevcSPSSize(bytes, (position + 2)..<(position + 2 + length)))
                position += 2 + length
            }
        }
    }

    /// The SPS NAL units of item data in HEIF's form: NAL units each behind a 4-byte length.
    static func hevcLengthPrefixedNALs(
        _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ consider: ((width: Int, height: Int)?) -> Void
    ) {
        var position = range.lowerBound
        while let length = HEIFBoxWalk.integer(bytes, position, 4, limit: range.upperBound), length > 0,
            position + 4 + length <= range.upperBound
        {
            consider(hevcSPSSize(bytes, (position + 4)..<(position + 4 + length)))
            position += 4 + length
        }
    }

    /// pic_width/height_in_luma_samples of one NAL unit when it is an SPS (type 33), per H.265 7.3.2.2.
    static func hevcSPSSize(_ bytes: UnsafeRawBufferPointer, _ nal: Range<Int>) -> (width: Int, height: Int)? {
        guard nal.count > 2, nal.lowerBound >= 0, nal.upperBound <= bytes.count,
            (bytes[nal.lowerBound] >> 1) & 0x3F == 33
        else { return nil }
        var reader = BitReader(bytes, (nal.lowerBound + 2)..<nal.upperBound, removesEmulationPrevention: true)
        reader.skip(4)  // sps_video_parameter_set_id
        guard let subLayers = reader.bits(3) else { return nil }
        reader.skip(1)  // sps_temporal_id_nesting_flag
        reader.skip(96)  // general profile, tier and level
        var profilePresent: [Bool] = []
        var levelPresent: [Bool] = []
        for _ in 0..<subLayers {
            guard let profile = reader.bits(1), let level = reader.bits(1) else { return nil }
            profilePresent.append(profile == 1)
            levelPresent.append(level == 1)
        }
        if subLayers > 0 { reader.skip(2 * (8 - subLayers)) }
        for index in 0..<subLayers {
            if profilePresent[index] { reader.skip(88) }
            if levelPresent[index] { reader.skip(8) }
        }
        guard reader.exponentialGolomb() != nil, let chroma = reader.exponentialGolomb() else { return nil }
        if chroma == 3 { reader.skip(1) }
        guard let width = reader.exponentialGolomb(), let height = reader.exponentialGolomb(), width > 0, height > 0
        else { return nil }
        // Up to 2^32 - 1 each in the syntax (H.265 allows 16,888 at most): kept small enough to multiply and print.
        return (min(width, 1 << 24), min(height, 1 << 24))
    }

    // MARK: AV1

    /// The sequence header OBUs of a run of OBUs (each with its size field, as AVIF stores them).
    static func av1OBUs(
        _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ consider: ((width: Int, height: Int)?) -> Void
    ) {
        var position = range.lowerBound
        while position < range.upperBound, let header = HEIFBoxWalk.integer(bytes, position, 1, limit: range.upperBound)
        {
            guard header & 0x80 == 0, header & 0x02 != 0 else { return }  // forbidden bit; size field required
            let type = (header >> 3) & 0x0F
            position += header & 0x04 != 0 ? 2 : 1
            var size = 0
            var shift = 0
            var byte = 0x80
            while byte & 0x80 != 0 {
                guard shift < 56, let next = HEIFBoxWalk.integer(bytes, position, 1, limit: range.upperBound) else {
                    return
                }
                byte = next
                size |= (byte & 0x7F) << shift
                shift += 7
                position += 1
            }
            guard size <= range.upperBound - position else { return }
            if type == 1 { consider(av1SequenceHeaderSize(bytes, position..<(position + size))) }
            position += size
        }
    }

    /// max_frame_width/height of a sequence header OBU's payload, per AV1 5.5.1.
    static func av1SequenceHeaderSize(_ bytes: UnsafeRawBufferPointer, _ payload: Range<Int>)
        -> (width: Int, height: Int)?
    {
        var reader = BitReader(bytes, payload, removesEmulationPrevention: false)
        reader.skip(4)  // seq_profile, still_picture
        guard let reduced = reader.bits(1) else { return nil }
        if reduced == 1 {
            reader.skip(5)
        } else {
            guard let timing = reader.bits(1) else { return nil }
            var decoderModel = 0
            var bufferDelayLength = 0
            if timing == 1 {
                reader.skip(64)
                guard let equalInterval = reader.bits(1) else { return nil }
                if equalInterval == 1 { guard reader.exponentialGolomb() != nil else { return nil } }
                guard let present = reader.bits(1) else { return nil }
                decoderModel = present
                if present == 1 {
                    guard let length = reader.bits(5) else { return nil }
                    bufferDelayLength = length + 1
                    reader.skip(32 + 5 + 5)
                }
            }
            guard let initialDelay = reader.bits(1), let points = reader.bits(5) else { return nil }
            for _ in 0...points {
                reader.skip(12)
                guard let level = reader.bits(5) else { return nil }
                if level > 7 { reader.skip(1) }
                if decoderModel == 1 {
                    guard let present = reader.bits(1) else { return nil }
                    if present == 1 { reader.skip(2 * bufferDelayLength + 1) }
                }
                if initialDelay == 1 {
                    guard let present = reader.bits(1) else { return nil }
                    if present == 1 { reader.skip(4) }
                }
            }
        }
        guard let widthBits = reader.bits(4), let heightBits = reader.bits(4),
            let width = reader.bits(widthBits + 1), let height = reader.bits(heightBits + 1)
        else { return nil }
        return (width + 1, height + 1)
    }

    // MARK: bits

    /// A big-endian bit reader over a byte range; reads past the end give nil.
    struct BitReader {
        private var bytes: [UInt8]
        private var position = 0

        init(_ source: UnsafeRawBufferPointer, _ range: Range<Int>, removesEmulationPrevention: Bool) {
            let slice = UnsafeRawBufferPointer(rebasing: source[range.clamped(to: 0..<source.count)])
            // Only the first bytes are ever read (a header's sizes come early): at most 256.
            let head = Array(slice.prefix(256))
            guard removesEmulationPrevention else {
                bytes = head
                return
            }
            var clean: [UInt8] = []
            clean.reserveCapacity(head.count)
            var zeros = 0
            for byte in head {
                if zeros >= 2 && byte == 3 {
                    zeros = 0
                    continue
                }
                zeros = byte == 0 ? zeros + 1 : 0
                clean.append(byte)
            }
            bytes = clean
        }

        mutating func skip(_ count: Int) { position += count }

        mutating func bits(_ count: Int) -> Int? {
            guard count >= 0, count <= 32, position + count <= bytes.count * 8 else { return nil }
            var value = 0
            for _ in 0..<count {
                value = value << 1 | Int(bytes[position >> 3] >> (7 - UInt8(position & 7)) & 1)
                position += 1
            }
            return value
        }

        /// H.265's ue(v), which is also AV1's uvlc(): leading zeros, a 1, then as many bits (at most 31 zeros).
        mutating func exponentialGolomb() -> Int? {
            var zeros = 0
            while true {
                guard let bit = bits(1) else { return nil }
                if bit == 1 { break }
                zeros += 1
                if zeros > 31 { return nil }
            }
            guard let rest = bits(zeros) else { return nil }
            return (1 << zeros) - 1 + rest
        }
    }
}
