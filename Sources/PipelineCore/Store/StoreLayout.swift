// The folders of a picpipe store, named in one place.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where each area of a store lives on disk.
///
/// ```
/// STORE/uploads/     the drop folder       STORE/failed/  dead letters + NAME.error.json
/// STORE/originals/   content-addressed      STORE/db/      metadata.sqlite, events.sqlite
/// STORE/thumbnails/  derivatives by recipe
/// ```
public struct StoreLayout: Sendable, Hashable {
    /// The store's root folder.
    public let root: URL

    /// - Parameter root: the store's root folder; it need not exist yet (see `createFolders()`).
    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    /// The drop folder watched for upload events.
    public var uploads: URL { root.appendingPathComponent("uploads", isDirectory: true) }
    /// Originals, content-addressed by SHA-256.
    public var originals: URL { root.appendingPathComponent("originals", isDirectory: true) }
    /// Derivatives, one folder per size.
    public var thumbnails: URL { root.appendingPathComponent("thumbnails", isDirectory: true) }
    /// Dead letters: failed inputs and their `.error.json`.
    public var failed: URL { root.appendingPathComponent("failed", isDirectory: true) }
    /// The services' databases.
    public var databases: URL { root.appendingPathComponent("db", isDirectory: true) }
    /// The metadata service's own database.
    public var metadataDatabase: URL { databases.appendingPathComponent("metadata.sqlite") }
    /// The pipeline's journal.
    public var eventsDatabase: URL { databases.appendingPathComponent("events.sqlite") }
    /// What an S3 upload recorded of a content (its MD5 ETag, `x-amz-meta-*`, Content-Type, key), one JSON file each.
    public var s3ObjectRecords: URL { databases.appendingPathComponent("s3/objects", isDirectory: true) }

    /// Forgets what an S3 upload recorded of a content whose original left the store, however it left (an HTTP
    /// DELETE, a PUT moving its last id, a refusal): a later upload of the same bytes is another object, which must
    /// not show the deleted one's metadata (until session 29 only S3's own DeleteObject removed the record).
    public func forgetS3ObjectRecord(of hash: String) {
        unlink(s3ObjectRecords.appendingPathComponent(hash + ".json").path)
    }

    /// The ETag the AWS front door kept for a content's S3 uploads (quoted: `"md5"`, or `"md5-N"` after a multipart
    /// upload; the `etag` of its record), which is what HeadObject answers for it; nil when no upload through S3
    /// kept one (its ETag is then the MD5 of its bytes).
    public func keptS3ETag(of hash: ContentHash) -> String? {
        struct Kept: Decodable { var etag: String }
        let file = s3ObjectRecords.appendingPathComponent(hash.hex + ".json")
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        return (try? JSONDecoder().decode(Kept.self, from: data))?.etag
    }

    /// Creates every folder of the store that does not exist yet.
    /// - Parameter parents: whether missing parents of the root are created too. Commands pass `false`, so a
    ///   mistyped `--store` fails instead of growing a tree of folders somewhere unexpected.
    /// - Throws: `StoreError.cannotCreateFolder` or `.notAFolder`, naming the path and the cause.
    public func createFolders(parents: Bool = true) throws {
        try Folder.create(root, what: "the store folder", parents: parents)
        for folder in [uploads, originals, thumbnails, failed, databases] {
            try Folder.create(folder, what: "the store folder", parents: false)
        }
    }

    /// Checks that every folder of the store can be written, so a read-only store is one clear error at the start
    /// instead of a failure per file.
    /// - Throws: `StoreError.notWritable` naming the first folder that is not, with the system's reason.
    public func checkWritable() throws {
        for folder in [root, uploads, originals, thumbnails, failed, databases] where access(folder.path, W_OK) != 0 {
            throw StoreError.notWritable(path: folder.path, errno: errno)
        }
    }

    /// Checks that the store exists, for commands that only read it (they never create one).
    /// - Throws: `StoreError.storeMissing` when the root does not exist, `.notAFolder` when it is a file.
    public func requireExisting() throws {
        if Folder.isFolder(root.path) { return }
        if Folder.exists(root.path) { throw StoreError.notAFolder(path: root.path, what: "the store path") }
        throw StoreError.storeMissing(path: root.path)
    }
}
