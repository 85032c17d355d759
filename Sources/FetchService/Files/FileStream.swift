// A large file (an original) as a response body, read a chunk at a time as the client takes it. Hummingbird's
// `FileIO` read up to 8 chunks of 128 KiB ahead of the socket (its file handle's read-ahead), so each client that
// stopped reading held about 1.7 MB until it left (session 32: 200 of them took 340 MB). Here a chunk is read only
// once the one before has been handed to the connection, whose writer waits while the channel cannot take more:
// a stalled reader holds one chunk in the channel and one waiting for it.
import Hummingbird
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Streams a file's bytes with back-pressure.
package enum FileStream {
    /// The bytes read per hop to the thread pool (what a stalled reader holds twice, at most).
    package static let chunkLength = 64 * 1024

    /// A body of `range` of the file at `path`, `range.count` bytes long.
    /// - Throws (from the body, once the head is sent): the file cannot be opened, or ends before `range` does.
    package static func body(path: String, range: ClosedRange<Int>, threadPool: NIOThreadPool) -> ResponseBody {
        ResponseBody(contentLength: range.count) { writer in
            let descriptor = try await threadPool.runIfActive {
                let descriptor = open(path, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else { throw FileStreamError.unreadable(path: path, errno: errno) }
                return descriptor
            }
            defer { close(descriptor) }
            var offset = range.lowerBound
            while offset <= range.upperBound {
                let want = min(chunkLength, range.upperBound - offset + 1)
                let start = offset
                let chunk = try await threadPool.runIfActive {
                    var buffer = ByteBufferAllocator().buffer(capacity: want)
                    let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw in
                        max(0, pread(descriptor, raw.baseAddress, want, off_t(start)))
                    }
                    guard got > 0 else { throw FileStreamError.truncated(path: path, at: start) }
                    return buffer
                }
                offset += chunk.readableBytes
                // Suspends while the channel holds more than its high water mark for the client.
                try await writer.write(chunk)
            }
            try await writer.finish(nil)
        }
    }
}

/// Why a file's body stopped after its head was sent (the connection is closed: the answer cannot be completed).
package enum FileStreamError: Error, CustomStringConvertible {
    case unreadable(path: String, errno: Int32)
    case truncated(path: String, at: Int)

    package var description: String {
        switch self {
        case .unreadable(let path, let errno):
            return "cannot open \(path) to send it: \(String(cString: strerror(errno)))"
        case .truncated(let path, let offset):
            return "\(path) ended at byte \(offset) while it was being sent (it was shortened or replaced)"
        }
    }
}
