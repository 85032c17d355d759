// Reading an input file whole (batch, dropped uploads, `picpipe thumbnail`): one sized buffer, plain read(2).
import Crypto
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
        try read(path, maxBytes: nil, hashing: false).data
    }

    /// Reads a whole input file and, when `hashing`, its SHA-256 in the same pass: each chunk is hashed right after
    /// `read(2)` put it in the buffer, while it is still in the CPU cache, so the bytes are walked once.
    /// - Parameters:
    ///   - buffers: where a large file's buffer comes from (nil: a mapping of its own, unmapped when the `Data` goes).
    ///   - followLinks: false to refuse a symbolic link (an upload, which must not read what lies outside the store).
    /// - Throws: `IngestError.tooLarge` (before anything is read) when the file is over `maxBytes`;
    ///   `IngestError.notAFile` for a named pipe, socket or device (opened without waiting for a writer, never read)
    ///   and, without `followLinks`, for a symbolic link.
    public static func read(
        _ path: String, maxBytes: Int?, hashing: Bool, buffers: InputBuffers? = nil, followLinks: Bool = true
    ) throws -> (data: Data, hash: ContentHash?) {
        let (fd, status) = try open(path, followLinks: followLinks)
        defer { close(fd) }
        return try read(fd, status: status, path: path, maxBytes: maxBytes, hashing: hashing, buffers: buffers)
    }

    /// Opens an input file for reading, refusing what is not a regular file (see `read`); the caller closes it.
    static func open(_ path: String, followLinks: Bool) throws -> (fd: Int32, status: stat) {
        // O_NONBLOCK: a named pipe opened without it blocks until something writes to it (a hung batch or ingest
        // lane). Reads of a regular file do not look at the flag.
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followLinks ? 0 : O_NOFOLLOW))
        guard fd >= 0 else {
            if errno == ENOENT { throw StoreError.notFound(path: path) }
            if errno == ELOOP && !followLinks { throw IngestError.notAFile(file: path, kind: "a symbolic link") }
            throw StoreError.io(path: path, operation: "open", errno: errno)
        }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let error = StoreError.io(path: path, operation: "stat", errno: errno)
            close(fd)
            throw error
        }
        if let kind = FileKind.special(status.st_mode) {
            close(fd)
            throw IngestError.notAFile(file: path, kind: kind)
        }
        return (fd, status)
    }

    /// Reads the whole of an open regular file (`status` is its `fstat`), hashing it as it goes when `hashing`.
    static func read(
        _ fd: Int32, status: stat, path: String, maxBytes: Int?, hashing: Bool, buffers: InputBuffers? = nil
    ) throws -> (data: Data, hash: ContentHash?) {
        let size = Int(status.st_size)
        if let maxBytes, size > maxBytes { throw IngestError.tooLarge(file: path, bytes: size, limit: maxBytes) }
        var data = try Self.buffer(count: size, path: path, from: buffers)
        var hasher = hashing ? SHA256() : nil
        let filled = try data.withUnsafeMutableBytes { buffer -> Int in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.read(fd, buffer.baseAddress! + offset, min(buffer.count - offset, hashChunk))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StoreError.io(path: path, operation: "read", errno: errno)
                }
                if n == 0 { break }
                hasher?.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + n)]))
                offset += n
            }
            return offset
        }
        if filled < data.count { data.removeSubrange(filled...) }
        return (data, hasher.map { ContentHash(digest: $0.finalize()) })
    }

    /// Reads a stream (standard input, a pipe, a device) to its end, at most `maxBytes` of it.
    /// - Returns: the bytes, or `nil` when the stream holds more than `maxBytes` (reading stops there, so `/dev/zero`
    ///   ends instead of filling the memory).
    /// - Throws: `StreamReadError` with the errno of a failed `read(2)`.
    public static func readStream(_ fd: Int32, maxBytes: Int) throws -> Data? {
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while data.count <= maxBytes {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw StreamReadError(code: errno)
            }
            if count == 0 { return data }
            data.append(contentsOf: chunk[0..<count])
        }
        return nil
    }

    /// A `read(2)` of a stream that failed.
    public struct StreamReadError: Error, CustomStringConvertible {
        public let code: Int32
        public var description: String { String(cString: strerror(code)).lowercased() }
    }

    /// A file's size from `stat(2)` (`nil` when it cannot be read): cheaper than Foundation's attributes, which
    /// also look up the owner's and group's names.
    public static func size(_ path: String) -> Int? {
        var status = stat()
        return stat(path, &status) == 0 ? Int(status.st_size) : nil
    }

    /// Asks the kernel to start reading a file the caller will read soon (`posix_fadvise` WILLNEED), so the disk
    /// works while the CPU decodes the file before it. Best effort: errors are ignored.
    public static func prefetch(_ path: String) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED)
        close(fd)
    }

    /// Bytes read (and hashed) at a time: small enough to be hashed from the CPU cache.
    static let hashChunk = 256 * 1024

    /// Inputs at least this large get their own anonymous mapping, returned to the system when the last copy of
    /// the `Data` goes, instead of a heap block that glibc keeps after `free` (which raised peak memory by a
    /// picture's worth on multi-megabyte PNGs).
    static let mappedBufferThreshold = 2 * 1024 * 1024

    /// A buffer of `count` bytes to read a file into (zeroed unless it comes from `buffers`).
    static func buffer(count: Int, path: String, from buffers: InputBuffers? = nil) throws -> Data {
        guard count >= mappedBufferThreshold else { return Data(count: count) }
        // Without a caller's set, a set that keeps nothing: the mapping is unmapped when the `Data` goes.
        return try (buffers ?? InputBuffers(keeping: 0)).data(count: count, path: path)
    }

}
