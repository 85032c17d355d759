// Large files (originals) go to disk with O_DIRECT, around the page cache. The store fsyncs every file it writes,
// so the bytes go to disk at once either way; through the page cache they were first copied into freshly allocated
// cache pages, then written back by the fsync in the writer's own time. For a 5.6 MB original on this machine's
// ext4 that was 6-11 ms of CPU per file (writing and fsync); O_DIRECT writes from the caller's buffer for 0.7 ms,
// and the wall time halves too. Small files (thumbnails, notes) keep the page cache: it costs them little and
// their readers come soon.
#if canImport(Glibc)
import Glibc
#endif

/// Opening a file for a direct write where the buffer allows it, and writing it whole.
enum DirectWrite {
    /// Buffers at least this large are written around the page cache.
    static let threshold = 1024 * 1024

    /// The alignment O_DIRECT asks of the buffer, the length and the offset: a page (the logical block size of
    /// every disk in use is 512 or 4096, and a page is a multiple of both).
    static let alignment = 4096

    /// Linux's O_DIRECT, which Glibc's Swift module leaves out (glibc defines it only under _GNU_SOURCE). Its value
    /// differs between architectures (asm-generic/fcntl.h and arch/arm64/include/uapi/asm/fcntl.h).
    #if arch(arm64)
        static let O_DIRECT: Int32 = 0o200000
    #else
        static let O_DIRECT: Int32 = 0o40000
    #endif

    /// Whether `bytes` can go to disk directly: large, and starting on a page (batch reads large inputs into their
    /// own anonymous mapping, which is page-aligned).
    static func suits(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= threshold, let base = bytes.baseAddress else { return false }
        return Int(bitPattern: base) % alignment == 0
    }

    /// Creates `path` for writing (`O_EXCL`), with `O_DIRECT` when `direct` and the file system takes it (tmpfs
    /// before Linux 6.6, some FUSE and overlay mounts refuse it at open: the file is then opened without it).
    /// - Returns: the descriptor (or -1 with `errno` set) and whether it is direct.
    static func create(_ path: String, direct: Bool) -> (descriptor: Int32, direct: Bool) {
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC
        if direct {
            let descriptor = open(path, flags | O_DIRECT, 0o644)
            if descriptor >= 0 { return (descriptor, true) }
            guard errno == EINVAL else { return (descriptor, false) }
        }
        return (open(path, flags, 0o644), false)
    }

    /// Writes all of `bytes` to `descriptor`. When it is direct, the whole pages go first, straight from the
    /// buffer; the tail (and everything, should the device want another alignment: EINVAL) goes through the page
    /// cache after O_DIRECT is cleared. The caller fsyncs as before.
    /// - Returns: how many bytes were written directly.
    @discardableResult
    static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, direct: Bool) throws(WriteFailure)
        -> Int
    {
        guard let base = bytes.baseAddress else { return 0 }
        var offset = 0
        var directBytes = 0
        if direct {
            let pages = bytes.count / alignment * alignment
            while offset < pages {
                let n = write(descriptor, base + offset, pages - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EINVAL { break }  // the device's alignment is larger: the rest goes buffered
                    throw WriteFailure(errno: errno)
                }
                offset += n
            }
            directBytes = offset
            let flags = fcntl(descriptor, F_GETFL)
            guard flags >= 0, fcntl(descriptor, F_SETFL, flags & ~O_DIRECT) == 0 else {
                throw WriteFailure(errno: errno)
            }
        }
        while offset < bytes.count {
            let n = write(descriptor, base + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw WriteFailure(errno: errno)
            }
            offset += n
        }
        return directBytes
    }

    /// A `write(2)` or `fcntl(2)` that failed, with its errno.
    struct WriteFailure: Error {
        let errno: Int32
    }
}
