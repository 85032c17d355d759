// Streaming a request body to a temporary file in uploads/ while hashing it: never whole in memory, never past
// the size limit, and removed whatever goes wrong (limit, not an image, client gone).
import Crypto
import Foundation
import Hummingbird
import ImageCore
import NIOCore
import NIOHTTP1
import NIOPosix
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// A body written to a temporary file, hashed and sniffed; the caller installs or removes it.
package struct SpooledUpload: Sendable {
    /// The temporary file (dot-prefixed, so the upload watcher ignores it).
    package var path: String
    /// The SHA-256 of the bytes.
    package var hash: ContentHash
    /// The format sniffed from the first bytes.
    package var format: ImageFormat
    /// The size in bytes.
    package var size: Int
    /// The file name a multipart part carried.
    package var fileName: String?

    /// - Parameters: see the properties.
    package init(path: String, hash: ContentHash, format: ImageFormat, size: Int, fileName: String? = nil) {
        self.path = path
        self.hash = hash
        self.format = format
        self.size = size
        self.fileName = fileName
    }

    /// Removes the temporary file.
    package func discard() { unlink(path) }
}

/// Writes upload bodies to temporary files in `uploads/`.
package struct UploadSpool: Sendable {
    /// The prefix of the spool's temporary files (under the store's temporary prefix, so sweeps find them).
    static let temporaryPrefix = AtomicFile.temporaryPrefix + "http-"
    /// Bytes gathered before each write to disk. Each upload holds up to two of these (one being written, one
    /// filling), so with 100 uploads at once 256 KiB batches cost about 50 MB more than 64 KiB ones, which upload
    /// a 250 MB body as fast on loopback (2.0-2.7 s either way, debug build).
    static let writeBatch = 64 * 1024
    /// The folder temporary files are written in (the store's uploads/, same file system as originals/).
    let folder: URL
    /// The largest accepted file.
    let maxBytes: Int
    /// The slowest average rate a body may keep after `UploadPace.grace` (0: none).
    let minRate: Int
    let threadPool: NIOThreadPool

    /// Streams `body` to a new temporary file.
    /// - Parameters:
    ///   - body: the request body.
    ///   - kind: raw image bytes, or a multipart form to take the file part from.
    ///   - declaredLength: the Content-Length, when sent (a shorter body is an interrupted upload).
    /// - Throws: `APIError` 413 (over the limit), 415 (not JPEG or PNG), 400 (empty, malformed, incomplete);
    ///   the temporary file is removed before any throw.
    func spool<Body: AsyncSequence>(_ body: Body, kind: UploadBody, declaredLength: Int?) async throws -> SpooledUpload
    where Body.Element == ByteBuffer {
        let path = folder.appendingPathComponent(AtomicFile.temporaryName(kind: "http-")).path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw APIError.storeWriteFailed(
                errno: errno, path: path, doing: "create a temporary upload file", needing: declaredLength ?? 0)
        }
        var sink = Sink(
            descriptor: descriptor, maxBytes: maxBytes, threadPool: threadPool, declaredLength: declaredLength)
        var kept = false
        defer {
            close(descriptor)
            if !kept { unlink(path) }
        }
        var extractor: MultipartFileExtractor?
        if case .multipart(let boundary) = kind { extractor = MultipartFileExtractor(boundary: boundary) }
        var received = 0
        do {
            try await read(body, into: &sink, extractor: &extractor, received: &received)
        } catch let error as APIError {
            throw error
        } catch let slow as BodyTooSlow {
            // Cut by the connection's timed check: the body stopped, or trickled, under the minimum.
            throw APIError.uploadTooSlow(received: slow.received, seconds: slow.seconds, minimum: slow.minimum)
        } catch let cut as BodyCutAtShutdown {
            // Still arriving when serve's shutdown grace ended: nothing is kept (the client may send it again).
            throw APIError.cutAtShutdown(cut)
        } catch let error as HTTPParserError {
            // The client's end came inside the body, or its framing is broken (a chunk size that is not hex, …): the
            // connection cannot be read further (until session 28 this said "interrupted"). Worded as the JSON
            // routes word it (until session 36 a body cut short gave NIO's "stream ended at an unexpected time").
            let unreadable = RequestBody.Unreadable(
                reason: .broken(error), received: received, declared: declaredLength)
            throw APIError.malformedBody(unreadable.description)
        } catch {
            // The connection closed or broke mid-body: the client is gone, the temporary file goes too.
            throw APIError.badRequest("the upload was interrupted after \(received) bytes")
        }
        if let declaredLength, received < declaredLength {
            throw APIError.malformedBody(
                RequestBody.Unreadable(reason: .endedEarly, received: received, declared: declaredLength).description)
        }
        try extractor?.finish()
        try await sink.flush()
        guard sink.size > 0 else { throw APIError.badRequest("the upload is empty") }
        guard let format = sink.format ?? sink.head.withUnsafeBytes({ ImageFormat.sniff($0) }) else {
            throw Sink.notAnImage
        }
        let size = sink.size
        try await threadPool.runIfActive {
            guard fsync(descriptor) == 0 else {
                throw APIError.storeWriteFailed(errno: errno, path: path, doing: "sync the upload", needing: size)
            }
        }
        kept = true
        return SpooledUpload(
            path: path, hash: sink.finalHash(), format: format, size: sink.size, fileName: extractor?.fileName)
    }

    private func read<Body: AsyncSequence>(
        _ body: Body, into sink: inout Sink, extractor: inout MultipartFileExtractor?, received: inout Int
    ) async throws where Body.Element == ByteBuffer {
        var pace = UploadPace(minimum: minRate)
        for try await chunk in body {
            received += chunk.readableBytes
            if let seconds = pace.count(chunk.readableBytes) {
                throw APIError.uploadTooSlow(received: received, seconds: seconds, minimum: minRate)
            }
            if var parser = extractor {
                try chunk.withUnsafeReadableBytes { raw in try parser.feed(raw) { try sink.take($0) } }
                extractor = parser
            } else {
                try chunk.withUnsafeReadableBytes { try sink.take($0) }
            }
            if sink.needsFlush { try await sink.flush() }
        }
    }

    /// Removes temporary files a crash left in the folder (not those a live upload is writing); returns how many.
    @discardableResult
    func sweep() -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var removed = 0
        for name in names where name.hasPrefix(Self.temporaryPrefix) {
            let url = folder.appendingPathComponent(name)
            guard TemporaryOwner.isStale(url) else { continue }
            if unlink(url.path) == 0 { removed += 1 }
        }
        return removed
    }

    /// Hashes, sniffs, counts and batches the file bytes.
    private struct Sink {
        let descriptor: Int32
        let maxBytes: Int
        let threadPool: NIOThreadPool
        var hasher = SHA256()
        var size = 0
        var format: ImageFormat?
        var head: [UInt8] = []
        var batch = ByteBufferAllocator().buffer(capacity: UploadSpool.writeBatch)
        /// The Content-Length, when sent: what a full disk must have room for again.
        let declaredLength: Int?

        /// How many first bytes are kept to sniff the format from.
        static let sniffLength = 64
        static let notAnImage = APIError.unsupportedMediaType(
            "the body is not a JPEG, PNG, WebP, GIF, HEIC or AVIF image (sniffed from its bytes)")

        init(descriptor: Int32, maxBytes: Int, threadPool: NIOThreadPool, declaredLength: Int?) {
            self.descriptor = descriptor
            self.maxBytes = maxBytes
            self.threadPool = threadPool
            self.declaredLength = declaredLength
        }

        var needsFlush: Bool { batch.readableBytes >= UploadSpool.writeBatch }

        mutating func take(_ bytes: UnsafeRawBufferPointer) throws {
            guard !bytes.isEmpty else { return }
            size += bytes.count
            guard size <= maxBytes else { throw APIError.bodyTooLarge(limit: maxBytes) }
            if format == nil {
                // JPEG and PNG show in 8 bytes; WebP needs 12 and HEIF's ftyp brands up to 64.
                head.append(contentsOf: bytes.prefix(Self.sniffLength - head.count))
                if head.count >= 8 {
                    let sniffed = head.withUnsafeBytes({ ImageFormat.sniff($0) })
                    if sniffed == nil && head.count >= Self.sniffLength { throw Self.notAnImage }
                    format = sniffed
                }
            }
            hasher.update(bufferPointer: bytes)
            batch.writeBytes(bytes)
        }

        mutating func flush() async throws {
            guard batch.readableBytes > 0 else { return }
            let pending = batch
            batch.clear()
            let descriptor = self.descriptor
            // The whole upload must fit again before the store is taken to take writes (until session 28 a
            // refused HTTP upload needed only 1 MiB, so /healthz said 200 while POST answered 507).
            let needed = max(declaredLength ?? 0, size)
            try await threadPool.runIfActive {
                try pending.withUnsafeReadableBytes { raw in
                    if let failure = UploadSpool.writeAll(raw, to: descriptor) {
                        throw APIError.storeWriteFailed(
                            errno: failure, path: "uploads/", doing: "write the upload", needing: needed)
                    }
                }
            }
        }

        func finalHash() -> ContentHash {
            let digest = hasher.finalize()
            let hex = digest.map { byte in
                let text = String(byte, radix: 16)
                return byte < 16 ? "0" + text : text
            }.joined()
            // The digest is always 32 bytes, so this is always a valid hash.
            return ContentHash(hex: hex) ?? ContentHash(of: UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }
}

extension UploadSpool {
    /// Writes all of `raw` to `descriptor`, again after an interrupted write (the spools' batches go through here).
    /// - Returns: `nil`, or the `errno` of the write that failed.
    package static func writeAll(_ raw: UnsafeRawBufferPointer, to descriptor: Int32) -> Int32? {
        guard let base = raw.baseAddress else { return nil }
        var offset = 0
        while offset < raw.count {
            let written = write(descriptor, base + offset, raw.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += written
        }
        return nil
    }
}
