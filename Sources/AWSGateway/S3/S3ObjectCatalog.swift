// What S3 clients expect back that the store's files do not hold: the MD5 ETag (md5-of-md5s-N after a multipart
// upload), the user metadata (`x-amz-meta-*`), the Content-Type, the checksum it was uploaded with and the key the
// object was put under. One small
// JSON file per content under STORE/db/s3/objects/, written atomically; this front door is its only reader.
import Crypto
import Foundation
import Locking
import PipelineCore

/// What an upload through S3 recorded of its object.
struct S3ObjectRecord: Codable, Sendable, Equatable {
    /// The ETag, quoted (`"md5"` or `"md5-N"`).
    var eTag: String
    /// The Content-Type the client sent.
    var contentType: String?
    /// `x-amz-meta-*` headers, names lowercased without the prefix.
    var metadata: [String: String]
    /// The key it was put under in `uploads`.
    var key: String?
    /// Cache-Control, Content-Disposition, Content-Encoding, Content-Language and Expires as the client sent them
    /// (`S3ObjectOptions.keptHeaders`), by lower-cased name; nil in records written before they were kept.
    var headers: [String: String]? = nil
    /// The flexible checksum a single PutObject came with (nil: none, or written before checksums were kept).
    var checksum: S3ObjectChecksum? = nil

    enum CodingKeys: String, CodingKey {
        case eTag = "etag"
        case contentType = "content_type"
        case metadata
        case key
        case headers
        case checksum
    }
}

/// A full-object checksum an upload gave (checked against its bytes), which GetObject and HeadObject return when
/// asked (`x-amz-checksum-mode: ENABLED`), so SDKs can verify a download as they verify one from S3.
struct S3ObjectChecksum: Codable, Sendable, Equatable {
    /// S3's name of the algorithm (`SHA256`).
    var algorithm: String
    /// The base64 value, as the `x-amz-checksum-*` header carries it (`BASE64-N` for a composite one).
    var value: String
    /// `COMPOSITE` for a multipart object's checksum of its parts' checksums; nil for the whole object's (and in
    /// records before session 36, which had no other).
    var type: String? = nil

    /// `x-amz-checksum-type` and `ChecksumType`: `COMPOSITE` or `FULL_OBJECT`.
    var checksumType: String { type ?? MultipartChecksumType.fullObject.rawValue }

    init(algorithm: PayloadChecksum.Algorithm, value: String, type: String?) {
        self.algorithm = algorithm.name
        self.value = value
        self.type = type
    }

    /// The checksum of a `x-amz-checksum-*` header name and value (nil for a header of no algorithm S3 defines).
    init?(header: String, value: String) {
        guard let algorithm = PayloadChecksum.Algorithm.allCases.first(where: { $0.header == header }) else {
            return nil
        }
        self.init(algorithm: algorithm, value: value, type: nil)
    }

    /// The response header naming its value (`x-amz-checksum-sha256`).
    var header: String { "x-amz-checksum-" + algorithm.lowercased() }
}

extension S3ObjectRecord {
    /// The record after another upload of the same bytes, `upload` being what that upload would record alone. It
    /// brings its ETag; its description (Content-Type, `x-amz-meta-*`, the kept headers) replaces this one only
    /// when it brings metadata, kept headers or a Content-Type of its own (the last such upload wins, as S3's last
    /// PUT of a key does): one that brings none (`aws s3 sync`, a `put_object` without `Metadata`) leaves the
    /// description the content has, which it wiped until session 30. The key stays the first upload's (the one the
    /// original's ObjectRemoved event names). A checksum describes the bytes, which are the same: one that brings
    /// none keeps the one the content has.
    /// - Parameter bytesType: the media type sniffed from the bytes (`image/jpeg`).
    func updated(by upload: S3ObjectRecord, bytesType: String) -> S3ObjectRecord {
        var record = upload
        record.key = key ?? upload.key
        record.checksum = upload.checksum ?? checksum
        if upload.metadata.isEmpty, upload.headers?.isEmpty ?? true,
            !Self.describes(upload.contentType, bytesType: bytesType)
        {
            record.contentType = contentType ?? upload.contentType
            record.metadata = metadata
            record.headers = headers
        }
        return record
    }

    /// Whether an upload's Content-Type says something of its own: not the bytes' own type (which the AWS CLI
    /// guesses from a file name on every upload), nor the generic ones SDKs send when given none. Until session 37
    /// a Content-Type alone was dropped (`put-object --content-type image/x-explicit` answered 200, changing nothing).
    static func describes(_ contentType: String?, bytesType: String) -> Bool {
        guard let type = contentType?.trimmingCharacters(in: .whitespaces).lowercased(), !type.isEmpty else {
            return false
        }
        return ![bytesType.lowercased(), "application/octet-stream", "binary/octet-stream"].contains(type)
    }
}

/// The records by content hash, and the ETags of files uploaded some other way (computed once, then kept).
final class S3ObjectCatalog: Sendable {
    let folder: URL
    /// ETags of files without a record (thumbnails, dropped originals), by path, size and modification time.
    private let computed = Locked<[String: (size: Int, modified: Date, eTag: String)]>([:])

    init(layout: StoreLayout) {
        folder = layout.s3ObjectRecords
    }

    /// The record of a content.
    func record(for hash: ContentHash) -> S3ObjectRecord? {
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(hash.hex + ".json").path)
        else { return nil }
        return try? JSONDecoder().decode(S3ObjectRecord.self, from: data)
    }

    /// Keeps a content's record (replacing an earlier one: see `S3ObjectRecord.updated(by:bytesType:)` for what an upload of
    /// stored bytes keeps of it).
    func store(_ record: S3ObjectRecord, for hash: ContentHash) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(try encoder.encode(record), to: folder.appendingPathComponent(hash.hex + ".json"))
    }

    /// Removes a content's record (its original was deleted).
    func remove(_ hash: ContentHash) {
        try? FileManager.default.removeItem(at: folder.appendingPathComponent(hash.hex + ".json"))
    }

    /// The ETag of a stored file: its content's record, else the MD5 of its bytes (computed once per version).
    /// - Parameter hash: the content the file is the original of (nil for a thumbnail).
    func eTag(of file: URL, size: Int, modified: Date, hash: ContentHash?) -> String {
        if let hash, let record = record(for: hash) { return record.eTag }
        let path = file.path
        if let known = computed.withLock({ $0[path] }), known.size == size, known.modified == modified {
            return known.eTag
        }
        guard let eTag = Self.md5ETag(of: file) else { return "\"\(String(repeating: "0", count: 32))\"" }
        computed.withLock { cache in
            if cache.count > 100_000 { cache.removeAll() }
            cache[path] = (size, modified, eTag)
        }
        return eTag
    }

    /// `"hex md5"` of a file, read in 1 MiB pieces.
    static func md5ETag(of file: URL) -> String? {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return nil }
        defer { try? handle.close() }
        var md5 = Insecure.MD5()
        while let data = try? handle.read(upToCount: 1 << 20), !data.isEmpty { md5.update(data: data) }
        return "\"\(SignatureV4.hex(Array(md5.finalize())))\""
    }
}
