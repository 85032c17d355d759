// Reading an input file whole (batch, dropped uploads, `picpipe thumbnail`): one sized buffer, plain read(2).
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reads input files into memory the cheap way.
public enum InputFile {
    /// Reads a whole input file with one sized buffer and plain `read(2)` calls.
    ///
    /// Not memory-mapped on purpose: a file truncated by another process while mapped would kill the batch
    /// with SIGBUS. The size is taken from `fstat`; a file that grows meanwhile is read as it was at the start.
    public static func read(_ path: String) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw StoreError.notFound(path: path) }
            throw StoreError.io(path: path, operation: "open", errno: errno)
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw StoreError.io(path: path, operation: "stat", errno: errno) }
        var data = try Self.buffer(count: Int(status.st_size), path: path)
        let filled = try data.withUnsafeMutableBytes { buffer -> Int in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.read(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StoreError.io(path: path, operation: "read", errno: errno)
                }
                if n == 0 { break }
                offset += n
            }
            return offset
        }
        if filled < data.count { data.removeSubrange(filled...) }
        return data
    }

    /// Inputs at least this large get their own anonymous mapping, returned to the system when the last copy of
    /// the `Data` goes, instead of a heap block that glibc keeps after `free` (which raised peak memory by a
    /// picture's worth on multi-megabyte PNGs).
    static let mappedBufferThreshold = 2 * 1024 * 1024

    /// A zeroed buffer of `count` bytes to read a file into.
    static func buffer(count: Int, path: String) throws -> Data {
        guard count >= mappedBufferThreshold else { return Data(count: count) }
        guard let pointer = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            pointer != MAP_FAILED
        else { throw StoreError.io(path: path, operation: "mmap", errno: errno) }
        return Data(bytesNoCopy: pointer, count: count, deallocator: .custom { pointer, count in munmap(pointer, count) })
    }

}
