// Events in the shape of S3 event notification records, so a function reads the JSON it would get from S3.
import Foundation

/// An S3-style event notification: `{"Records": [...]}`.
public struct S3Event: Codable, Sendable, Equatable {
    /// The records; picpipe sends one per event.
    public var Records: [S3EventRecord]

    /// - Parameter records: the records to carry.
    public init(records: [S3EventRecord]) { self.Records = records }
}

/// The name of an event, as S3 spells it (`ObjectCreated:Put`, `ObjectRemoved:Delete`).
public struct EventName: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A new object arrived (dropped file, batch, HTTP POST).
    public static let objectCreatedPut = EventName(rawValue: "ObjectCreated:Put")
    /// An object was replaced under a chosen id (HTTP PUT).
    public static let objectCreatedCopy = EventName(rawValue: "ObjectCreated:Copy")
    /// A new object arrived by a browser form (S3's POST Object).
    public static let objectCreatedPost = EventName(rawValue: "ObjectCreated:Post")
    /// An object was deleted.
    public static let objectRemovedDelete = EventName(rawValue: "ObjectRemoved:Delete")
    /// No event of the store: a read (an HTTP GET) had the thumbnail function make a thumbnail at once. The call is
    /// journaled under this name, as S3 notifies no read, so it is no upload in `events` or `/events/stream`.
    public static let thumbnailRequested = EventName(rawValue: "ThumbnailRequested:Get")

    /// The names S3 gives its object-created and object-removed events (`s3:ObjectCreated:*`, `s3:ObjectRemoved:*`):
    /// a record under another name is no event of the store (`ObjectCreated:Putt` ran as a creation until session 28).
    public static let s3ObjectNames: Set<EventName> = [
        objectCreatedPut, objectCreatedPost, objectCreatedCopy,
        EventName(rawValue: "ObjectCreated:CompleteMultipartUpload"), objectRemovedDelete,
        EventName(rawValue: "ObjectRemoved:DeleteMarkerCreated"),
    ]

    /// A name in S3's object families (`ObjectCreated`, `ObjectRemoved`) that S3 never sends: a typo
    /// (`ObjectCreated:Putt`), no event of the store.
    public var isUnknownS3Name: Bool {
        ["ObjectCreated", "ObjectRemoved"].contains(family) && !Self.s3ObjectNames.contains(self)
    }

    /// The family before the colon: `ObjectCreated` or `ObjectRemoved`; subscriptions match on it.
    public var family: String { String(rawValue.split(separator: ":").first ?? "") }

    public var description: String { rawValue }
}

/// One record, with the fields S3 sends and that picpipe fills.
public struct S3EventRecord: Codable, Sendable, Equatable {
    public var eventVersion: String
    public var eventSource: String
    public var awsRegion: String
    /// ISO 8601 with milliseconds, UTC.
    public var eventTime: String
    public var eventName: EventName
    public var s3: S3Entity

    /// The `s3` part of a record.
    public struct S3Entity: Codable, Sendable, Equatable {
        public var s3SchemaVersion: String
        public var configurationId: String
        public var bucket: Bucket
        public var object: Object
    }

    /// The bucket: the store.
    public struct Bucket: Codable, Sendable, Equatable {
        /// The store's folder name.
        public var name: String
        public var arn: String
    }

    /// The object: an original in the store.
    public struct Object: Codable, Sendable, Equatable {
        /// The store-relative path of the original: `originals/ab/abcdef….jpg`.
        public var key: String
        /// Size in bytes.
        public var size: Int
        /// The SHA-256 of the bytes (S3 uses an MD5 here; the content address is the better tag).
        public var eTag: String
        /// Orders events of one key: later events have larger sequencers (hex, fixed width).
        public var sequencer: String
        /// The name the object arrived under (upload file name, HTTP id): a picpipe addition.
        public var sourceName: String?
        /// The S3 ETag an S3-shaped payload gave as its eTag before `inStoreTerms` put the key's SHA-256 there,
        /// unquoted and lower-case: an MD5, or `md5-N` after a multipart upload; checked against the original before
        /// the function runs. Not part of the record's JSON.
        public var statedETag: String?
        /// `true` when this event put the original into the store (its bytes were not there before it arrived, or a
        /// `replay` put them back from `failed/`): a picpipe addition, left out otherwise. Only then may a refusal
        /// of the event's work take the original back out of the store; a picture stored earlier is never removed
        /// because a later upload of the same bytes, or a replay, was refused. Records from callers (`invoke`, the
        /// Lambda API) never carry it.
        public var newlyStored: Bool?

        enum CodingKeys: String, CodingKey {
            case key, size, eTag, sequencer, sourceName, newlyStored
        }
    }

    /// Makes a record for a store object.
    /// - Parameters:
    ///   - name: the event name.
    ///   - bucket: the store's name.
    ///   - key: the store-relative key of the original.
    ///   - size: its size in bytes.
    ///   - eTag: its SHA-256 hex.
    ///   - sequence: a number that grows with every event in the store.
    ///   - sourceName: the name it arrived under.
    ///   - time: when it happened.
    public init(
        name: EventName, bucket: String, key: String, size: Int, eTag: String, sequence: Int64,
        sourceName: String? = nil, time: Date = Date()
    ) {
        self.eventVersion = "2.1"
        // As S3 writes them, so a handler that checks where its event came from (`aws:s3`) takes picpipe's.
        self.eventSource = "aws:s3"
        self.awsRegion = "local"
        self.eventTime = Self.timestamp(time)
        self.eventName = name
        self.s3 = S3Entity(
            s3SchemaVersion: "1.0", configurationId: "picpipe",
            bucket: Bucket(name: bucket, arn: "arn:aws:s3:::\(bucket)"),
            object: Object(
                key: key, size: size, eTag: eTag, sequencer: String(format: "%016llX", UInt64(max(sequence, 0))),
                sourceName: sourceName))
    }

    /// Whether this event put its original into the store (`Object.newlyStored`).
    public var storedItsOriginal: Bool { s3.object.newlyStored == true }

    /// The content hash the record names, taken from its eTag.
    public var contentHash: ContentHash? { ContentHash(hex: s3.object.eTag) }

    /// The content hash the record's key names: an original's file name is its SHA-256 (`originals/ab/<sha256>.jpg`).
    public var keyContentHash: ContentHash? {
        guard let name = s3.object.key.split(separator: "/").last, let stem = name.split(separator: ".").first else {
            return nil
        }
        return ContentHash(hex: String(stem))
    }

    /// The record in the store's terms, for a record written the way S3 writes its own notifications about the
    /// `originals` bucket of the AWS front door: the key inside that bucket (`ab/<sha256>.jpg`, as `aws s3 ls
    /// s3://originals/` shows it) and S3's MD5 as the eTag. picpipe's records name the store as the bucket, the
    /// original's store-relative key (`originals/ab/…`) and its SHA-256; a record already in those terms is unchanged.
    public func inStoreTerms() -> S3EventRecord {
        var record = self
        if record.s3.bucket.name == "originals", !record.s3.object.key.hasPrefix("originals/") {
            record.s3.object.key = "originals/" + record.s3.object.key
        }
        if record.contentHash == nil, let named = record.keyContentHash {
            // S3's single-part ETag is the MD5 of the bytes (quoted); a multipart one ("…-N") names no content by
            // itself and is checked against the ETag the upload kept (until session 36 it was not kept to check).
            let stated = record.s3.object.eTag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
            if Self.isS3ETag(stated) { record.s3.object.statedETag = stated }
            record.s3.object.eTag = named.hex
        }
        return record
    }

    /// Whether `text` (unquoted, lower-case) has the form of an S3 ETag: 32 hex digits of an MD5, and `-N` (a part
    /// count, 1 to 10,000) after a multipart upload.
    static func isS3ETag(_ text: String) -> Bool {
        let pieces = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let md5 = pieces.first, md5.utf8.count == 32,
            md5.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else { return false }
        guard pieces.count == 2 else { return true }
        let count = pieces[1]
        return count.utf8.allSatisfy { (48...57).contains($0) } && Int(count).map { (1...10_000).contains($0) } == true
    }

    static func timestamp(_ date: Date) -> String { Timestamp.string(date) }
}
