// Builds the derived HEIF images phones write (a `grid` of tiles, as every iPhone HEIC is; an `iovl` overlay) from
// single pictures heif-enc made, since Debian's heif-enc 1.15 writes neither. The boxes follow ISO/IEC 23008-12;
// libheif's heif-convert reads the result, which is what the tests compare picpipe with. Also an AVIF turned by its
// container (`irot`, `imir` in any order) around a picture picpipe's own AVIF encoder made, no tool needed.
import Foundation

enum HEIFAssembler {
    /// One coded picture taken out of a heif-enc (HEVC) or libheif AV1 file: its item type, its configuration box
    /// (`hvcC`, `av1C`) and its data.
    struct Tile {
        let itemType: String
        let configuration: [UInt8]
        let data: [UInt8]
        let width: Int
        let height: Int
    }

    /// The primary picture of a single-image HEIC (heif-enc's output) or AVIF (libheif's).
    static func tile(from file: [UInt8]) throws -> Tile {
        let meta = try find("meta", in: file, 0..<file.count, fullBox: true)
        let primary = try int(file, try find("pitm", in: file, meta, fullBox: true).lowerBound, 2)
        // heif-enc wraps a picture whose sides are not multiples of its coding block in a one-tile grid.
        let type = try itemType(primary, in: file, iinf: try find("iinf", in: file, meta, fullBox: true))
        guard let configurationType = ["hvc1": "hvcC", "av01": "av1C"][type] else {
            throw Malformed(description: "the primary item is not one coded picture (make the sides multiples of 64)")
        }
        let ipco = try find("ipco", in: file, try find("iprp", in: file, meta), fullBox: false)
        let configuration = try box(configurationType, in: file, ipco)
        let ispe = try find("ispe", in: file, ipco, fullBox: true)
        let iloc = try find("iloc", in: file, meta, fullBox: false)
        let extent = try locate(item: primary, in: file, iloc: iloc)
        return Tile(
            itemType: type, configuration: Array(file[configuration]), data: Array(file[extent]),
            width: try int(file, ispe.lowerBound, 4), height: try int(file, ispe.lowerBound + 4, 4))
    }

    /// A HEIC whose primary item is a grid of `columns` x (tiles / columns) tiles of one size, in reading order.
    /// `output` crops the right and bottom edges as phones do (4032 x 3024 from 512-pixel tiles; `ispe` says it);
    /// `declared` overrides the size the grid descriptor states (the output by default).
    static func grid(
        _ tiles: [Tile], columns: Int, output: (width: Int, height: Int)? = nil,
        declared: (width: Int, height: Int)? = nil
    ) -> [UInt8] {
        let rows = tiles.count / columns
        let canvas = output ?? (width: tiles[0].width * columns, height: tiles[0].height * rows)
        let stated = declared ?? canvas
        let descriptor = [0, 0, UInt8(rows - 1), UInt8(columns - 1)] + be(stated.width, 2) + be(stated.height, 2)
        return derived(type: "grid", descriptor: descriptor, canvas: canvas, tiles: tiles)
    }

    /// A HEIC whose primary item is an overlay of `tiles` at `offsets` on a canvas filled with `fill` (RGBA, 16 bit).
    /// `declared` overrides the size the overlay descriptor states (the canvas's, which `ispe` gives, by default).
    static func overlay(
        _ tiles: [Tile], at offsets: [(x: Int, y: Int)], canvas: (width: Int, height: Int), fill: [UInt16],
        declared: (width: Int, height: Int)? = nil
    ) -> [UInt8] {
        let output = declared ?? canvas
        var descriptor: [UInt8] = [0, 0]
        for value in fill { descriptor += be(Int(value), 2) }
        descriptor += be(output.width, 2) + be(output.height, 2)
        for offset in offsets { descriptor += be(offset.x, 2) + be(offset.y, 2) }
        return derived(type: "iovl", descriptor: descriptor, canvas: canvas, tiles: tiles)
    }

    /// ftyp, meta (item 1 the derived image with its descriptor in `idat`, items 2... the hidden tiles), mdat.
    private static func derived(
        type: String, descriptor: [UInt8], canvas: (width: Int, height: Int), tiles: [Tile]
    ) -> [UInt8] {
        let ftyp = box("ftyp", Array("heic".utf8) + be(0, 4) + Array("mif1heic".utf8))
        let hdlr = fullBox("hdlr", be(0, 4) + Array("pict".utf8) + [UInt8](repeating: 0, count: 13))
        let pitm = fullBox("pitm", be(1, 2))
        var infos = be(tiles.count + 1, 2) + fullBox("infe", be(1, 2) + be(0, 2) + Array(type.utf8) + [0], version: 2)
        for index in tiles.indices {
            infos += fullBox(
                "infe", be(index + 2, 2) + be(0, 2) + Array(tiles[index].itemType.utf8) + [0], version: 2, flags: 1)
        }
        let iinf = fullBox("iinf", infos)
        let iref = fullBox("iref", box("dimg", be(1, 2) + be(tiles.count, 2) + tiles.indices.flatMap { be($0 + 2, 2) }))
        // Properties: one configuration per tile (1...n), the tiles' ispe (n+1), the canvas's ispe (n+2).
        var properties = tiles.flatMap(\.configuration)
        properties += fullBox("ispe", be(tiles[0].width, 4) + be(tiles[0].height, 4))
        properties += fullBox("ispe", be(canvas.width, 4) + be(canvas.height, 4))
        var associations = be(tiles.count + 1, 4) + be(1, 2) + [1, UInt8(tiles.count + 2)]
        for index in tiles.indices {
            associations += be(index + 2, 2) + [2, 0x80 | UInt8(index + 1), UInt8(tiles.count + 1)]
        }
        let iprp = box("iprp", box("ipco", properties) + fullBox("ipma", associations))
        let idat = box("idat", descriptor)
        // iloc version 1: offset and length 4 bytes, no base offset; item 1 in idat (method 1), tiles in mdat.
        func iloc(mdatStart: Int) -> [UInt8] {
            var entries = be(tiles.count + 1, 2) + be(1, 2) + be(1, 2) + be(0, 2) + be(1, 2)
            entries += be(0, 4) + be(descriptor.count, 4)
            var offset = mdatStart
            for (index, tile) in tiles.enumerated() {
                entries += be(index + 2, 2) + be(0, 2) + be(0, 2) + be(1, 2) + be(offset, 4) + be(tile.data.count, 4)
                offset += tile.data.count
            }
            return fullBox("iloc", [0x44, 0x00] + entries, version: 1)
        }
        let fixed = hdlr + pitm + iinf + iref + iprp + idat
        let metaSize = 12 + fixed.count + iloc(mdatStart: 0).count
        let mdatStart = ftyp.count + metaSize + 8
        let meta = fullBox("meta", hdlr + pitm + iloc(mdatStart: mdatStart) + iinf + iref + iprp + idat)
        return ftyp + meta + box("mdat", tiles.flatMap(\.data))
    }

    /// An AVIF whose primary item is `tile` with the properties `transforms` (`irot`, `imir` boxes) associated
    /// after its configuration and `ispe`, in that order.
    static func single(_ tile: Tile, transforms: [[UInt8]]) -> [UInt8] {
        let ftyp = box("ftyp", Array("avif".utf8) + be(0, 4) + Array("mif1avifmiaf".utf8))
        let hdlr = fullBox("hdlr", be(0, 4) + Array("pict".utf8) + [UInt8](repeating: 0, count: 13))
        let pitm = fullBox("pitm", be(1, 2))
        let infe = fullBox("infe", be(1, 2) + be(0, 2) + Array(tile.itemType.utf8) + [0], version: 2)
        let iinf = fullBox("iinf", be(1, 2) + infe)
        // Properties: the configuration (1, essential), the ispe (2), then the transforms (3..., essential).
        let ispe = fullBox("ispe", be(tile.width, 4) + be(tile.height, 4))
        let properties = tile.configuration + ispe + transforms.joined()
        let indexes = [0x81, 0x02] + transforms.indices.map { 0x80 | UInt8($0 + 3) }
        let ipma = fullBox("ipma", be(1, 4) + be(1, 2) + [UInt8(indexes.count)] + indexes)
        let iprp = box("iprp", box("ipco", properties) + ipma)
        // iloc version 0: offset and length 4 bytes, no base offset; item 1 is the whole of mdat.
        func iloc(mdatStart: Int) -> [UInt8] {
            let entry = be(1, 2) + be(0, 2) + be(1, 2) + be(mdatStart, 4) + be(tile.data.count, 4)
            return fullBox("iloc", [0x44, 0x00] + be(1, 2) + entry)
        }
        let mdatStart = ftyp.count + 12 + (hdlr + pitm + iloc(mdatStart: 0) + iinf + iprp).count + 8
        return ftyp + fullBox("meta", hdlr + pitm + iloc(mdatStart: mdatStart) + iinf + iprp) + box("mdat", tile.data)
    }

    static func box(_ type: String, _ payload: [UInt8]) -> [UInt8] {
        be(payload.count + 8, 4) + Array(type.utf8) + payload
    }

    static func fullBox(_ type: String, _ payload: [UInt8], version: UInt8 = 0, flags: Int = 0) -> [UInt8] {
        box(type, [version] + be(flags, 3) + payload)
    }

    static func be(_ value: Int, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * (count - 1 - $0))) }
    }

    // MARK: reading heif-enc's file

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    private static func int(_ bytes: [UInt8], _ at: Int, _ count: Int) throws -> Int {
        guard at >= 0, at + count <= bytes.count else { throw Malformed(description: "read past the end at \(at)") }
        return bytes[at..<(at + count)].reduce(0) { $0 << 8 | Int($1) }
    }

    /// The whole box (header included) of the first `type` child in `range`.
    private static func box(_ type: String, in bytes: [UInt8], _ range: Range<Int>) throws -> Range<Int> {
        var position = range.lowerBound
        while position + 8 <= range.upperBound {
            let size = try int(bytes, position, 4)
            guard size >= 8, position + size <= range.upperBound else { break }
            if String(decoding: bytes[(position + 4)..<(position + 8)], as: UTF8.self) == type {
                return position..<(position + size)
            }
            position += size
        }
        throw Malformed(description: "no '\(type)' box")
    }

    /// The payload of the first `type` child in `range` (after version and flags for a full box).
    private static func find(_ type: String, in bytes: [UInt8], _ range: Range<Int>, fullBox: Bool = false) throws
        -> Range<Int>
    {
        let whole = try box(type, in: bytes, range)
        return (whole.lowerBound + 8 + (fullBox ? 4 : 0))..<whole.upperBound
    }

    /// The type of `item` in an `iinf` payload of version 0 (heif-enc's) with `infe` entries of version 2.
    private static func itemType(_ item: Int, in bytes: [UInt8], iinf: Range<Int>) throws -> String {
        var position = iinf.lowerBound + 2
        while position + 20 <= iinf.upperBound {
            let size = try int(bytes, position, 4)
            guard size >= 20 else { break }
            if try int(bytes, position + 12, 2) == item {
                return String(decoding: bytes[(position + 16)..<(position + 20)], as: UTF8.self)
            }
            position += size
        }
        throw Malformed(description: "item \(item) is not in 'iinf'")
    }

    /// The one extent of `item` in the file (construction method 0), read from an `iloc` payload (version included).
    private static func locate(item: Int, in bytes: [UInt8], iloc: Range<Int>) throws -> Range<Int> {
        let version = try int(bytes, iloc.lowerBound, 1)
        let sizes = try int(bytes, iloc.lowerBound + 4, 2)
        let offsetSize = sizes >> 12 & 0xF
        let lengthSize = sizes >> 8 & 0xF
        let baseSize = sizes >> 4 & 0xF
        let indexSize = version >= 1 ? sizes & 0xF : 0
        let idSize = version == 2 ? 4 : 2
        var position = iloc.lowerBound + 6
        let count = try int(bytes, position, idSize)
        position += idSize
        for _ in 0..<count {
            let id = try int(bytes, position, idSize)
            position += idSize + (version >= 1 ? 2 : 0) + 2
            let base = try int(bytes, position, baseSize)
            position += baseSize
            let extents = try int(bytes, position, 2)
            position += 2
            var found: Range<Int>?
            for _ in 0..<extents {
                position += indexSize
                let offset = try int(bytes, position, offsetSize)
                let length = try int(bytes, position + offsetSize, lengthSize)
                position += offsetSize + lengthSize
                found = (base + offset)..<(base + offset + length)
            }
            if id == item, extents == 1, let found { return found }
        }
        throw Malformed(description: "item \(item) has no single extent in 'iloc'")
    }
}
