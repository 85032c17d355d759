// A store's own id, made once and kept in the store: a shared database records which store it serves.
import Foundation

/// The id of one store (a UUID in `STORE/db/store-id`), the same on every machine that mounts the store.
///
/// A PostgreSQL database holds one store's journal, metadata and id index; a second store pointed at it would have
/// its uploads taken for duplicates of the first store's pictures and get no thumbnails, silently. The id lets
/// the database refuse it (`StoreBinding`). A copy of the store folder keeps the id: it is the same store.
public struct StoreIdentity: Sendable, Equatable, CustomStringConvertible {
    /// The UUID text.
    public let id: String

    public var description: String { id }

    /// The file that holds the id.
    public static func file(in layout: StoreLayout) -> URL {
        layout.databases.appendingPathComponent("store-id")
    }

    /// The store's id, made now (and written atomically, first writer wins) when the store has none yet.
    /// - Throws: `StoreError` when the file cannot be read or written, or holds something other than a UUID.
    public static func of(_ layout: StoreLayout) throws -> StoreIdentity {
        let file = Self.file(in: layout)
        if let existing = try read(file) { return existing }
        try Folder.create(layout.databases, what: "the store's database folder", parents: false)
        // Two processes starting on a new store at once: one file wins, both read it back.
        try AtomicFile.write(Array((UUID().uuidString.lowercased() + "\n").utf8), to: file, overwrite: false)
        guard let made = try read(file) else { throw StoreError.notFound(path: file.path) }
        return made
    }

    /// The id in `file`, or `nil` when there is no such file.
    private static func read(_ file: URL) throws -> StoreIdentity? {
        let data: Data
        do {
            data = try InputFile.read(file.path)
        } catch StoreError.notFound {
            return nil
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard UUID(uuidString: text) != nil else {
            throw StoreError.damagedFile(
                path: file.path, reason: "it should hold the store's id (a UUID), not \(text.prefix(40).debugDescription)")
        }
        return StoreIdentity(id: text.lowercased())
    }
}
