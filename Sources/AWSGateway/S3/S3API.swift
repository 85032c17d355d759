// The S3 API over the store, path-style (`/BUCKET/KEY`): which operation a request is, and what the operations
// share. The operations are in S3API+Objects (get, head, put, copy, delete), S3API+List and S3API+Multipart.
import FetchService
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOPosix
import PipelineCore

/// Answers S3 requests with the store's areas as buckets.
struct S3API: Sendable {
    let layout: StoreLayout
    /// The HTTP API's upload checks, index and content lifecycle: an S3 upload is an HTTP upload by another door.
    let images: ImageAPI
    let catalog: S3ObjectCatalog
    /// Small objects read recently (thumbnails), served without file I/O.
    let cache: S3ObjectCache
    let multipart: MultipartUploads
    let spool: S3BodySpool
    let threadPool: NIOThreadPool
    let region: String
    /// `aws.cors_origins`, which GetBucketCors reports as each bucket's rule.
    let crossOrigin: CrossOriginPolicy
    let logger: Logger
    /// When the buckets came to be (ListBuckets' CreationDate): the store's creation.
    let created: Date
    /// Each bucket's folder path, with a trailing slash (a key's file path is this and the key).
    let folderPaths: [S3Bucket: String]

    init(
        images: ImageAPI, region: String, crossOrigin: CrossOriginPolicy = CrossOriginPolicy(origins: []),
        logger: Logger, threadPool: NIOThreadPool = .singleton
    ) {
        layout = images.runtime.layout
        self.images = images
        catalog = S3ObjectCatalog(layout: layout)
        cache = S3ObjectCache()
        multipart = MultipartUploads(layout: layout)
        spool = S3BodySpool(threadPool: threadPool, minRate: images.settings.minUploadRate)
        self.threadPool = threadPool
        self.region = region
        self.crossOrigin = crossOrigin
        self.logger = logger
        var folders: [S3Bucket: String] = [:]
        for bucket in S3Bucket.allCases { folders[bucket] = bucket.folder(in: images.runtime.layout).path + "/" }
        folderPaths = folders
        created =
            (try? FileManager.default.attributesOfItem(atPath: layout.root.path)[.creationDate] as? Date)
            ?? (try? FileManager.default.attributesOfItem(atPath: layout.originals.path)[.modificationDate] as? Date)
            ?? Date(timeIntervalSince1970: 0)
    }

    /// The largest object accepted: the HTTP API's body limit.
    var maxObjectBytes: Int { images.settings.maxBodyBytes }

    /// Dispatches an authenticated S3 request.
    func respond(
        to request: Request, signed: SignedRequest, auth: Authenticated, context: AWSRequestContext
    ) async throws -> Response {
        let (bucketName, key) = Self.split(signed.path)
        let query = signed.queryItems
        let method = request.method
        guard let bucketName else {
            guard method == .get else {
                throw AWSError.methodNotAllowed("The specified method is not allowed against this resource.")
            }
            return try listBuckets(auth)
        }
        guard let bucket = S3Bucket(rawValue: bucketName) else {
            if method == .put && key == nil {
                throw AWSError.notImplemented(
                    "CreateBucket (picpipe's buckets are the store's areas: uploads, originals, thumbnails)")
            }
            throw AWSError.noSuchBucket(bucketName)
        }
        guard auth.credential.allows(bucket: bucket.rawValue) else {
            throw AWSError.accessDenied(
                "Access Denied: the key \(auth.credential.accessKeyID) may not use the bucket \(bucket.rawValue) (aws.credentials buckets)."
            )
        }
        if method != .get && method != .head {
            try Self.requireWriter(
                auth, operation: "\(method.rawValue) /\(bucket.rawValue)\(key.map { "/" + $0 } ?? "")")
        }
        guard let key else {
            return try await bucketOperation(
                request, bucket: bucket, query: query, signed: signed, auth: auth, context: context)
        }
        guard key.utf8.count <= 1024 else { throw AWSError.keyTooLong }
        try Self.checkDigestHeaders(request)
        // The operations S3 gives a `versionId` (GetObject, HeadObject, DeleteObject and the subresources) are GETs,
        // HEADs and DELETEs; an UploadPart or CompleteMultipartUpload takes none.
        if method == .get || method == .head || method == .delete {
            try Self.refuseVersion(query["versionId"], argument: "versionId")
        }
        for unsupported in ["acl", "tagging", "retention", "legal-hold", "torrent", "restore", "select", "attributes"]
        where query[unsupported] != nil {
            throw AWSError.notImplemented("the ?\(unsupported) subresource")
        }
        // A customer's key would have to travel over HTTPS; the rest are options of writes the store cannot honour
        // (until session 27 they were dropped and the write answered as a success).
        try S3ObjectOptions.refuseCustomerKeys(Self.header(of: request))
        if (method == .put && query["uploadId"] == nil) || (method == .post && query["uploads"] != nil) {
            try S3ObjectOptions.refuseUnsupported(Self.header(of: request))
        }
        switch method {
        case .get:
            if let id = query["uploadId"] { return try listParts(bucket: bucket, key: key, uploadID: id, query: query) }
            return try await getObject(request, bucket: bucket, key: key, query: query, context: context)
        case .head:
            return try await getObject(request, bucket: bucket, key: key, query: query, context: context)
        case .put:
            // The refusal names the operation asked for (a CopyObject into thumbnails said PutObject until session 33).
            let copies = request.headers[AWSResponses.name("x-amz-copy-source")] != nil
            let operation =
                query["uploadId"] != nil
                ? (copies ? "UploadPartCopy" : "UploadPart") : (copies ? "CopyObject" : "PutObject")
            try requireUploads(bucket, operation: operation)
            if let id = query["uploadId"] {
                if let source = request.headers[AWSResponses.name("x-amz-copy-source")] {
                    return try await uploadPartCopy(
                        request, key: key, uploadID: id, query: query, source: source, auth: auth)
                }
                return try await uploadPart(
                    request, key: key, uploadID: id, query: query, signed: signed, auth: auth, context: context)
            }
            if let source = request.headers[AWSResponses.name("x-amz-copy-source")] {
                return try await copyObject(request, key: key, source: source, signed: signed, auth: auth)
            }
            return try await putObject(request, key: key, signed: signed, auth: auth, context: context)
        case .post:
            try requireUploads(
                bucket, operation: query["uploads"] != nil ? "CreateMultipartUpload" : "CompleteMultipartUpload")
            if query["uploads"] != nil { return try createMultipartUpload(request, key: key, auth: auth) }
            if let id = query["uploadId"] {
                return try await completeMultipartUpload(
                    request, key: key, uploadID: id, signed: signed, auth: auth, context: context)
            }
            throw AWSError.notImplemented("POST on an object without ?uploads or ?uploadId")
        case .delete:
            if let id = query["uploadId"] {
                try requireUploads(bucket, operation: "AbortMultipartUpload")
                // Claimed first, as a completion claims it: an abort never removes an upload being completed.
                let (_, folder) = try multipart.claim(id, key: key)
                multipart.remove(folder)
                return AWSResponses.empty(.noContent)
            }
            return try await deleteObject(request, bucket: bucket, key: key)
        default:
            throw AWSError.methodNotAllowed("The specified method is not allowed against this resource.")
        }
    }

    private func bucketOperation(
        _ request: Request, bucket: S3Bucket, query: [String: String], signed: SignedRequest, auth: Authenticated,
        context: AWSRequestContext
    ) async throws -> Response {
        switch request.method {
        case .head:
            return AWSResponses.empty(.ok, headers: AWSResponses.fields([("x-amz-bucket-region", region)]))
        case .get:
            if query["location"] != nil {
                return try AWSResponses.xml(
                    LocationConstraint(value: region == "us-east-1" ? "" : region), root: "LocationConstraint")
            }
            if query["cors"] != nil { return try bucketCORS() }
            if query["list-type"] == "2" { return try listObjectsV2(bucket: bucket, query: query) }
            if query["uploads"] != nil { return try listMultipartUploads(bucket: bucket, query: query) }
            for name in [
                "versions", "acl", "policy", "lifecycle", "tagging", "website", "notification", "versioning",
                "encryption",
            ]
            where query[name] != nil {
                throw AWSError.notImplemented("the ?\(name) subresource")
            }
            return try listObjectsV1(bucket: bucket, query: query)
        case .post where query["delete"] != nil:
            return try await deleteObjects(request, bucket: bucket, signed: signed, auth: auth, context: context)
        case .put where query["cors"] != nil, .delete where query["cors"] != nil:
            throw AWSError.notImplemented(
                "\(request.method == .put ? "PutBucketCors" : "DeleteBucketCors") (the origins browsers may call "
                    + "from are aws.cors_origins in the configuration; GetBucketCors shows them)")
        case .put where !query.isEmpty:
            // PutBucketAcl, PutBucketPolicy, PutBucketTagging, …: not a CreateBucket.
            throw AWSError.notImplemented("PUT on a bucket with ?\(query.keys.sorted().joined(separator: "&"))")
        case .put:
            throw AWSError(
                "BucketAlreadyOwnedByYou", status: 409,
                "Your previous request to create the named bucket succeeded and you already own it.",
                resource: "/" + bucket.rawValue)
        case .delete:
            throw AWSError.notImplemented("DeleteBucket (picpipe's buckets are the store's areas)")
        default:
            throw AWSError.methodNotAllowed("The specified method is not allowed against this resource.")
        }
    }

    /// Refuses a version id other than `null`, as S3 refuses one on a bucket that was never versioned: picpipe's
    /// buckets keep no versions (ListObjectVersions and GetBucketVersioning are `NotImplemented`), so until
    /// session 37 an ignored `versionId=abc` served, copied or deleted the current object.
    /// - Parameter argument: where the id came from (`versionId`, `x-amz-copy-source`), S3's `ArgumentName`.
    static func refuseVersion(_ versionID: String?, argument: String) throws {
        guard let versionID, versionID != "null" else { return }
        throw AWSError.invalidArgument("Invalid version id specified")
            .with([("ArgumentName", argument), ("ArgumentValue", versionID)])
    }

    /// Refuses a write (put, copy, multipart, delete) by a key that may only read (`read_only`).
    static func requireWriter(_ auth: Authenticated, operation: String) throws {
        guard auth.credential.readOnly else { return }
        throw AWSError.accessDenied(
            "Access Denied: the key \(auth.credential.accessKeyID) is read-only (aws.credentials read_only); it may "
                + "list, get and presign downloads, not \(operation).")
    }

    func requireUploads(_ bucket: S3Bucket, operation: String) throws {
        guard bucket == .uploads else {
            throw AWSError.accessDenied(
                "Access Denied: \(bucket.rawValue) is read-only; \(operation) goes to the uploads bucket, whose objects become originals and thumbnails."
            )
        }
    }

    /// GetBucketCors: `aws.cors_origins` as the one rule every bucket has.
    func bucketCORS() throws -> Response {
        guard crossOrigin.isEnabled else {
            throw AWSError(
                "NoSuchCORSConfiguration", status: 404,
                "The CORS configuration does not exist (aws.cors_origins lists none).")
        }
        let rule = CORSConfiguration.Rule(
            allowedHeader: ["*"], allowedMethod: ["GET", "HEAD", "PUT", "POST", "DELETE"],
            allowedOrigin: crossOrigin.allowedOrigins, exposeHeader: AWSGatewaySettings.exposedHeaders,
            maxAgeSeconds: Int(CrossOriginPolicy.maxAge) ?? 600)
        return try AWSResponses.xml(CORSConfiguration(rule: [rule]), root: "CORSConfiguration")
    }

    /// `(bucket, key)` of a path-style path, decoded; nil bucket for `/`, nil key for `/bucket` and `/bucket/`.
    static func split(_ path: String) -> (String?, String?) {
        var rest = Substring(path)
        while rest.hasPrefix("/") { rest = rest.dropFirst() }
        guard !rest.isEmpty else { return (nil, nil) }
        guard let slash = rest.firstIndex(of: "/") else { return (SignatureV4.percentDecode(rest), nil) }
        let key = rest[rest.index(after: slash)...]
        return (SignatureV4.percentDecode(rest[..<slash]), key.isEmpty ? nil : SignatureV4.percentDecode(key))
    }

    /// ListBuckets: the three areas.
    func listBuckets(_ auth: Authenticated) throws -> Response {
        // By name, as S3 lists them.
        let buckets = S3Bucket.allCases.filter { auth.credential.allows(bucket: $0.rawValue) }
            .sorted { $0.rawValue < $1.rawValue }.map {
                ListAllMyBucketsResult.Bucket(name: $0.rawValue, creationDate: S3XML.timestamp(created))
            }
        return try AWSResponses.xml(
            ListAllMyBucketsResult(
                owner: Self.owner,
                buckets: .init(bucket: buckets)),
            root: "ListAllMyBucketsResult")
    }

    /// Refuses digests that cannot be checked before the body is read, as S3 does: a Content-MD5 that is not the
    /// base64 of 16 bytes (`InvalidDigest`; one that is, but wrong, is `BadDigest` once the body is in), a
    /// checksum header that is not the base64 of its algorithm's bytes (`InvalidRequest`; until session 31 it was
    /// compared, and refused as `BadDigest`, after the whole body was read), checksums of two algorithms
    /// (headers, or a header and a trailer), and an `x-amz-trailer` that names no checksum (`InvalidRequest`).
    static func checkDigestHeaders(_ request: Request) throws {
        if let contentMD5 = request.headers[AWSResponses.name("content-md5")],
            Data(base64Encoded: contentMD5)?.count != 16
        {
            throw AWSError("InvalidDigest", status: 400, "The Content-MD5 you specified was invalid.")
        }
        for algorithm in PayloadChecksum.Algorithm.allCases {
            if let value = request.headers[AWSResponses.name(algorithm.header)],
                Data(base64Encoded: value)?.count != algorithm.byteCount
            {
                throw AWSError.invalidRequest("Value for \(algorithm.header) header is invalid.")
            }
        }
        var algorithms = Set(
            PayloadChecksum.Algorithm.allCases.filter { request.headers[AWSResponses.name($0.header)] != nil })
        if let trailer = request.headers[AWSResponses.name("x-amz-trailer")] {
            // The one trailer S3 takes is a checksum's (until session 33 another name was ignored, and so was the
            // trailer that came).
            let name = trailer.trimmingCharacters(in: .whitespaces).lowercased()
            guard let algorithm = PayloadChecksum.Algorithm.allCases.first(where: { $0.header == name }) else {
                throw AWSError.invalidRequest("The value specified in the x-amz-trailer header is not supported")
            }
            algorithms.insert(algorithm)
        }
        guard algorithms.count <= 1 else {
            throw AWSError.invalidRequest(
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
        }
    }

    /// A request's header by lower-cased name (`S3ObjectOptions`' lookup).
    static func header(of request: Request) -> (String) -> String? {
        { request.headers[AWSResponses.name($0)] }
    }

    /// The `x-amz-meta-*` headers, names lowercased without the prefix.
    /// - Throws: `MetadataTooLarge` past S3's limit (`S3ObjectOptions.checkMetadataSize`).
    static func userMetadata(_ request: Request) throws -> [String: String] {
        var metadata: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            if name.hasPrefix("x-amz-meta-") { metadata[String(name.dropFirst("x-amz-meta-".count))] = field.value }
        }
        try S3ObjectOptions.checkMetadataSize(metadata)
        return metadata
    }

    /// Reads a small request body (an XML document) with the payload checks its signature asks for.
    func smallBody(
        _ request: Request, signed: SignedRequest, auth: Authenticated, context: AWSRequestContext,
        limit: Int = 2 * 1024 * 1024
    ) async throws -> Data {
        context.willReadBody()
        let buffer: ByteBuffer
        do throws(RequestBody.Unreadable) {
            buffer = try await request.body.whole(
                upTo: limit, declared: request.headers[.contentLength].flatMap { Int($0) })
        } catch {
            // Until session 33 a body cut short was a 500 InternalError (logged as an error), one too long too.
            if case .overLimit = error.reason {
                context.stopReading()
                throw AWSError("MaxMessageLengthExceeded", status: 400, "Your request was too big (\(error)).")
            }
            throw AWSError.incompleteBody(
                "You did not provide the number of bytes specified by the Content-Length HTTP header (\(error)).")
        }
        var bytes = Array(buffer.readableBytesView)
        switch auth.payload {
        case .sha256(let claimed):
            let computed = SignatureV4.hexSHA256(Data(bytes))
            guard computed == claimed else {
                throw AWSError.contentSHA256Mismatch(claimed: claimed, computed: computed)
            }
        case .chunked(let signing, let trailer):
            var decoder = ChunkedPayloadDecoder(
                signing: signing, trailer: trailer, declaredTrailer: signed.header("x-amz-trailer"))
            var decoded: [UInt8] = []
            try bytes.withUnsafeBytes { raw in try decoder.feed(raw) { decoded += $0 } }
            guard decoder.isComplete else {
                throw AWSError.incompleteBody("The aws-chunked body ended before its final chunk.")
            }
            bytes = decoded
            // A trailer's checksum is the body's (a header's may be the object's: CompleteMultipartUpload's).
            for (name, claimed) in decoder.trailers {
                guard let algorithm = PayloadChecksum.Algorithm.allCases.first(where: { $0.header == name }) else {
                    continue
                }
                var checksum = PayloadChecksum(algorithm)
                bytes.withUnsafeBytes { checksum.update($0) }
                guard checksum.finalValue() == claimed else {
                    throw AWSError.badDigest(
                        "The \(algorithm.rawValue.uppercased()) you specified did not match the calculated checksum.")
                }
            }
        case .unsigned:
            break
        }
        return Data(bytes)
    }
}

/// `<LocationConstraint>` of GetBucketLocation (empty for us-east-1, as S3 answers).
struct LocationConstraint: Encodable {
    var value: String
    enum CodingKeys: String, CodingKey { case value = "" }
}
