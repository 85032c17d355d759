// POST Object: an upload by an HTML form (boto3's generate_presigned_post, the AWS SDKs' createPresignedPost). The
// form's fields come first, the file last; the fields are read (a bounded amount), the policy's signature and
// conditions checked, and only then is the file streamed into the store, as PutObject's body is.
import FetchService
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PipelineCore

extension S3API {
    /// The most bytes of fields a form may send before its file (S3 allows a policy of 20 KB; the other fields are
    /// short).
    static let maxFormFieldBytes = 64 * 1024

    /// Takes a form posted to a bucket.
    /// - Parameters:
    ///   - bucketName: the bucket of the URL.
    ///   - authenticator: verifies the policy's signature once the fields are read.
    func postObject(
        _ request: Request, bucketName: String, authenticator: RequestAuthenticator, context: AWSRequestContext
    ) async throws -> Response {
        guard let bucket = S3Bucket(rawValue: bucketName) else { throw AWSError.noSuchBucket(bucketName) }
        guard case .multipart(let boundary)? = try? UploadBody.kind(contentType: request.headers[.contentType]) else {
            throw Self.malformedForm("its Content-Type has no boundary")
        }
        context.willReadBody(minimumRate: spool.minRate)
        var file = FormFileBytes(
            body: request.body.makeAsyncIterator(),
            extractor: MultipartFileExtractor(
                boundary: boundary, fileField: "file", fieldBytes: Self.maxFormFieldBytes),
            pace: UploadPace(minimum: spool.minRate))
        do {
            try await file.readFields()
        } catch let error as AWSError where error.code == "RequestTimeout" {
            context.stopReading()
            throw error
        }
        let form = try PostForm(fields: file.extractor.fields, fileName: file.extractor.fileName)

        let auth = try authenticator.authenticateForm(form)
        guard auth.credential.allows(bucket: bucket.rawValue) else {
            throw AWSError.accessDenied(
                "Access Denied: the key \(auth.credential.accessKeyID) may not use the bucket \(bucket.rawValue) (aws.credentials buckets)."
            )
        }
        try Self.requireWriter(auth, operation: "POST Object")
        try requireUploads(bucket, operation: "POST Object")
        let policy = try PostPolicy(encoded: form["policy"] ?? "")
        let key = try form.key()
        guard key.utf8.count <= 1024 else { throw AWSError.keyTooLong }
        guard S3Bucket.isUploadKey(key) else {
            throw AWSError.invalidArgument(
                "The key '\(key)' is not a plain relative path (no empty, '.' or '..' part, no line break).")
        }
        try policy.check(form, bucket: bucketName, key: key)
        try form.checkHeaderValues()
        // The form's names for what PutObject sends as headers: `acl` and `tagging` (the rest are the headers').
        let field: (String) -> String? = { name in
            switch name {
            case "x-amz-acl": return form["acl"]
            case "x-amz-tagging": return form["tagging"]
            default: return form[name]
            }
        }
        try S3ObjectOptions.refuseUnsupported(field)
        try S3ObjectOptions.checkMetadataSize(form.userMetadata)

        // Only a signed form takes one of the upload slots: its fields were read without one.
        let slot = try takeUploadSlot()
        defer { slot.release() }
        let limits = policy.sizeLimits
        let object: SpooledObject
        do {
            // The form's headers speak of the whole form, not the file: none of them is the file's length or digest.
            object = try await spool.spool(
                file, request: SignedRequest(method: "POST", path: "/" + bucketName, query: "", headers: []),
                payload: .unsigned, into: layout.uploads, maxBytes: min(maxObjectBytes, limits?.largest ?? .max),
                paced: false)
        } catch let error as AWSError where error.code == "RequestTimeout" {
            context.stopReading()
            throw error
        } catch let error as AWSError where error.code == "EntityTooLarge" {
            context.stopReading()
            if let limits, limits.largest < maxObjectBytes {
                throw AWSError(
                    "EntityTooLarge", status: 400,
                    "Your proposed upload exceeds the maximum allowed size: the policy's content-length-range allows \(limits.smallest) to \(limits.largest) bytes."
                )
            }
            throw error
        }
        if let limits, object.size < limits.smallest || object.size > limits.largest {
            object.discard()
            throw AWSError(
                "EntityTooSmall", status: 400,
                "Your proposed upload is smaller than the minimum allowed size: the policy's content-length-range allows \(limits.smallest) to \(limits.largest) bytes; the file has \(object.size)."
            )
        }
        try await ingest(
            object, key: key, eTag: object.eTag, contentType: form["content-type"], metadata: form.userMetadata,
            headers: S3ObjectOptions.keptHeaders(field), event: .objectCreatedPost)
        // S3's Location is the object's URL; an upload becomes an original, so it is the original's.
        let original = object.format.map { OriginalName.relativePath(hash: object.sha256, format: $0) } ?? ""
        let location =
            "http://\(request.head.authority ?? "localhost")/\(S3Bucket.originals.rawValue)/"
            + original.split(separator: "/").map { SignatureV4.uriEncode(String($0)) }.joined(separator: "/")
        return Self.postAnswer(form, location: location, bucket: bucketName, key: key, eTag: object.eTag)
    }

    /// What the form asked to be answered: a redirect to `success_action_redirect` (or `redirect`) with the
    /// bucket, key and ETag the form posted in its query; else `success_action_status` 200, 201 (with S3's
    /// PostResponse XML) or, by default, 204.
    static func postAnswer(_ form: PostForm, location: String, bucket: String, key: String, eTag: String) -> Response {
        var headers = AWSResponses.fields([("ETag", eTag), ("Location", location)])
        if let target = form["success_action_redirect"] ?? form["redirect"],
            let url = URL(string: target), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https"
        {
            let query = [("bucket", bucket), ("key", key), ("etag", eTag)]
                .map { "\($0.0)=\(SignatureV4.uriEncode($0.1))" }.joined(separator: "&")
            headers[.location] = target + (target.contains("?") ? "&" : "?") + query
            return AWSResponses.empty(.seeOther, headers: headers)
        }
        switch form["success_action_status"] {
        case "200":
            return AWSResponses.empty(.ok, headers: headers)
        case "201":
            let answer = PostResponse(location: location, bucket: bucket, key: key, eTag: eTag)
            return (try? AWSResponses.xml(answer, root: "PostResponse", status: .created, headers: headers))
                ?? AWSResponses.empty(.created, headers: headers)
        default:
            return AWSResponses.empty(.noContent, headers: headers)
        }
    }

    static func malformedForm(_ reason: String) -> AWSError {
        AWSError(
            "MalformedPOSTRequest", status: 400,
            "The body of your POST request is not well-formed multipart/form-data: \(reason).")
    }
}

/// The bytes of a form's `file` part, read from the request body after its fields.
struct FormFileBytes: AsyncSequence, AsyncIteratorProtocol {
    typealias Element = ByteBuffer
    var body: RequestBody.AsyncIterator
    var extractor: MultipartFileExtractor
    /// The pace of the whole form, fields and file: an unsigned client trickling its fields is cut too.
    var pace: UploadPace
    /// File bytes that came in the chunk that ended the fields.
    private var early = ByteBuffer()

    init(body: RequestBody.AsyncIterator, extractor: MultipartFileExtractor, pace: UploadPace) {
        self.body = body
        self.extractor = extractor
        self.pace = pace
    }

    /// Reads the body until the file part begins: every field before it is then in `extractor.fields`.
    /// - Throws: `MalformedPOSTRequest`, or `InvalidArgument` when the form has no file.
    mutating func readFields() async throws {
        while !extractor.reachedFile {
            guard let chunk = try await nextChunk() else {
                throw AWSError.invalidArgument(
                    "POST requires exactly one file upload per request: the form has no field named 'file' (it must come last)."
                )
            }
            early.writeImmutableBuffer(chunk)
        }
    }

    func makeAsyncIterator() -> FormFileBytes { self }

    mutating func next() async throws -> ByteBuffer? {
        if early.readableBytes > 0 {
            defer { early = ByteBuffer() }
            return early
        }
        while !extractor.foundFile {
            guard let chunk = try await nextChunk() else {
                throw AWSError.incompleteBody("The form ended inside its file.")
            }
            if chunk.readableBytes > 0 { return chunk }
        }
        return nil
    }

    /// The file bytes of the body's next chunk (empty before the file part), nil at the body's end.
    private mutating func nextChunk() async throws -> ByteBuffer? {
        let next: ByteBuffer?
        do {
            next = try await body.next()
        } catch let slow as BodyTooSlow {
            // Cut by the connection's timed check: the form stopped, or trickled, under the minimum.
            throw AWSError.tooSlow(received: slow.received, seconds: slow.seconds, minimum: slow.minimum)
        } catch let cut as BodyCutAtShutdown {
            // Still arriving when serve's shutdown grace ended: nothing is kept.
            throw AWSError.serviceUnavailable(.s3, cut.description)
        }
        guard let chunk = next else { return nil }
        if let seconds = pace.count(chunk.readableBytes) {
            throw AWSError.tooSlow(received: pace.received, seconds: seconds, minimum: pace.minimum)
        }
        var file = ByteBuffer()
        do {
            try chunk.withUnsafeReadableBytes { raw in
                try extractor.feed(raw) { file.writeBytes($0) }
            }
        } catch let error as APIError {
            throw S3API.malformedForm(error.message)
        }
        return file
    }
}
