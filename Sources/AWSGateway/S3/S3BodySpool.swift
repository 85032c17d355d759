// Streaming an S3 request body to a temporary file in the store: decoding aws-chunked, checking the payload's
// SHA-256, chunk signatures, Content-MD5 and flexible checksums as it goes, hashing SHA-256 (the content id) and
// MD5 (the ETag), never holding the body whole, and removing the file on any failure.
import Crypto
import FetchService
import Foundation
import Hummingbird
import ImageCore
import NIOCore
import NIOPosix
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// A body written to a temporary file with what S3 needs to know of it.
struct SpooledObject: Sendable {
    /// The temporary file.
    var path: String
    /// The SHA-256 of the object bytes (the content id).
    var sha256: ContentHash
    /// The MD5 of the object bytes (the single-part ETag).
    var md5: [UInt8]
    /// The object's size.
    var size: Int
    /// The image format sniffed from the first bytes, if any.
    var format: ImageFormat?
    /// Where the bytes start in `path` when they were written into a region of a shared file (a multipart
    /// upload's assembled object), nil when the file is theirs alone.
    var offset: Int? = nil
    /// The flexible checksum computed over the bytes (`x-amz-checksum-crc32` and its value), checked against the
    /// value the request sent in a header or an aws-chunked trailer; S3 echoes it in the answer.
    var checksum: (header: String, value: String)? = nil

    /// The ETag S3 gives a single-part object: the hex MD5 in quotes.
    var eTag: String { "\"\(SignatureV4.hex(md5))\"" }

    /// Removes the file (a region of a shared file is left to its owner).
    func discard() { if offset == nil { unlink(path) } }
}

/// A region of an existing file a body is written into: a part at its place in a multipart upload's object.
struct SpoolRegion: Sendable {
    var path: String
    var offset: Int
    /// The bytes the region holds; a body longer than this is refused before it spills into the next one.
    var length: Int
}

/// Writes request bodies to temporary files.
struct S3BodySpool: Sendable {
    /// The prefix of the spool's temporary files (under the store's, so a crash's leftovers can be swept).
    static let temporaryKind = "s3-"
    /// Bytes gathered before each write.
    static let writeBatch = 256 * 1024
    let threadPool: NIOThreadPool
    /// The slowest average rate a body may keep (`http.min_upload_rate`, 0: none): a trickled body is cut.
    var minRate = 0

    /// Streams `body` into a new temporary file in `folder`.
    /// - Parameters:
    ///   - body: the request's body, or the bytes of a form's file part.
    ///   - request: the request's headers (checksums, decoded length, Content-MD5).
    ///   - payload: what the signature promised about the body.
    ///   - maxBytes: the largest object accepted.
    ///   - room: asked for room for more bytes in all when the body is about to pass `maxBytes`; answers the new
    ///     largest size accepted (a multipart part without a declared length reserves its room as it comes).
    /// - Throws: `AWSError` (`XAmzContentSHA256Mismatch`, `SignatureDoesNotMatch`, `BadDigest`, `IncompleteBody`,
    ///   `EntityTooLarge`); the file is removed before any throw.
    ///   - region: write into this region of an existing file instead of a new file in `folder` (its length is
    ///     then the most bytes taken; nothing is removed on failure: the caller's record of the region says
    ///     whether it holds a part).
    ///   - paced: whether `minRate` applies here (a form's reader checks the pace of the whole form itself).
    ///   - checksum: the flexible checksum to compute when the request names none (a part of a multipart upload
    ///     begun with `x-amz-checksum-algorithm`: S3 computes the upload's algorithm for every part).
    func spool<Body: AsyncSequence>(
        _ body: Body, request: SignedRequest, payload: PayloadCheck, into folder: URL, maxBytes: Int,
        room: (@Sendable (Int) async throws -> Int)? = nil, region: SpoolRegion? = nil, paced: Bool = true,
        checksum: PayloadChecksum.Algorithm? = nil
    ) async throws -> SpooledObject where Body.Element == ByteBuffer {
        let path =
            region?.path ?? folder.appendingPathComponent(AtomicFile.temporaryName(kind: Self.temporaryKind)).path
        let descriptor =
            region == nil
            ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            : open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw AWSError.serviceUnavailable(
                .s3, "cannot create a temporary file in \(folder.path): \(String(cString: strerror(errno)))")
        }
        var kept = region != nil
        defer {
            close(descriptor)
            if !kept { unlink(path) }
        }
        if let region, lseek(descriptor, off_t(region.offset), SEEK_SET) != off_t(region.offset) {
            throw AWSError.serviceUnavailable(.s3, "cannot place the part: \(String(cString: strerror(errno)))")
        }
        if let declared = request.header("x-amz-decoded-content-length").flatMap(Int.init)
            ?? nonChunkedLength(request, payload),
            declared > maxBytes
        {
            throw AWSError.entityTooLarge(limit: maxBytes)
        }
        var sink = Sink(
            descriptor: descriptor, maxBytes: region.map { min($0.length, maxBytes) } ?? maxBytes,
            threadPool: threadPool)
        let checksumAlgorithm = Self.checksumAlgorithm(named: request) ?? checksum
        if let checksumAlgorithm { sink.checksum = PayloadChecksum(checksumAlgorithm) }

        var decoder: ChunkedPayloadDecoder?
        if case .chunked(let signing, let trailer) = payload {
            decoder = ChunkedPayloadDecoder(
                signing: signing, trailer: trailer, declaredTrailer: request.header("x-amz-trailer"))
        }
        var pace = UploadPace(minimum: paced ? minRate : 0)
        // Whether the body may be given more room: never past its region's length.
        var growable = room != nil && sink.maxBytes < (region?.length ?? Int.max)
        do {
            for try await buffer in body {
                if let seconds = pace.count(buffer.readableBytes) {
                    throw AWSError.tooSlow(received: pace.received, seconds: seconds, minimum: minRate)
                }
                // The buffer's bytes bound the object bytes it holds (aws-chunked framing is extra).
                if growable, let room, sink.size + buffer.readableBytes > sink.maxBytes {
                    let granted = try await room(sink.size + buffer.readableBytes)
                    // No room now: the body is refused where it passes what it has.
                    growable = granted >= sink.size + buffer.readableBytes
                    sink.maxBytes = max(sink.maxBytes, min(granted, region?.length ?? Int.max))
                }
                if var chunked = decoder {
                    try buffer.withUnsafeReadableBytes { raw in try chunked.feed(raw) { try sink.take($0) } }
                    decoder = chunked
                } else {
                    try buffer.withUnsafeReadableBytes { try sink.take($0) }
                }
                if sink.needsFlush { try await sink.flush() }
            }
        } catch let error as AWSError {
            throw error
        } catch let slow as BodyTooSlow {
            // Cut by the connection's timed check: the body stopped, or trickled, under the minimum.
            throw AWSError.tooSlow(received: slow.received, seconds: slow.seconds, minimum: slow.minimum)
        } catch let cut as BodyCutAtShutdown {
            // Still arriving when serve's shutdown grace ended: nothing is kept.
            throw AWSError.serviceUnavailable(.s3, cut.description)
        } catch {
            throw AWSError.incompleteBody("The upload was interrupted after \(sink.size) bytes.")
        }
        try await sink.flush()

        // What the client promised about the bytes.
        let sha256 = sink.sha256.finalize()
        let sha256Hex = SignatureV4.hex(Array(sha256))
        switch payload {
        case .sha256(let claimed):
            guard claimed == sha256Hex else {
                throw AWSError.contentSHA256Mismatch(claimed: claimed, computed: sha256Hex)
            }
        case .chunked:
            guard let decoder, decoder.isComplete else {
                throw AWSError.incompleteBody("The aws-chunked body ended before its final chunk.")
            }
            if let declared = request.header("x-amz-decoded-content-length").flatMap(Int.init), declared != sink.size {
                throw AWSError.incompleteBody(
                    "x-amz-decoded-content-length is \(declared) but the chunks held \(sink.size) bytes.")
            }
        case .unsigned:
            break
        }
        if case .unsigned = payload, let length = request.header("content-length").flatMap(Int.init),
            length != sink.size
        {
            throw AWSError.incompleteBody("The body ended after \(sink.size) of \(length) bytes.")
        }
        let md5 = Array(sink.md5.finalize())
        if let contentMD5 = request.header("content-md5") {
            guard Data(base64Encoded: contentMD5) == Data(md5) else {
                throw AWSError.badDigest("The Content-MD5 you specified did not match what we received.")
            }
        }
        if let checksum = sink.checksum {
            let header = checksum.algorithm.header
            let claimed = request.header(header) ?? decoder?.trailers.first { $0.0 == header }?.1
            if let claimed, claimed != checksum.finalValue() {
                throw AWSError.badDigest(
                    "The \(checksum.algorithm.rawValue.uppercased()) you specified did not match the calculated checksum."
                )
            }
        }
        try await threadPool.runIfActive {
            // A region's file is shared: fdatasync writes its data and size, not the rest of its inode.
            guard (region == nil ? fsync(descriptor) : fdatasync(descriptor)) == 0 else {
                throw AWSError.serviceUnavailable(
                    .s3, "cannot sync the upload to disk: \(String(cString: strerror(errno)))")
            }
        }
        kept = true
        return SpooledObject(
            path: path,
            sha256: ContentHash(hex: sha256Hex) ?? ContentHash(of: UnsafeRawBufferPointer(start: nil, count: 0)),
            md5: md5, size: sink.size, format: sink.format, offset: region?.offset,
            checksum: sink.checksum.map { ($0.algorithm.header, $0.finalValue()) })
    }

    /// The flexible checksum to compute over a body: the algorithm of its `x-amz-checksum-*` header, else of the
    /// trailer `x-amz-trailer` declares (the two cannot differ: `S3API.checkDigestHeaders`), else the one
    /// `x-amz-sdk-checksum-algorithm` names. The declared trailer comes before the SDK's name, so a trailer sent
    /// beside another algorithm's name is still checked.
    static func checksumAlgorithm(named request: SignedRequest) -> PayloadChecksum.Algorithm? {
        let algorithms = PayloadChecksum.Algorithm.allCases
        let trailer = request.header("x-amz-trailer")?.trimmingCharacters(in: .whitespaces).lowercased()
        let named = request.header("x-amz-sdk-checksum-algorithm")?.lowercased()
        return algorithms.first { request.header($0.header) != nil } ?? algorithms.first { $0.header == trailer }
            ?? algorithms.first { $0.rawValue == named }
    }

    private func nonChunkedLength(_ request: SignedRequest, _ payload: PayloadCheck) -> Int? {
        if case .chunked = payload { return nil }
        return request.header("content-length").flatMap(Int.init)
    }

    /// Removes temporary files a crash left in `folder`; returns how many.
    @discardableResult
    static func sweep(_ folder: URL) -> Int {
        let prefix = AtomicFile.temporaryPrefix + temporaryKind
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var removed = 0
        for name in names where name.hasPrefix(prefix) {
            let url = folder.appendingPathComponent(name)
            if TemporaryOwner.isStale(url), unlink(url.path) == 0 { removed += 1 }
        }
        return removed
    }

    /// Hashes, sniffs, counts and batches the object bytes.
    private struct Sink {
        let descriptor: Int32
        var maxBytes: Int
        let threadPool: NIOThreadPool
        var sha256 = SHA256()
        var md5 = Insecure.MD5()
        var checksum: PayloadChecksum?
        var size = 0
        var head: [UInt8] = []
        var format: ImageFormat?
        var batch = ByteBufferAllocator().buffer(capacity: S3BodySpool.writeBatch)

        init(descriptor: Int32, maxBytes: Int, threadPool: NIOThreadPool) {
            self.descriptor = descriptor
            self.maxBytes = maxBytes
            self.threadPool = threadPool
        }

        var needsFlush: Bool { batch.readableBytes >= S3BodySpool.writeBatch }

        mutating func take(_ bytes: UnsafeRawBufferPointer) throws {
            guard !bytes.isEmpty else { return }
            size += bytes.count
            guard size <= maxBytes else { throw AWSError.entityTooLarge(limit: maxBytes) }
            // JPEG and PNG show in 8 bytes; WebP needs 12 and HEIF's ftyp brands up to 64 (as the HTTP upload sniffs).
            if head.count < 64 {
                head.append(contentsOf: bytes.prefix(64 - head.count))
                format = head.withUnsafeBytes { ImageFormat.sniff($0) }
            }
            sha256.update(bufferPointer: bytes)
            md5.update(bufferPointer: bytes)
            checksum?.update(bytes)
            batch.writeBytes(bytes)
        }

        mutating func flush() async throws {
            guard batch.readableBytes > 0 else { return }
            let pending = batch
            batch.clear()
            let descriptor = self.descriptor
            try await threadPool.runIfActive {
                try pending.withUnsafeReadableBytes { raw in
                    if let failure = UploadSpool.writeAll(raw, to: descriptor) {
                        let reason = String(cString: strerror(failure))
                        throw failure == ENOSPC
                            ? AWSError("InsufficientStorage", status: 507, "The store's disk is full: \(reason).")
                            : AWSError.serviceUnavailable(.s3, "cannot write the upload: \(reason)")
                    }
                }
            }
        }
    }
}
