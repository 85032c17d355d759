// The --database option shared by every command that opens the journal or the metadata database.
import ArgumentParser
import Foundation
import PipelineCore

/// `--database URL`, else `database.url` of the configuration, else `$PICPIPE_DATABASE_URL`; none: SQLite.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The shared PostgreSQL database: postgres://USER:PASSWORD@HOST:PORT/DB or postgres:///DB?host=/socket/dir "
                + "(default: database.url, $PICPIPE_DATABASE_URL; none: SQLite in STORE/db/).",
            valueName: "URL"))
    var database: String?

    /// The URL to use: the option, then the configuration's (which includes the environment variable).
    func url(configuration: PicpipeConfiguration? = nil) -> String? {
        if let database, !database.isEmpty { return database }
        if let configured = configuration?.database.url { return configured }
        let environment = ProcessInfo.processInfo.environment["PICPIPE_DATABASE_URL"]
        return environment.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The configuration with `--database` applied.
    func applied(to configuration: PicpipeConfiguration) -> PicpipeConfiguration {
        var copy = configuration
        copy.database.url = url(configuration: configuration)
        return copy
    }

    /// The store a reading command (query, events, stats, replay) opens, which must exist, and its database URL:
    /// `--store`, `--config` (or `$PICPIPE_CONFIG`) and the `PICPIPE_*` variables as serve reads them, this option
    /// on top. Until session 27 these commands read neither a configuration file nor its `database.url`: without
    /// `--database` they opened the store's SQLite files and answered empty tables.
    /// The folder must be a store (`StoreOptions.existingStore`): the journal must not be made in a folder that is
    /// no store, and query answers no empty table for one (until session 36 it did).
    func readingTarget(store: StoreOptions, config: ConfigOptions) throws -> (layout: StoreLayout, url: String?) {
        let configuration = applied(to: try config.load(store: store))
        let layout = StoreLayout(root: configuration.storeURL)
        return (try StoreOptions.existingStore(layout), configuration.database.url)
    }
}
