// A file opened for reading with plain POSIX calls: the head-only path must cost a few microseconds.
import PipelineCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open file descriptor and the file's size; closed when released.
final class OpenFile {
    private let descriptor: Int32
    private let path: String
    /// The size `fstat` reported when the file was opened.
    let size: Int

    init(path: String) throws(MetadataError) {
        // O_NONBLOCK: a named pipe opened without it waits for a writer (the check below then refuses it).
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw .unreadableFile(path: path, reason: Self.errnoText()) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = Self.errnoText()
            close(descriptor)
            throw .unreadableFile(path: path, reason: reason)
        }
        if let kind = FileKind.special(status.st_mode) {
            close(descriptor)
            throw .unreadableFile(path: path, reason: "\(kind), not a regular file")
        }
        self.descriptor = descriptor
        self.path = path
        self.size = Int(status.st_size)
    }

    deinit { close(descriptor) }

    /// Reads from the start up to `length` bytes (fewer at the end of the file).
    func read(upTo length: Int) throws(MetadataError) -> [UInt8] {
        guard length > 0 else { return [] }
        var failure: Int32 = 0
        let buffer = [UInt8](unsafeUninitializedCapacity: length) { storage, count in
            var filled = 0
            guard let base = storage.baseAddress else {
                count = 0
                return
            }
            while filled < length {
                let got = pread(descriptor, base + filled, length - filled, off_t(filled))
                if got < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if got == 0 { break }
                filled += got
            }
            count = filled
        }
        if failure != 0 { throw .unreadableFile(path: path, reason: String(cString: strerror(failure))) }
        return buffer
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
