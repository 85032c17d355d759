// Whether an upload's bytes end where its format says a file ends: a picture written in several opens and closes
// (a head, then the rest appended; `dd` a chunk at a time; a resumed download) is closed half-written first.
import ImageCore

#if canImport(Glibc)
    import Glibc
#endif

/// A look at an upload's ends, a few small reads: a JPEG's end-of-image marker after its first scan, a PNG's
/// `IEND`, a GIF's trailer, a WebP's RIFF length, HEIF/AVIF's top-level boxes. A false "not whole" only makes a
/// fresh upload wait (`LeasedUpload.incompleteSettleTime`); files in no format picpipe reads are taken as whole.
enum UploadCompleteness {
    /// How far before the end a JPEG's end-of-image marker may lie (padding, a short trailer); a longer trailer (a
    /// motion photo's video) makes a fresh upload wait, no more.
    static let trailerBytes = 4096

    /// Whether the file open as `fd`, `size` bytes, ends where its format says it ends.
    static func looksWhole(fd: Int32, size: Int) -> Bool {
        let head = bytes(fd, at: 0, count: 64)
        guard let format = head.withUnsafeBytes({ ImageFormat.sniff($0) }) else { return true }
        switch format {
        case .jpeg: return jpegLooksWhole(fd: fd, size: size)
        case .png:
            let tail = bytes(fd, at: max(0, size - trailerBytes), count: min(size, trailerBytes))
            return contains(tail, Array("IEND".utf8))
        case .gif:
            return bytes(fd, at: size - 1, count: 1) == [0x3B]
        case .webp:
            guard head.count >= 8 else { return false }
            let riff = Int(head[4]) | Int(head[5]) << 8 | Int(head[6]) << 16 | Int(head[7]) << 24
            return riff + 8 <= size
        case .heic, .avif:
            return boxesLookWhole(fd: fd, size: size)
        }
    }

    /// Its segments are walked to the first scan; an end-of-image marker must follow within the last
    /// `trailerBytes` (one before the scan, as an EXIF thumbnail's, does not count).
    private static func jpegLooksWhole(fd: Int32, size: Int) -> Bool {
        var offset = 2
        var scan: Int?
        // Headers are a few dozen segments at most; a walk past that is no JPEG to judge here.
        for _ in 0..<1000 {
            let marker = bytes(fd, at: offset, count: 4)
            guard marker.count == 4, marker[0] == 0xFF else { return false }
            if marker[1] == 0xFF {  // fill byte before a marker
                offset += 1
                continue
            }
            let length = Int(marker[2]) << 8 | Int(marker[3])
            if marker[1] == 0xDA {
                scan = offset + 2 + length
                break
            }
            offset += 2 + length
        }
        guard let scan, scan < size else { return false }
        let start = max(scan, size - trailerBytes)
        return contains(bytes(fd, at: start, count: size - start), [0xFF, 0xD9])
    }

    /// The top-level boxes (`ftyp`, `meta`, `mdat`, …) must end exactly at the end of the file (a box of size 0
    /// runs to it).
    private static func boxesLookWhole(fd: Int32, size: Int) -> Bool {
        var offset = 0
        for _ in 0..<10_000 {
            if offset == size { return true }
            let header = bytes(fd, at: offset, count: 16)
            guard header.count >= 8 else { return false }
            var length = header[0..<4].reduce(0) { $0 << 8 | Int($1) }
            if length == 0 { return true }
            if length == 1 {
                guard header.count == 16 else { return false }
                length = header[8..<16].reduce(0) { ($0 << 8) | Int($1) }
                guard length >= 16 else { return false }
            } else if length < 8 {
                return false
            }
            guard length <= size - offset else { return false }
            offset += length
        }
        return false
    }

    /// Up to `count` bytes at `offset` (fewer at the end of the file, none on an error).
    private static func bytes(_ fd: Int32, at offset: Int, count: Int) -> [UInt8] {
        guard offset >= 0, count > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: count)
        let read = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
        return read > 0 ? Array(buffer[0..<read]) : []
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains {
            haystack[$0..<($0 + needle.count)].elementsEqual(needle)
        }
    }
}
