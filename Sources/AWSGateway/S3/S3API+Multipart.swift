// Multipart uploads into `uploads` (the AWS CLI switches to them at 8 MB): create, upload parts, list them,
// complete (the parts joined, then taken in as one upload: ObjectCreated:CompleteMultipartUpload) or abort.
import Foundation
import Hummingbird
import PipelineCore

extension S3API {
    /// CreateMultipartUpload.
    func createMultipartUpload(_ request: Request, key: String) throws -> Response {
        guard S3Bucket.isSafe(key) else {
            throw AWSError.invalidArgument("The key '\(key)' is not a plain relative path.")
        }
        let id = try multipart.create(
            MultipartUpload(
                key: key, contentType: request.headers[.contentType], metadata: Self.userMetadata(request),
                initiated: Date()))
        return try AWSResponses.xml(
            InitiateMultipartUploadResult(bucket: S3Bucket.uploads.rawValue, key: key, uploadID: id),
            root: "InitiateMultipartUploadResult")
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
        let (_, folder) = try multipart.upload(uploadID, key: key)
        let part = try await receive(request, signed: signed, auth: auth, into: folder, context: context)
        do {
            try multipart.keep(part, number: number, in: folder)
        } catch {
            part.discard()
            throw error
        }
        return AWSResponses.empty(.ok, headers: AWSResponses.fields([("ETag", part.eTag)]))
    }

    /// ListParts.
    func listParts(bucket: S3Bucket, key: String, uploadID: String, query: [String: String]) throws -> Response {
        guard bucket == .uploads else { throw AWSError.noSuchUpload(uploadID) }
        let (_, folder) = try multipart.upload(uploadID, key: key)
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
                        partNumber: $0.number, lastModified: S3XML.timestamp($0.modified), eTag: $0.eTag, size: $0.size)
                }),
            root: "ListPartsResult")
    }

    /// CompleteMultipartUpload: the listed parts (ascending, ETags matching, each but the last at least 5 MiB)
    /// joined and taken in as an upload; the upload's folder goes.
    func completeMultipartUpload(
        _ request: Request, key: String, uploadID: String, signed: SignedRequest, auth: Authenticated
    ) async throws -> Response {
        let (upload, folder) = try multipart.upload(uploadID, key: key)
        let document = try S3XML.decode(
            CompleteMultipartUpload.self, from: try await smallBody(request, signed: signed, auth: auth))
        guard !document.parts.isEmpty else {
            throw AWSError.malformedXML("CompleteMultipartUpload lists no part")
        }
        let uploaded = Dictionary(multipart.parts(in: folder).map { ($0.number, $0) }, uniquingKeysWith: { $1 })
        var chosen: [UploadedPart] = []
        for (index, listed) in document.parts.enumerated() {
            if index > 0, listed.partNumber <= document.parts[index - 1].partNumber {
                throw AWSError(
                    "InvalidPartOrder", status: 400,
                    "The list of parts was not in ascending order. The parts list must be specified in order by part number."
                )
            }
            func bare(_ text: String) -> String { text.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            guard let part = uploaded[listed.partNumber], listed.eTag.map(bare) ?? bare(part.eTag) == bare(part.eTag)
            else {
                throw AWSError.invalidPart(
                    "One or more of the specified parts could not be found (part \(listed.partNumber)), or its ETag did not match."
                )
            }
            chosen.append(part)
        }
        for part in chosen.dropLast() where part.size < MultipartUploads.minPartSize {
            throw AWSError(
                "EntityTooSmall", status: 400,
                "Your proposed upload is smaller than the minimum allowed object size: part \(part.number) has \(part.size) bytes (each part but the last needs 5 MiB)."
            )
        }
        let object = try await join(chosen.map(\.file), into: layout.uploads, md5: false)
        let eTag = MultipartUploads.multipartETag(chosen)
        try await ingest(
            object, key: key, eTag: eTag, contentType: upload.contentType, metadata: upload.metadata,
            event: EventName(rawValue: "ObjectCreated:CompleteMultipartUpload"))
        multipart.remove(folder)
        return try AWSResponses.xml(
            CompleteMultipartUploadResult(
                location: "/uploads/" + key, bucket: S3Bucket.uploads.rawValue, key: key, eTag: eTag),
            root: "CompleteMultipartUploadResult")
    }
}
