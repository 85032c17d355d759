// Multipart uploads into `uploads` (the AWS CLI switches to them at 8 MB): create, upload parts (or copy them from
// a range of a stored object), list them and the uploads in progress, complete (the parts joined, then taken in as
// one upload: ObjectCreated:CompleteMultipartUpload) or abort.
import Crypto
import FetchService
import Foundation
import HTTPTypes
import Hummingbird
import ImageCore
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

extension S3API {
    /// CreateMultipartUpload.
    func createMultipartUpload(_ request: Request, key: String, auth: Authenticated) throws -> Response {
        guard S3Bucket.isUploadKey(key) else {
            throw AWSError.invalidArgument(
                "The key '\(key)' is not a plain relative path (no empty, '.' or '..' part, no line break).")
        }
        // Every part then has a checksum of this algorithm (the client's, or computed), which ListParts lists and
        // CompleteMultipartUpload's list is checked against (until session 33 it was neither kept nor echoed).
        let checksum = try Self.namedChecksumAlgorithm(request)
        let type = try Self.namedChecksumType(request, algorithm: checksum)
        let id = try multipart.create(
            MultipartUpload(
                key: key, contentType: request.headers[.contentType], metadata: Self.userMetadata(request),
                initiated: Date(), headers: S3ObjectOptions.keptHeaders(Self.header(of: request)),
                initiator: auth.credential.accessKeyID, checksumAlgorithm: checksum?.name,
                checksumType: type?.rawValue))
        var echoed: [(String, String)] = []
        if let checksum {
            echoed.append(("x-amz-checksum-algorithm", checksum.name))
            echoed.append(("x-amz-checksum-type", (type ?? .standard(for: checksum)).rawValue))
        }
        return try AWSResponses.xml(
            InitiateMultipartUploadResult(bucket: S3Bucket.uploads.rawValue, key: key, uploadID: id),
            root: "InitiateMultipartUploadResult", headers: AWSResponses.fields(echoed))
    }

    /// CreateMultipartUpload's `x-amz-checksum-type`, if it names one: how the object's checksum is made from the
    /// parts' (until session 36 the header was ignored and the object had no checksum).
    /// - Throws: `InvalidRequest` for another value, one without `x-amz-checksum-algorithm`, or a type the
    ///   algorithm does not have (full-object SHA, composite CRC64NVME).
    static func namedChecksumType(_ request: Request, algorithm: PayloadChecksum.Algorithm?) throws
        -> MultipartChecksumType?
    {
        guard let name = request.headers[AWSResponses.name("x-amz-checksum-type")] else { return nil }
        guard let type = MultipartChecksumType(rawValue: name.uppercased()) else {
            throw AWSError.invalidRequest(
                "Value for x-amz-checksum-type header is invalid: \(name) (COMPOSITE or FULL_OBJECT).")
        }
        guard let algorithm else {
            throw AWSError.invalidRequest(
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
        }
        guard type.isSupported(by: algorithm) else {
            throw AWSError.invalidRequest(
                "The \(type.rawValue) checksum type cannot be used with the \(algorithm.rawValue) checksum algorithm.")
        }
        return type
    }

    /// UploadPart: the part's body streamed into the upload's folder.
    func uploadPart(
        _ request: Request, key: String, uploadID: String, query: [String: String], signed: SignedRequest,
        auth: Authenticated, context: AWSRequestContext
    ) async throws -> Response {
        guard let number = query["partNumber"].flatMap(Int.init), (1...MultipartUploads.maxPartNumber).contains(number)
        else {
            throw AWSError.invalidArgument("Part number must be an integer between 1 and 10000, inclusive.")
        }
        let (upload, folder) = try multipart.upload(uploadID, key: key)
        // S3 keeps one checksum algorithm per upload: a part naming another is refused before its body is read.
        if let expected = upload.checksum, let named = S3BodySpool.checksumAlgorithm(named: signed), named != expected {
            throw AWSError.invalidRequest(
                "Checksum Type mismatch occurred, expected checksum Type: \(expected.rawValue), actual checksum Type: "
                    + named.rawValue)
        }
        return try await inUpload(uploadID, folder: folder) {
            try await receivePart(
                request, number: number, uploadID: uploadID, folder: folder, checksum: upload.checksum,
                signed: signed, auth: auth, context: context)
        }
    }

    /// A part's work in its upload's folder. A failure once the upload was aborted meanwhile (its folder is gone,
    /// and nothing of the part can be written or kept there) is `NoSuchUpload`, as S3 answers a part of an upload
    /// that is no longer there (until session 33 the part recreated the folder with its files and no record, which
    /// nothing removed, and was answered 200 or a 503 naming the missing file).
    func inUpload<Result>(_ uploadID: String, folder: URL, _ work: () async throws -> Result) async throws -> Result {
        do {
            return try await work()
        } catch {
            if !FileManager.default.fileExists(atPath: folder.path) { throw AWSError.noSuchUpload(uploadID) }
            throw error
        }
    }

    /// Receives part `number` into the upload in `folder` and keeps it, with its `checksum` when the request names
    /// none.
    private func receivePart(
        _ request: Request, number: Int, uploadID: String, folder: URL, checksum: PayloadChecksum.Algorithm?,
        signed: SignedRequest, auth: Authenticated, context: AWSRequestContext
    ) async throws -> Response {
        // A part of the size the upload's parts have goes to its place in the object file: written once.
        let declared =
            signed.header("x-amz-decoded-content-length").flatMap(Int.init)
            ?? (signed.header("content-encoding")?.contains("aws-chunked") == true
                ? nil : signed.header("content-length").flatMap(Int.init))
        // The object limit holds for the upload as a whole: a part past it is refused before a byte of it is
        // written (parts piled up on disk until completion said EntityTooLarge). The part's room is reserved first,
        // so parts in flight at once count each other (each saw only the kept parts until session 30); a body
        // without a declared length reserves as it comes.
        let multipart = self.multipart
        let limit = maxObjectBytes
        let reservation: PartReservation
        do {
            reservation = try await threadPool.runIfActive {
                try multipart.reserve(
                    number, minimum: declared ?? 0, preferred: declared ?? PartReservations.step, in: folder,
                    limit: limit)
            }
        } catch let error as AWSError where error.code == "EntityTooLarge" {
            context.stopReading()
            throw error
        }
        defer { reservation.release() }
        // A completion claims the upload, then waits for the parts it sees reserved: this part is one of them, or it
        // sees the claim here and is refused before a byte of it is written (until session 33 a part sent during a
        // completion was written into the object being taken in).
        guard multipart.isOpen(folder) else { throw AWSError.noSuchUpload(uploadID) }
        var room: (@Sendable (Int) async throws -> Int)?
        if declared == nil {
            let threadPool = self.threadPool
            room = { @Sendable needed in try await threadPool.runIfActive { try reservation.grow(to: needed) } }
        }
        let region = declared.flatMap {
            multipart.assembly.place(upload: uploadID, folder: folder, number: number, size: $0)
        }
        defer { if region != nil { multipart.assembly.finished(upload: uploadID, number: number) } }
        if region != nil { multipart.unplace(number, in: folder) }
        let part: SpooledObject
        do {
            part = try await receive(
                request, signed: signed, auth: auth, into: folder, context: context, region: region,
                maxBytes: reservation.bytes, room: room, checksum: checksum)
        } catch let error as AWSError where error.code == "EntityTooLarge" {
            throw AWSError.partTooLarge(limit: limit, number: number, others: reservation.others)
        }
        do {
            try multipart.keep(part, number: number, in: folder)
        } catch {
            part.discard()
            throw error
        }
        if region != nil {
            try await threadPool.runIfActive {
                multipart.assembly.extendHash(upload: uploadID, folder: folder) { multipart.parts(in: folder) }
            }
        }
        return AWSResponses.empty(
            .ok, headers: AWSResponses.fields([("ETag", part.eTag)] + (part.checksum.map { [$0] } ?? [])))
    }

    /// UploadPartCopy: part `partNumber` is a byte range (`x-amz-copy-source-range`, or the whole object) of a
    /// stored object, with the copy preconditions CopyObject takes.
    func uploadPartCopy(
        _ request: Request, key: String, uploadID: String, query: [String: String], source: String,
        auth: Authenticated
    ) async throws -> Response {
        guard let number = query["partNumber"].flatMap(Int.init), (1...MultipartUploads.maxPartNumber).contains(number)
        else {
            throw AWSError.invalidArgument("Part number must be an integer between 1 and 10000, inclusive.")
        }
        let (upload, folder) = try multipart.upload(uploadID, key: key)
        return try await inUpload(uploadID, folder: folder) {
            try await receiveCopiedPart(
                request, number: number, uploadID: uploadID, folder: folder, checksum: upload.checksum, source: source,
                auth: auth)
        }
    }

    /// Copies part `number` of the upload in `folder` from `source` and keeps it, with its `checksum`.
    private func receiveCopiedPart(
        _ request: Request, number: Int, uploadID: String, folder: URL, checksum: PayloadChecksum.Algorithm?,
        source: String, auth: Authenticated
    ) async throws -> Response {
        let copied = try await copySource(request, source: source, auth: auth)
        let info = copied.info
        let range = try Self.copyRange(request.headers[AWSResponses.name("x-amz-copy-source-range")], size: info.size)
        let multipart = self.multipart
        let limit = maxObjectBytes
        let reservation = try await threadPool.runIfActive {
            try multipart.reserve(number, minimum: range.count, preferred: range.count, in: folder, limit: limit)
        }
        defer { reservation.release() }
        // As UploadPart: refused once a completion has claimed the upload.
        guard multipart.isOpen(folder) else { throw AWSError.noSuchUpload(uploadID) }
        let part = try await copyPart(info.file, range: range, into: folder, checksum: checksum)
        do {
            try multipart.keep(
                part, number: number, in: folder, copiedFrom: copied.bucket == .originals ? copied.key : nil)
        } catch {
            part.discard()
            throw error
        }
        return try AWSResponses.xml(
            CopyPartResult(
                lastModified: S3XML.timestamp(Date()), eTag: part.eTag,
                checksums: PartChecksums(part.checksum.flatMap { PartChecksum(header: $0.header, value: $0.value) })),
            root: "CopyPartResult")
    }

    /// The bytes `x-amz-copy-source-range: bytes=FIRST-LAST` names (both given, within the object), or all of them.
    static func copyRange(_ header: String?, size: Int) throws -> Range<Int> {
        guard let header else { return 0..<size }
        let invalid = AWSError(
            "InvalidArgument", status: 400,
            "Range specified is not valid for source object of size: \(size) (x-amz-copy-source-range: \(header); "
                + "the form is bytes=FIRST-LAST).")
        guard header.hasPrefix("bytes=") else { throw invalid }
        let bounds = header.dropFirst("bytes=".count).split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let first = Int(bounds[0]), let last = Int(bounds[1]), first >= 0, first <= last,
            last < size
        else { throw invalid }
        return first..<(last + 1)
    }

    /// Copies `range` of `file` into a new part file in `folder`, with its MD5 (the part's ETag) and, when the upload
    /// has one, its `checksum`.
    func copyPart(_ file: URL, range: Range<Int>, into folder: URL, checksum algorithm: PayloadChecksum.Algorithm?)
        async throws -> SpooledObject
    {
        let path = folder.appendingPathComponent(AtomicFile.temporaryName(kind: S3BodySpool.temporaryKind)).path
        return try await threadPool.runIfActive {
            let input = open(file.path, O_RDONLY | O_CLOEXEC)
            guard input >= 0 else {
                throw AWSError.serviceUnavailable(
                    .s3, "cannot read \(file.lastPathComponent): \(String(cString: strerror(errno)))")
            }
            defer { close(input) }
            let output = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard output >= 0 else {
                throw AWSError.serviceUnavailable(
                    .s3, "cannot create a temporary file in \(folder.path): \(String(cString: strerror(errno)))")
            }
            var kept = false
            defer {
                close(output)
                if !kept { unlink(path) }
            }
            var md5 = Insecure.MD5()
            var checksum = algorithm.map { PayloadChecksum($0) }
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var offset = range.lowerBound
            while offset < range.upperBound {
                let wanted = min(buffer.count, range.upperBound - offset)
                let count = buffer.withUnsafeMutableBytes { pread(input, $0.baseAddress, wanted, off_t(offset)) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else {
                    throw AWSError.serviceUnavailable(
                        .s3, "cannot read \(file.lastPathComponent) at \(offset): the object changed or is unreadable")
                }
                try buffer.withUnsafeBytes { raw in
                    let slice = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                    md5.update(bufferPointer: slice)
                    checksum?.update(slice)
                    if let failure = UploadSpool.writeAll(slice, to: output) {
                        throw failure == ENOSPC
                            ? AWSError("InsufficientStorage", status: 507, "The store's disk is full.")
                            : AWSError.serviceUnavailable(
                                .s3, "cannot write the part: \(String(cString: strerror(failure)))")
                    }
                }
                offset += count
            }
            guard fsync(output) == 0 else {
                throw AWSError.serviceUnavailable(
                    .s3, "cannot sync the part to disk: \(String(cString: strerror(errno)))")
            }
            kept = true
            // A part's SHA-256 is not kept (completing hashes the whole object), so it is not computed here.
            return SpooledObject(
                path: path, sha256: ContentHash(of: UnsafeRawBufferPointer(start: nil, count: 0)),
                md5: Array(md5.finalize()), size: range.count, format: nil,
                checksum: checksum.map { ($0.algorithm.header, $0.finalValue()) })
        }
    }

    /// ListMultipartUploads: the uploads in progress (only `uploads` takes them), by key and initiation, after
    /// `key-marker`/`upload-id-marker`, under `prefix`, rolled up at `delimiter`, at most `max-uploads`.
    func listMultipartUploads(bucket: S3Bucket, query: [String: String]) throws -> Response {
        let prefix = query["prefix"] ?? ""
        let delimiter = query["delimiter"].flatMap { $0.isEmpty ? nil : $0 }
        var maxUploads = 1000
        if let text = query["max-uploads"] {
            guard let value = Int(text), value >= 0 else {
                throw AWSError.invalidArgument("max-uploads must be an integer from 0 to 2147483647: \(text)")
            }
            maxUploads = min(value, 1000)
        }
        let keyMarker = query["key-marker"] ?? ""
        let idMarker = query["upload-id-marker"] ?? ""
        let urlEncoded = try Self.urlEncoded(query)
        let all = bucket == .uploads ? multipart.all() : []
        var uploads: [ListMultipartUploadsResult.Upload] = []
        var prefixes: [String] = []
        var last: (key: String, id: String)?
        var truncated = false
        let owner = Self.owner
        for entry in all {
            let key = entry.upload.key
            guard key.hasPrefix(prefix) else { continue }
            if !keyMarker.isEmpty {
                let keyBytes = Array(key.utf8)
                let markerBytes = Array(keyMarker.utf8)
                // After the marker key; with an upload-id marker, the marker key's later uploads too (ids sort in
                // the order the listing has: `MultipartUploads.newID`).
                if keyBytes.lexicographicallyPrecedes(markerBytes) { continue }
                if keyBytes == markerBytes, idMarker.isEmpty || entry.id <= idMarker { continue }
                // A common prefix as the marker: its keys were all rolled up on the page before.
                if let delimiter, keyMarker.hasSuffix(delimiter), key.hasPrefix(keyMarker) { continue }
            }
            var commonPrefix: String?
            if let delimiter, let range = key.dropFirst(prefix.count).range(of: delimiter) {
                commonPrefix = prefix + String(key.dropFirst(prefix.count)[..<range.upperBound])
            }
            if let commonPrefix, prefixes.last == commonPrefix { continue }
            if uploads.count + prefixes.count == maxUploads {
                truncated = true
                break
            }
            if let commonPrefix {
                prefixes.append(commonPrefix)
                last = (commonPrefix, "")
            } else {
                uploads.append(
                    .init(
                        key: Self.listed(key, urlEncoded: urlEncoded), uploadID: entry.id,
                        initiator: entry.upload.initiator.map { S3Owner(id: $0, displayName: $0) } ?? owner,
                        owner: owner, initiated: S3XML.timestamp(entry.upload.initiated),
                        checksumAlgorithm: entry.upload.checksumAlgorithm,
                        checksumType: entry.upload.objectChecksumType?.rawValue))
                last = (key, entry.id)
            }
        }
        let result = ListMultipartUploadsResult(
            bucket: bucket.rawValue, keyMarker: Self.listed(keyMarker, urlEncoded: urlEncoded),
            uploadIDMarker: idMarker,
            nextKeyMarker: truncated ? last.map { Self.listed($0.key, urlEncoded: urlEncoded) } : nil,
            nextUploadIDMarker: truncated ? last?.id : nil,
            prefix: query["prefix"].map { Self.listed($0, urlEncoded: urlEncoded) },
            delimiter: delimiter.map { Self.listed($0, urlEncoded: urlEncoded) }, maxUploads: maxUploads,
            isTruncated: truncated, uploads: uploads,
            commonPrefixes: prefixes.map { .init(prefix: Self.listed($0, urlEncoded: urlEncoded)) })
        return try AWSResponses.xml(result, root: "ListMultipartUploadsResult")
    }

    /// The object file itself as the completed object, when the chosen parts are parts 1...k placed in order, each
    /// but the last a full slot, and no other part is placed past them: cut to their length, synced, hashed from
    /// where the upload's hash had read. The answer is a second name (a hard link) of the object file, which the
    /// ingest takes; the file keeps its own name, with every part in it, until the upload's folder goes, so a
    /// refused completion leaves the parts as they were (until session 33 it deleted them).
    func assembled(_ chosen: [UploadedPart], uploaded: [UploadedPart], uploadID: String, folder: URL) async throws
        -> SpooledObject?
    {
        guard let slot = MultipartAssembly.slot(in: folder) else { return nil }
        for (index, part) in chosen.enumerated() {
            guard part.number == index + 1, part.offset != nil,
                index == chosen.count - 1 ? part.size <= slot : part.size == slot
            else { return nil }
        }
        // Cutting the file would cut off a part placed past the chosen ones: the join reads the chosen ones instead.
        guard !uploaded.contains(where: { $0.offset != nil && $0.number > chosen.count }) else { return nil }
        let size = chosen.reduce(0) { $0 + $1.size }
        guard size <= maxObjectBytes else { throw AWSError.entityTooLarge(limit: maxObjectBytes) }
        let path = folder.appendingPathComponent(MultipartAssembly.objectName).path
        let name = layout.uploads.appendingPathComponent(AtomicFile.temporaryName(kind: S3BodySpool.temporaryKind))
            .path
        let assembly = multipart.assembly
        return try await threadPool.runIfActive {
            guard let hash = assembly.digest(upload: uploadID, chosen: chosen) else { return nil }
            let descriptor = open(path, O_RDWR | O_CLOEXEC)
            guard descriptor >= 0 else { return nil }
            defer { close(descriptor) }
            // Parts placed past the chosen ones (uploaded, not listed) are cut off with the tail.
            guard ftruncate(descriptor, off_t(size)) == 0, fsync(descriptor) == 0 else {
                throw AWSError.serviceUnavailable(
                    .s3, "cannot finish the object on disk: \(String(cString: strerror(errno)))")
            }
            var head = [UInt8](repeating: 0, count: 64)
            let count = head.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 64, 0) }
            let format = head.prefix(max(0, count)).withUnsafeBytes { ImageFormat.sniff($0) }
            let hex = SignatureV4.hex(Array(hash.finalize()))
            guard link(path, name) == 0 else {
                throw AWSError.serviceUnavailable(
                    .s3, "cannot name the object for the upload: \(String(cString: strerror(errno)))")
            }
            return SpooledObject(
                path: name,
                sha256: ContentHash(hex: hex) ?? ContentHash(of: UnsafeRawBufferPointer(start: nil, count: 0)),
                md5: [], size: size, format: format)
        }
    }

    /// The key of the original a completed upload would be a copy of: one of its parts was copied from an original
    /// (UploadPartCopy) whose content is the object's.
    func copiedOriginal(_ object: SpooledObject, parts: [UploadedPart], folder: URL) -> String? {
        for key in multipart.copiedOriginals(parts.map(\.number), in: folder) {
            guard let file = S3Bucket.originals.file(for: key, in: layout),
                file.deletingPathExtension().lastPathComponent == object.sha256.hex,
                FileManager.default.fileExists(atPath: file.path)
            else { continue }
            return key
        }
        return nil
    }

    /// ListParts.
    func listParts(bucket: S3Bucket, key: String, uploadID: String, query: [String: String]) throws -> Response {
        guard bucket == .uploads else { throw AWSError.noSuchUpload(uploadID) }
        let (upload, folder) = try multipart.upload(uploadID, key: key)
        let marker = query["part-number-marker"].flatMap(Int.init) ?? 0
        let maxParts = min(max(query["max-parts"].flatMap(Int.init) ?? 1000, 0), 1000)
        let after = multipart.parts(in: folder).filter { $0.number > marker }
        let page = Array(after.prefix(maxParts))
        return try AWSResponses.xml(
            ListPartsResult(
                bucket: bucket.rawValue, key: key, uploadID: uploadID, partNumberMarker: marker,
                nextPartNumberMarker: page.last?.number ?? marker, maxParts: maxParts,
                isTruncated: after.count > page.count,
                parts: page.map {
                    .init(
                        partNumber: $0.number, lastModified: S3XML.timestamp($0.modified), eTag: $0.eTag, size: $0.size,
                        checksums: PartChecksums($0.checksum))
                }, checksumAlgorithm: upload.checksumAlgorithm, checksumType: upload.objectChecksumType?.rawValue),
            root: "ListPartsResult")
    }

    /// CompleteMultipartUpload: the listed parts (ascending, ETags matching, each but the last at least 5 MiB)
    /// joined and taken in as an upload; the upload's folder goes. A failed completion leaves the upload and its
    /// parts as they were.
    func completeMultipartUpload(
        _ request: Request, key: String, uploadID: String, signed: SignedRequest, auth: Authenticated,
        context: AWSRequestContext
    ) async throws -> Response {
        _ = try multipart.upload(uploadID, key: key)
        try await checkWritePreconditions(request, key: key)
        let document = try S3XML.decode(
            CompleteMultipartUpload.self,
            from: try await smallBody(request, signed: signed, auth: auth, context: context))
        guard !document.parts.isEmpty else {
            throw AWSError.malformedXML("CompleteMultipartUpload lists no part")
        }
        for (previous, listed) in zip(document.parts, document.parts.dropFirst())
        where listed.partNumber <= previous.partNumber {
            throw AWSError(
                "InvalidPartOrder", status: 400,
                "The list of parts was not in ascending order. The parts list must be specified in order by part number."
            )
        }
        // The upload is this completion's from here: a part sent now is NoSuchUpload, and the parts already under
        // way are waited for, so nothing writes the parts while they are checked, hashed and taken in (until
        // session 33 a part sent again during a completion rewrote the bytes being installed as the original).
        let (upload, folder) = try multipart.claim(uploadID, key: key)
        let completed: (eTag: String, checksum: S3ObjectChecksum?)
        do {
            completed = try await complete(
                document, key: key, upload: upload, uploadID: uploadID, folder: folder, request: request.headers)
        } catch {
            multipart.unclaim(folder)
            throw error
        }
        multipart.remove(folder)
        return try AWSResponses.xml(
            CompleteMultipartUploadResult(
                // An absolute URL, as S3 gives it.
                location: "http://\(request.head.authority ?? "localhost")/\(S3Bucket.uploads.rawValue)/"
                    + key.split(separator: "/", omittingEmptySubsequences: false)
                    .map { SignatureV4.uriEncode(String($0)) }.joined(separator: "/"),
                bucket: S3Bucket.uploads.rawValue, key: key, eTag: completed.eTag, checksum: completed.checksum),
            root: "CompleteMultipartUploadResult")
    }

    /// Takes the listed parts of the claimed upload in `folder` in as one upload, once no part is under way.
    /// - Parameter request: the completion's headers (the object checksum and type it expects).
    /// - Returns: the object's ETag and checksum.
    private func complete(
        _ document: CompleteMultipartUpload, key: String, upload: MultipartUpload, uploadID: String, folder: URL,
        request: HTTPFields
    ) async throws -> (eTag: String, checksum: S3ObjectChecksum?) {
        try await waitForPartsInFlight(in: folder)
        let parts = multipart.parts(in: folder)
        let uploaded = Dictionary(parts.map { ($0.number, $0) }, uniquingKeysWith: { $1 })
        var chosen: [UploadedPart] = []
        for listed in document.parts {
            func bare(_ text: String) -> String { text.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            guard let part = uploaded[listed.partNumber], listed.eTag.map(bare) ?? bare(part.eTag) == bare(part.eTag)
            else {
                throw AWSError.invalidPart(
                    "One or more of the specified parts could not be found (part \(listed.partNumber)), or its ETag did not match."
                )
            }
            chosen.append(part)
        }
        try await checkListedChecksums(document.parts, of: chosen)
        // After the listed parts and checksums are found right: a wrong one is InvalidPart whatever else is missing.
        try Self.checkPartChecksumsListed(document.parts, upload: upload)
        for part in chosen.dropLast() where part.size < MultipartUploads.minPartSize {
            throw AWSError(
                "EntityTooSmall", status: 400,
                "Your proposed upload is smaller than the minimum allowed object size: part \(part.number) has \(part.size) bytes (each part but the last needs 5 MiB)."
            )
        }
        let eTag = MultipartUploads.multipartETag(chosen)
        let checksum = try await objectChecksum(of: chosen, upload: upload, request: request)
        let object: SpooledObject
        if let assembled = try await assembled(chosen, uploaded: parts, uploadID: uploadID, folder: folder) {
            object = assembled
        } else {
            object = try await join(
                chosen.map(\.file), into: layout.uploads, md5: false, ranges: chosen.map { ($0.offset, $0.size) })
        }
        // A copy of an original onto itself (the AWS CLI's mv of a large original into uploads: its parts copied
        // with UploadPartCopy): refused as CopyObject refuses it; the parts stay until the client aborts, as after
        // any failed completion.
        if let original = copiedOriginal(object, parts: chosen, folder: folder) {
            object.discard()
            throw Self.copyOfAnOriginal(original)
        }
        try await ingest(
            object, key: key, eTag: eTag, contentType: upload.contentType, metadata: upload.metadata,
            headers: upload.headers ?? [:], checksum: checksum,
            event: EventName(rawValue: "ObjectCreated:CompleteMultipartUpload"))
        return (eTag, checksum)
    }

    /// The checksum of the object the chosen parts make, when the upload named an algorithm, checked against what
    /// the completion expects of it, as S3 checks it: its `x-amz-checksum-type` must be the upload's and an
    /// `x-amz-checksum-*` of the upload's algorithm the object's value (`BadDigest`; the SDKs' transfer managers
    /// send both for an upload given the whole file's CRC). Until session 36 the object had no checksum.
    func objectChecksum(of parts: [UploadedPart], upload: MultipartUpload, request: HTTPFields) async throws
        -> S3ObjectChecksum?
    {
        let type = upload.objectChecksumType
        if let named = request[AWSResponses.name("x-amz-checksum-type")], named.uppercased() != type?.rawValue {
            throw AWSError(
                "BadDigest", status: 400,
                "The upload was created using the \(type?.rawValue ?? "no") checksum type. The complete request "
                    + "specified \(named).")
        }
        let claimed = PayloadChecksum.Algorithm.allCases.compactMap { algorithm in
            request[AWSResponses.name(algorithm.header)].map { (algorithm, $0) }
        }
        guard let algorithm = upload.checksum, let type else {
            if let (algorithm, _) = claimed.first {
                throw AWSError.invalidRequest(
                    "The upload was created without a checksum algorithm: the complete request cannot give its "
                        + "\(algorithm.name) (create it with x-amz-checksum-algorithm).")
            }
            return nil
        }
        let computed = try await threadPool.runIfActive {
            MultipartUploads.objectChecksum(of: parts, algorithm, type: type)
        }
        guard let computed else {
            throw AWSError.serviceUnavailable(.s3, "the parts could not be read to compute the object's checksum")
        }
        for (named, value) in claimed {
            guard named == algorithm else {
                throw AWSError.invalidRequest(
                    "Checksum Type mismatch occurred, expected checksum Type: \(algorithm.rawValue), actual checksum "
                        + "Type: \(named.rawValue)")
            }
            // A composite value may come with or without its part count.
            guard value == computed.value || value + "-\(parts.count)" == computed.value else {
                throw AWSError(
                    "BadDigest", status: 400,
                    "The \(algorithm.rawValue) you specified did not match the calculated checksum.")
            }
        }
        return computed
    }

    /// Refuses the completion of a composite-checksum upload whose list leaves out a part's checksum of the upload's
    /// algorithm, as S3 does: the object's checksum is made of the parts' ones, which the client vouches for by
    /// listing them (until session 36 such a list was taken). A full-object upload's list needs none.
    static func checkPartChecksumsListed(_ listed: [CompleteMultipartUpload.Part], upload: MultipartUpload) throws {
        guard let algorithm = upload.checksum, upload.objectChecksumType == .composite else { return }
        if let missing = listed.first(where: { $0.checksums.values[algorithm] == nil }) {
            throw AWSError.invalidRequest(
                "The upload was created using a \(algorithm.name.lowercased()) checksum. The complete request must "
                    + "include the checksum for each part. It was missing for part \(missing.partNumber) in the "
                    + "request.")
        }
    }

    /// Refuses a completion whose list gives a part a checksum (`ChecksumSHA256`, …) that is not the part's, as S3
    /// refuses it (`InvalidPart`; until session 33 the listed checksums were ignored). The part's recorded checksum
    /// decides; one of another algorithm than the part was uploaded with is computed from its bytes.
    func checkListedChecksums(_ listed: [CompleteMultipartUpload.Part], of parts: [UploadedPart]) async throws {
        for (entry, part) in zip(listed, parts) {
            for (algorithm, claimed) in entry.checksums.values.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                var actual = part.checksum.flatMap { $0.algorithm == algorithm ? $0.value : nil }
                if actual == nil {
                    actual = try await threadPool.runIfActive { MultipartUploads.checksum(of: part, algorithm)?.value }
                }
                guard actual == claimed else {
                    throw AWSError.invalidPart(
                        "One or more of the specified parts could not be found. The part may not have been uploaded, "
                            + "or the specified entity tag may not match the part's entity tag (part \(part.number): "
                            + "Checksum\(algorithm.name) \(claimed) is not the part's checksum).")
                }
            }
        }
    }

    /// How long a completion waits for the parts under way when it began.
    static let partsInFlightWait: Duration = .seconds(60)

    /// Waits until no part is being received into the claimed upload in `folder`: each one begun before the claim
    /// is kept or refused first, and the completion then sees the parts as they are.
    /// - Throws: `ServiceUnavailable` when parts are still arriving after `partsInFlightWait` (the completion can
    ///   be sent again).
    func waitForPartsInFlight(in folder: URL) async throws {
        let multipart = self.multipart
        let clock = ContinuousClock()
        let deadline = clock.now + Self.partsInFlightWait
        while true {
            let numbers = try await threadPool.runIfActive { multipart.partsInFlight(in: folder) }
            if numbers.isEmpty { return }
            guard clock.now < deadline else {
                throw AWSError.serviceUnavailable(
                    .s3,
                    "part \(numbers.map(String.init).joined(separator: ", ")) of the upload is still being received; "
                        + "complete the upload once its answer came")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
