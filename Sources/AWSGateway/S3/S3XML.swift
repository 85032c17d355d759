// S3's XML documents, as S3 writes and reads them, through XMLCoder (no string templates).
import Foundation
import PipelineCore
import XMLCoder

/// Encoding and decoding S3's XML.
enum S3XML {
    /// The namespace of every S3 response document.
    static let namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

    /// `<?xml …?>` and the value under `root`, with S3's namespace.
    static func encode<T: Encodable>(_ value: T, root: String, namespace: Bool = true) throws -> Data {
        let encoder = XMLEncoder()
        return try encoder.encode(
            value, withRootKey: root, rootAttributes: namespace ? ["xmlns": Self.namespace] : nil,
            header: XMLHeader(version: 1.0, encoding: "UTF-8"))
    }

    /// Text XML 1.0 can hold: a character it cannot (a NUL or other control character of a key, say) is written
    /// as `\u{0}`; an error naming such a key was a document no SDK could parse (boto3 showed a bare "Bad Request").
    static func text(_ value: String) -> String {
        LogText.escaped(value) { !isXMLCharacter($0) }
    }

    /// XML 1.0's Char: tab, line feed, carriage return, and U+0020 on but for U+FFFE and U+FFFF.
    private static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }

    /// Decodes a request document (`CompleteMultipartUpload`, `Delete`).
    /// - Throws: `MalformedXML`.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            let decoder = XMLDecoder()
            decoder.shouldProcessNamespaces = true
            return try decoder.decode(type, from: data)
        } catch {
            throw AWSError.malformedXML("\(error)")
        }
    }

    /// S3's timestamp form in listings: `2026-12-02T03:45:58.000Z`.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// `<Error>`.
struct S3ErrorDocument: Encodable {
    var code: String
    var message: String
    var resource: String?
    var requestID: String
    /// S3's extra elements of this error (`Key`, `RangeRequested`, `ServerTime`, …).
    var details: [AWSError.Detail] = []

    /// An element name.
    struct Name: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The message, resource and details as XML can hold them (`S3XML.text`).
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Name.self)
        try container.encode(code, forKey: Name("Code"))
        try container.encode(S3XML.text(message), forKey: Name("Message"))
        try container.encodeIfPresent(resource.map(S3XML.text), forKey: Name("Resource"))
        for detail in details { try container.encode(S3XML.text(detail.value), forKey: Name(detail.name)) }
        try container.encode(requestID, forKey: Name("RequestId"))
    }
}

/// `<Owner>`.
struct S3Owner: Encodable {
    var id: String
    var displayName: String

    enum CodingKeys: String, CodingKey {
        case id = "ID"
        case displayName = "DisplayName"
    }
}

/// `<ListAllMyBucketsResult>`.
struct ListAllMyBucketsResult: Encodable {
    struct Bucket: Encodable {
        var name: String
        var creationDate: String
        enum CodingKeys: String, CodingKey {
            case name = "Name"
            case creationDate = "CreationDate"
        }
    }
    struct Buckets: Encodable {
        var bucket: [Bucket]
        enum CodingKeys: String, CodingKey { case bucket = "Bucket" }
    }
    var owner: S3Owner
    var buckets: Buckets

    enum CodingKeys: String, CodingKey {
        case owner = "Owner"
        case buckets = "Buckets"
    }
}

/// `<CORSConfiguration>` of GetBucketCors.
struct CORSConfiguration: Encodable {
    struct Rule: Encodable {
        var allowedHeader: [String]
        var allowedMethod: [String]
        var allowedOrigin: [String]
        var exposeHeader: [String]
        var maxAgeSeconds: Int

        enum CodingKeys: String, CodingKey {
            case allowedHeader = "AllowedHeader"
            case allowedMethod = "AllowedMethod"
            case allowedOrigin = "AllowedOrigin"
            case exposeHeader = "ExposeHeader"
            case maxAgeSeconds = "MaxAgeSeconds"
        }
    }
    var rule: [Rule]

    enum CodingKeys: String, CodingKey { case rule = "CORSRule" }
}

/// `<PostResponse>`: POST Object's answer when the form asks for `success_action_status` 201.
struct PostResponse: Encodable {
    var location: String
    var bucket: String
    var key: String
    var eTag: String

    enum CodingKeys: String, CodingKey {
        case location = "Location"
        case bucket = "Bucket"
        case key = "Key"
        case eTag = "ETag"
    }
}

/// `<ListBucketResult>` of ListObjectsV2.
struct ListBucketResult: Encodable {
    struct Contents: Encodable {
        var key: String
        var lastModified: String
        var eTag: String
        var size: Int
        var storageClass = "STANDARD"
        /// ListObjects (version 1) always names it; version 2 when asked (`fetch-owner=true`).
        var owner: S3Owner?
        enum CodingKeys: String, CodingKey {
            case key = "Key"
            case lastModified = "LastModified"
            case eTag = "ETag"
            case size = "Size"
            case storageClass = "StorageClass"
            case owner = "Owner"
        }
    }
    struct CommonPrefix: Encodable {
        var prefix: String
        enum CodingKeys: String, CodingKey { case prefix = "Prefix" }
    }
    var name: String
    var prefix: String
    var delimiter: String?
    var maxKeys: Int
    var keyCount: Int
    var isTruncated: Bool
    var continuationToken: String?
    var nextContinuationToken: String?
    var startAfter: String?
    var encodingType: String?
    var contents: [Contents]
    var commonPrefixes: [CommonPrefix]

    enum CodingKeys: String, CodingKey {
        case name = "Name"
        case prefix = "Prefix"
        case delimiter = "Delimiter"
        case maxKeys = "MaxKeys"
        case keyCount = "KeyCount"
        case isTruncated = "IsTruncated"
        case continuationToken = "ContinuationToken"
        case nextContinuationToken = "NextContinuationToken"
        case startAfter = "StartAfter"
        case encodingType = "EncodingType"
        case contents = "Contents"
        case commonPrefixes = "CommonPrefixes"
    }
}

/// `<ListBucketResult>` of ListObjects, version 1 (S3's element order).
struct ListBucketResultV1: Encodable {
    var name: String
    var prefix: String
    var marker: String
    var maxKeys: Int
    var delimiter: String?
    var isTruncated: Bool
    var nextMarker: String?
    var encodingType: String?
    var contents: [ListBucketResult.Contents]
    var commonPrefixes: [ListBucketResult.CommonPrefix]

    enum CodingKeys: String, CodingKey {
        case name = "Name"
        case prefix = "Prefix"
        case marker = "Marker"
        case maxKeys = "MaxKeys"
        case delimiter = "Delimiter"
        case isTruncated = "IsTruncated"
        case nextMarker = "NextMarker"
        case encodingType = "EncodingType"
        case contents = "Contents"
        case commonPrefixes = "CommonPrefixes"
    }
}

/// `<ListMultipartUploadsResult>`.
struct ListMultipartUploadsResult: Encodable {
    struct Upload: Encodable {
        var key: String
        var uploadID: String
        var initiator: S3Owner
        var owner: S3Owner
        var storageClass = "STANDARD"
        var initiated: String
        var checksumAlgorithm: String? = nil
        /// `COMPOSITE` or `FULL_OBJECT` when the upload named an algorithm.
        var checksumType: String? = nil
        enum CodingKeys: String, CodingKey {
            case key = "Key"
            case uploadID = "UploadId"
            case initiator = "Initiator"
            case owner = "Owner"
            case storageClass = "StorageClass"
            case initiated = "Initiated"
            case checksumAlgorithm = "ChecksumAlgorithm"
            case checksumType = "ChecksumType"
        }
    }
    var bucket: String
    var keyMarker: String
    var uploadIDMarker: String
    var nextKeyMarker: String?
    var nextUploadIDMarker: String?
    var prefix: String?
    var delimiter: String?
    var maxUploads: Int
    var isTruncated: Bool
    var uploads: [Upload]
    var commonPrefixes: [ListBucketResult.CommonPrefix]

    enum CodingKeys: String, CodingKey {
        case bucket = "Bucket"
        case keyMarker = "KeyMarker"
        case uploadIDMarker = "UploadIdMarker"
        case nextKeyMarker = "NextKeyMarker"
        case nextUploadIDMarker = "NextUploadIdMarker"
        case prefix = "Prefix"
        case delimiter = "Delimiter"
        case maxUploads = "MaxUploads"
        case isTruncated = "IsTruncated"
        case uploads = "Upload"
        case commonPrefixes = "CommonPrefixes"
    }
}

/// `<CopyPartResult>` of UploadPartCopy.
struct CopyPartResult: Encodable {
    var lastModified: String
    var eTag: String
    var checksums = PartChecksums()
    enum CodingKeys: String, CodingKey {
        case lastModified = "LastModified"
        case eTag = "ETag"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lastModified, forKey: .lastModified)
        try container.encode(eTag, forKey: .eTag)
        try checksums.encode(to: encoder)
    }
}

/// A part's `ChecksumCRC32`, `ChecksumCRC32C`, `ChecksumCRC64NVME`, `ChecksumSHA1` and `ChecksumSHA256` elements, in
/// the part's own element (ListParts, UploadPartCopy, CompleteMultipartUpload's list).
struct PartChecksums: Codable, Equatable {
    var values: [PayloadChecksum.Algorithm: String] = [:]

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
        init(_ algorithm: PayloadChecksum.Algorithm) { stringValue = "Checksum" + algorithm.name }
    }

    init(_ checksum: PartChecksum? = nil) {
        if let checksum { values[checksum.algorithm] = checksum.value }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for algorithm in PayloadChecksum.Algorithm.allCases {
            if let value = try container.decodeIfPresent(String.self, forKey: Key(algorithm)) {
                values[algorithm] = value.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for algorithm in PayloadChecksum.Algorithm.allCases {
            if let value = values[algorithm] { try container.encode(value, forKey: Key(algorithm)) }
        }
    }
}

/// `<InitiateMultipartUploadResult>`.
struct InitiateMultipartUploadResult: Encodable {
    var bucket: String
    var key: String
    var uploadID: String
    enum CodingKeys: String, CodingKey {
        case bucket = "Bucket"
        case key = "Key"
        case uploadID = "UploadId"
    }
}

/// The `<CompleteMultipartUpload>` request document.
struct CompleteMultipartUpload: Decodable {
    struct Part: Decodable {
        var partNumber: Int
        var eTag: String?
        /// The part's checksums the client lists (`ChecksumSHA256`, …): each must be the part's.
        var checksums: PartChecksums
        enum CodingKeys: String, CodingKey {
            case partNumber = "PartNumber"
            case eTag = "ETag"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            partNumber = try container.decode(Int.self, forKey: .partNumber)
            eTag = try container.decodeIfPresent(String.self, forKey: .eTag)
            checksums = try PartChecksums(from: decoder)
        }
    }
    var parts: [Part]
    enum CodingKeys: String, CodingKey { case parts = "Part" }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        parts = try container.decodeIfPresent([Part].self, forKey: .parts) ?? []
    }
}

/// `<CompleteMultipartUploadResult>`.
struct CompleteMultipartUploadResult: Encodable {
    var location: String
    var bucket: String
    var key: String
    var eTag: String
    /// The object's checksum (`ChecksumCRC32`, …, and `ChecksumType`), when the upload named an algorithm.
    var checksum: S3ObjectChecksum? = nil
    enum CodingKeys: String, CodingKey {
        case location = "Location"
        case bucket = "Bucket"
        case key = "Key"
        case eTag = "ETag"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(location, forKey: .location)
        try container.encode(bucket, forKey: .bucket)
        try container.encode(key, forKey: .key)
        try container.encode(eTag, forKey: .eTag)
        try checksum?.encodeElements(to: encoder)
    }
}

/// `<ListPartsResult>`.
struct ListPartsResult: Encodable {
    struct Part: Encodable {
        var partNumber: Int
        var lastModified: String
        var eTag: String
        var size: Int
        var checksums = PartChecksums()
        enum CodingKeys: String, CodingKey {
            case partNumber = "PartNumber"
            case lastModified = "LastModified"
            case eTag = "ETag"
            case size = "Size"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(partNumber, forKey: .partNumber)
            try container.encode(lastModified, forKey: .lastModified)
            try container.encode(eTag, forKey: .eTag)
            try container.encode(size, forKey: .size)
            try checksums.encode(to: encoder)
        }
    }
    var bucket: String
    var key: String
    var uploadID: String
    var partNumberMarker: Int
    var nextPartNumberMarker: Int
    var maxParts: Int
    var isTruncated: Bool
    var parts: [Part]
    /// The upload's `x-amz-checksum-algorithm`, if it named one.
    var checksumAlgorithm: String? = nil
    /// How the upload's part checksums make the object's (`COMPOSITE`, `FULL_OBJECT`), if it named an algorithm.
    var checksumType: String? = nil
    enum CodingKeys: String, CodingKey {
        case bucket = "Bucket"
        case key = "Key"
        case uploadID = "UploadId"
        case partNumberMarker = "PartNumberMarker"
        case nextPartNumberMarker = "NextPartNumberMarker"
        case maxParts = "MaxParts"
        case isTruncated = "IsTruncated"
        case parts = "Part"
        case checksumAlgorithm = "ChecksumAlgorithm"
        case checksumType = "ChecksumType"
    }
}

/// `<CopyObjectResult>`.
struct CopyObjectResult: Encodable {
    var lastModified: String
    var eTag: String
    /// The copy's checksum (`ChecksumType` and `ChecksumSHA256`, …), if it has one.
    var checksum: S3ObjectChecksum? = nil
    enum CodingKeys: String, CodingKey {
        case lastModified = "LastModified"
        case eTag = "ETag"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lastModified, forKey: .lastModified)
        try container.encode(eTag, forKey: .eTag)
        try checksum?.encodeElements(to: encoder)
    }
}

/// The `<Delete>` request document of DeleteObjects.
struct DeleteRequest: Decodable {
    struct Object: Decodable {
        var key: String
        /// The version to delete: only `null` is one here.
        var versionID: String?
        /// The ETag the object must have to be deleted (a conditional delete's If-Match).
        var eTag: String?
        /// Directory buckets' conditions, refused here.
        var lastModifiedTime: String?
        var size: String?
        enum CodingKeys: String, CodingKey {
            case key = "Key"
            case versionID = "VersionId"
            case eTag = "ETag"
            case lastModifiedTime = "LastModifiedTime"
            case size = "Size"
        }
    }
    var quiet: Bool
    var objects: [Object]
    enum CodingKeys: String, CodingKey {
        case quiet = "Quiet"
        case objects = "Object"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        quiet = try container.decodeIfPresent(Bool.self, forKey: .quiet) ?? false
        objects = try container.decodeIfPresent([Object].self, forKey: .objects) ?? []
    }
}

/// `<DeleteResult>`.
struct DeleteResult: Encodable {
    struct Deleted: Encodable {
        var key: String
        /// The version the request named, echoed as S3 echoes it.
        var versionID: String?
        enum CodingKeys: String, CodingKey {
            case key = "Key"
            case versionID = "VersionId"
        }
    }
    struct Failure: Encodable {
        var key: String
        var versionID: String?
        var code: String
        var message: String
        enum CodingKeys: String, CodingKey {
            case key = "Key"
            case versionID = "VersionId"
            case code = "Code"
            case message = "Message"
        }
    }
    var deleted: [Deleted]
    var errors: [Failure]
    enum CodingKeys: String, CodingKey {
        case deleted = "Deleted"
        case errors = "Error"
    }
}

extension S3ObjectChecksum {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Its `ChecksumSHA256` (…) and `ChecksumType` elements, in the element of the answer that describes the object
    /// (CopyObjectResult, CompleteMultipartUploadResult).
    func encodeElements(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(value, forKey: Key(stringValue: "Checksum" + algorithm))
        try container.encode(checksumType, forKey: Key(stringValue: "ChecksumType"))
    }
}
