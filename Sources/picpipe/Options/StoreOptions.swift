// The --store option shared by every command that works on a store.
import ArgumentParser
import Foundation
import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

/// `--store DIR`, else `$PICPIPE_STORE`, else `./picstore`.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The store folder (default: $PICPIPE_STORE, else ./picstore).")
    var store: String?

    /// The chosen store root, resolved against the working directory.
    var storeURL: URL {
        let path = store ?? ProcessInfo.processInfo.environment["PICPIPE_STORE"] ?? "./picstore"
        return URL(fileURLWithPath: path)
    }

    /// The chosen store's layout.
    var layout: StoreLayout { StoreLayout(root: storeURL) }

    /// The layout of an existing store, for commands that only read one (query, events, stats, replay, invoke):
    /// they never create a store, so a mistyped `--store` is a usage error naming the path.
    static func existing(_ layout: StoreLayout) throws -> StoreLayout {
        do {
            try layout.requireExisting()
        } catch let error as StoreError {
            throw ValidationError(error.description)
        }
        return layout
    }

    /// The layout of an existing store for commands that read or write its databases (events, stats, replay, query,
    /// invoke, import): besides
    /// `existing(_:)`, the folder must hold a store's `db/` or `originals/`; opening the journal of any other folder
    /// would make `db/events.sqlite` in it (until session 27 it did: a store where there was none).
    static func existingStore(_ layout: StoreLayout) throws -> StoreLayout {
        let layout = try existing(layout)
        guard Folder.isFolder(layout.databases.path) || Folder.isFolder(layout.originals.path) else {
            throw ValidationError(
                "\(layout.root.path) is not a picpipe store (it has no db/ or originals/ folder); check --store or "
                    + "PICPIPE_STORE, or create a store with `picpipe batch` or `picpipe serve`")
        }
        return layout
    }

    /// Creates the store for commands that write one (batch, serve): only its last level, so a mistyped
    /// `--store` under a folder that does not exist is refused (exit 2) instead of growing a new tree.
    /// Other failures (permissions, a read-only disk) are one-line errors (exit 1).
    static func create(_ layout: StoreLayout) throws {
        do {
            try layout.createFolders(parents: false)
        } catch StoreError.cannotCreateFolder(let path, _, ENOENT)
            where path == layout.root.path && !Folder.exists(layout.root.deletingLastPathComponent().path)
        {
            let parent = layout.root.deletingLastPathComponent().path
            throw ValidationError(
                "cannot create the store folder \(path): its parent folder \(parent) does not exist "
                    + "(picpipe creates only the last level of the store path, from --store, PICPIPE_STORE or store: "
                    + "in the configuration; check the path, or create the parent first)")
        } catch let error as StoreError {
            if case .notAFolder = error { throw ValidationError(error.description) }
            throw error
        }
        try layout.checkWritable()
    }

    /// Opens one of the store's databases; a failure names the database's path and, when the store cannot be
    /// written (SQLite's WAL needs to write beside the database even to read), says so.
    static func openDatabase<Database>(at url: URL, _ open: () throws -> Database) throws -> Database {
        do {
            return try open()
        } catch {
            var reason = String(describing: error)
            let folder = url.deletingLastPathComponent().path
            if access(folder, W_OK) != 0 {
                let cause = String(cString: strerror(errno))
                reason +=
                    " (the folder \(folder) is not writable: \(cause); "
                    + "SQLite needs to write its -wal and -shm files beside the database, even to read it)"
            }
            throw StoreError.databaseUnavailable(path: url.path, reason: reason)
        }
    }
}
