// A store served by a shared PostgreSQL database says so in the store, so nothing opens it with SQLite by mistake.
import Foundation

/// `STORE/db/shared-database`: the database (its URL without secrets) that holds this store's journal, metadata
/// and id index, written when a process first opens the store with PostgreSQL.
///
/// A command run without `--database` (a forgotten variable, a config file it was not given) would otherwise open
/// the store's SQLite files: `query` and `events` answered empty tables, and a SQLite `serve` took uploads into a
/// journal no PostgreSQL process reads, so those pictures were missing from the gallery and `query`.
public enum SharedDatabaseMark {
    /// The mark's file.
    public static func file(in layout: StoreLayout) -> URL {
        layout.databases.appendingPathComponent("shared-database")
    }

    /// Records that `database` (a URL without secrets) serves the store, unless the mark says so already.
    public static func record(_ database: String, in layout: StoreLayout) throws {
        let file = Self.file(in: layout)
        let text = database + "\n"
        if (try? InputFile.read(file.path)).map({ String(decoding: $0, as: UTF8.self) }) == text { return }
        try Folder.create(layout.databases, what: "the store's database folder", parents: false)
        _ = try AtomicFile.write(Array(text.utf8), to: file, overwrite: true)
    }

    /// The database the mark names, or `nil` when the store has none (it keeps its databases in SQLite).
    public static func database(of layout: StoreLayout) -> String? {
        guard let data = try? InputFile.read(file(in: layout).path) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// Why the store must not be opened with SQLite, or `nil` when it may.
    public static func refusal(for layout: StoreLayout) -> String? {
        guard let database = database(of: layout) else { return nil }
        return "the store at \(layout.root.path) keeps its journal and metadata in PostgreSQL (\(database), "
            + "named in \(file(in: layout).path)): give --database URL (or database.url in the configuration, or "
            + "PICPIPE_DATABASE_URL); opened with SQLite it would answer from empty files and split its uploads "
            + "(to go back to SQLite on purpose, remove that file)"
    }
}
