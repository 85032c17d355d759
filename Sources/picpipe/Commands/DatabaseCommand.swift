// `picpipe db migrate --to URL`: moving a store's SQLite databases into PostgreSQL.
import ArgumentParser
import Foundation
import PipelineCore
import PostgresBackend

/// `picpipe db`: database maintenance.
struct DatabaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Database maintenance (moving a store from SQLite to PostgreSQL).",
        subcommands: [MigrateCommand.self])

    /// Copies the journal, the metadata and the id index of a SQLite store into PostgreSQL.
    struct MigrateCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate",
            abstract: "Copy a store's SQLite journal, metadata and id index into a PostgreSQL database.",
            discussion: """
                Keeps every id; safe to run again (what is already there is not copied twice) and to resume after an \
                interruption. Prints the row counts and checks every copied row. Stop serve first; afterwards run \
                every picpipe process with --database URL (or PICPIPE_DATABASE_URL).
                Example:
                  picpipe db migrate --store ./picstore --to postgres://picpipe@db.example/picpipe
                """)

        @OptionGroup var storeOptions: StoreOptions

        @Option(name: .long, help: ArgumentHelp("The PostgreSQL database to copy into.", valueName: "URL"))
        var to: String

        func run() throws {
            let layout = try StoreOptions.existing(storeOptions.layout)
            let url: DatabaseURL
            do {
                url = try DatabaseURL(parsing: to)
            } catch {
                throw ValidationError("--to: \(error)")
            }
            // A SQLite serve still running would journal uploads the copy misses; it holds the store's lock.
            let lock: ServeLock
            do {
                lock = try ServeLock(layout: layout)
            } catch let error as ServeLockError {
                FileHandleOutput.standardError.write("picpipe db migrate: \(error) (its journal is being copied)\n")
                throw ExitCode.failure
            }
            defer { withExtendedLifetime(lock) {} }
            let report = try SQLiteImport(layout: layout, pool: DatabaseBackends.connect(url, layout: layout)).run()
            print(report.description)
            if !report.mismatches.isEmpty { throw ExitCode.failure }
            print(
                "the store now opens with this database only (\(SharedDatabaseMark.file(in: layout).path)): give "
                    + "--database, database.url or PICPIPE_DATABASE_URL to every picpipe command on it")
        }
    }
}
