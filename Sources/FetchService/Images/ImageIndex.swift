// The fetch service's own record of the ids it gave out: id → content hash, so DELETE knows whether another
// id still uses the content, and a client-chosen PUT id finds its bytes.
import Foundation
import ImageCore
import PipelineCore

/// One id the HTTP API created (POST: the content id; PUT: a client-chosen name).
public struct IndexedImage: Sendable, Equatable {
    /// The id.
    public var id: String
    /// The content it names.
    public var hash: ContentHash
    /// The content's format.
    public var format: ImageFormat
    /// The content's size in bytes.
    public var size: Int
    /// The name it arrived under (multipart file name, `?name=`), when one was given.
    public var name: String?
    /// When the id was created or last replaced.
    public var updatedAt: Date

    /// - Parameters: see the properties.
    public init(id: String, hash: ContentHash, format: ImageFormat, size: Int, name: String?, updatedAt: Date) {
        self.id = id
        self.hash = hash
        self.format = format
        self.size = size
        self.name = name
        self.updatedAt = updatedAt
    }
}

/// Where the ids are kept. `SQLiteImageIndex` is the local implementation; lookups are answered from memory.
public protocol ImageIndex: Sendable {
    /// The entry for an id, or `nil`. Lookups throw when the index cannot be read (a database out of reach): an
    /// unknown answer is not "no such id" (until session 31 an outage made every PUT id answer 404 and a DELETE of a
    /// content could take an original another id still named).
    func entry(for id: String) throws -> IndexedImage?
    /// The ids naming a content, sorted.
    func ids(using hash: ContentHash) throws -> [String]
    /// The contents ids name, with how many ids name each: a listing shows each id, so counts of pictures count
    /// each (and a content no id names counts as its hash, while its original is there).
    func namedContents() throws -> [ContentHash: Int]
    /// Creates or replaces an id. - Returns: the entry it replaced, if any.
    @discardableResult func upsert(_ entry: IndexedImage) throws -> IndexedImage?
    /// Removes an id. - Returns: the removed entry, or `nil` when there was none.
    @discardableResult func remove(id: String) throws -> IndexedImage?
    /// Creates or replaces an id only while its entry still names `expected` (`nil`: while it has none), checked and
    /// written in one step: a conditional PUT (If-Match, If-None-Match) replaces the state its condition held for.
    func upsert(_ entry: IndexedImage, ifNaming expected: ContentHash?) throws -> IndexChange
    /// Removes an id only while its entry still names `expected`, checked and removed in one step (a conditional
    /// DELETE).
    func remove(id: String, ifNaming expected: ContentHash) throws -> IndexChange
    /// A count that moves with every change of the index, or `nil` (the default) when changes can come from elsewhere
    /// (another process) without this one seeing them; answers derived from the index are kept only while it stays.
    var revision: UInt64? { get }
}

extension ImageIndex {
    public var revision: UInt64? { nil }
}

/// What a conditional change of the index did.
public enum IndexChange: Sendable, Equatable {
    /// It was made; the entry it replaced or removed (`nil`: it created the id).
    case made(previous: IndexedImage?)
    /// It was not made: the id names other content now (or none, or some where none was expected).
    case stale
}
