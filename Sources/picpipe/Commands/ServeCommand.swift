// `picpipe serve`: one long-running process that watches uploads/, journals events and runs the functions.
import ArgumentParser
import FetchService
import Foundation
import Logging
import PipelineCore

/// Watches `STORE/uploads/`, queues events in the journal and runs the functions until SIGTERM/SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Watch STORE/uploads/, journal the events and run the functions (Ctrl-C to stop).",
        discussion: """
            Files dropped into STORE/uploads/ (and its subfolders) are taken once their writer closes them or \
            renames them into place; they leave uploads/ once stored as originals. Each upload becomes an \
            ObjectCreated:Put event in STORE/db/events.sqlite with one invocation per subscribed function.
            Structured logs go to stderr. SIGTERM or SIGINT: stop taking work, let running invocations finish \
            within runtime.shutdown_grace (then put them back for the next start), exit 0. SIGHUP: read the \
            configuration again (thumbnail sizes and recipes, limits, function timeouts, memory, retries, API \
            keys, scopes, usage plans, protect_reads, signing keys). With \
            SQLite (no --database) only one serve may run on a store; with a PostgreSQL --database any number run, \
            each with its --roles (see the README's "Scaling out").
            Example:
              picpipe serve --store ./picstore
              picpipe serve --store /srv/store --database postgres://picpipe@db/picpipe --roles worker:thumbnail
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "What this process runs: watcher, worker (or worker:FUNCTION), api, comma-separated (default: all). "
                + "With --database many processes share one store: one watcher is active, the others stand by.",
            valueName: "ROLES"))
    var roles: String?

    @Option(
        name: .long,
        help: "Where the HTTP API listens, HOST:PORT (default: http.listen, $PICPIPE_LISTEN, 127.0.0.1:8080).")
    var listen: String?

    @Option(
        name: .long,
        help: """
            Where the S3 and Lambda APIs listen, HOST:PORT (default: aws.listen, $PICPIPE_AWS_LISTEN, \
            127.0.0.1:9000); they start when an access key is configured (aws.credentials or \
            $PICPIPE_AWS_ACCESS_KEY_ID/$PICPIPE_AWS_SECRET_ACCESS_KEY) and aws.enabled is true.
            """)
    var awsListen: String?

    /// A --listen or --aws-listen that is no HOST:PORT is a usage error (exit 2), as the same value in
    /// PICPIPE_LISTEN or http.listen is (until session 36 the options' exited 1, like a port in use).
    func validate() throws {
        for (option, value) in [("--listen", listen), ("--aws-listen", awsListen)] {
            guard let value else { continue }
            do {
                _ = try ListenAddress(parsing: value)
            } catch ListenAddressError.invalid(_, let reason) {
                throw ValidationError("\(option) \(value) is not HOST:PORT (127.0.0.1:8080): \(reason)")
            }
        }
    }

    func run() async throws {
        MallocArenas.limitForLongRunningProcess()
        let configuration = databaseOptions.applied(to: try configOptions.load(store: storeOptions))
        // Before anything starts SwiftNIO's shared event loops.
        if let loops = configuration.http.eventLoops { EventLoopCount.suggest(loops) }
        let asked = try roles.map { try ServeRoles(parsing: $0, known: FunctionSettings.names) } ?? .all
        if asked != .all, configuration.database.url == nil {
            throw ValidationError(
                "--roles needs a shared database (--database postgres://…): with SQLite one serve runs every role")
        }
        // What runs is what the start line and /metrics name: no watcher with `watcher.enabled: false`.
        let roles = asked.running(watcherEnabled: configuration.watcher.enabled)
        if roles.isEmpty {
            throw ValidationError(
                "--roles \(asked) with watcher.enabled false (or PICPIPE_WATCHER_ENABLED=false) runs nothing; "
                    + "enable the watcher or give this process another role")
        }
        let level = Logger.Level(rawValue: configuration.logging.level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = LineSafeLogHandler(StreamLogHandler.standardError(label: label))
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "picpipe.serve")
        if roles.api {
            do {
                // Before anything is created or announced: a port in use is the commonest start-up failure.
                try ListenCheck.check(ListenAddress(parsing: listen ?? configuration.http.listen))
                if ServeApplication.servesAWS(configuration) {
                    try ListenCheck.check(
                        ListenAddress(parsing: awsListen ?? configuration.aws.listen),
                        setting: "--aws-listen HOST:PORT (or aws.listen, PICPIPE_AWS_LISTEN)")
                }
            } catch {
                FileHandleOutput.standardError.write("picpipe serve: \(error)\n")
                throw ExitCode.failure
            }
        }
        let layout = StoreLayout(root: configuration.storeURL)
        if roles.watcher {
            // A link of uploads/ into the store (or to a folder holding it) would feed the store's own files back
            // in as uploads, again and again: refused before anything starts, as a usage error. Before the store's
            // folders are made: a link to nothing is said as one (it was "not a folder" and the usage text).
            do {
                _ = try UploadsFolder.resolve(layout.uploads)
            } catch let error as StoreError {
                FileHandleOutput.standardError.write("picpipe serve: \(error)\n")
                throw ExitCode(2)
            }
        }
        try StoreOptions.create(layout)
        // SQLite: one serve per store (a file lock). PostgreSQL: no lock between processes (NFS does not honour
        // flock reliably); the database arbitrates.
        var lock: ServeLock?
        if configuration.database.url == nil {
            do {
                lock = try ServeLock(layout: layout)
            } catch let error as ServeLockError {
                FileHandleOutput.standardError.write("picpipe serve: \(error)\n")
                throw ExitCode.failure
            }
        }
        let application: ServeApplication
        do {
            let (configOptions, storeOptions, databaseOptions) = (
                self.configOptions, self.storeOptions, self.databaseOptions
            )
            application = try ServeApplication.build(
                configuration: configuration, listen: listen, awsListen: awsListen, logger: logger,
                reload: { databaseOptions.applied(to: try configOptions.load(store: storeOptions)) }, roles: roles)
        } catch let error as ListenAddressError {
            FileHandleOutput.standardError.write("picpipe serve: \(error)\n")
            throw ExitCode.failure
        }
        // Once every service has stopped (or one failed and the group ended): this process runs nothing any more.
        defer { application.backends.close() }
        logger.info(
            "serving",
            metadata: [
                "store": "\(layout.root.path)",
                "functions": "\(application.runtime.functionNames.joined(separator: ","))",
                // The functions whose workers run here (until session 36 only `functions`, every function the store
                // has, so `--roles worker:thumbnail` seemed to run all three).
                "workers": "\(roles.workerNames(of: application.runtime.functionNames))",
                "roles": "\(roles)",
                "database": "\(application.backends.pool.map { "\($0.url)" } ?? "sqlite")",
                "pid": "\(ProcessInfo.processInfo.processIdentifier)",
            ])
        if asked.watcher, !roles.watcher {
            // Said once, so files waiting in uploads/ are not a mystery (until session 34 nothing said so).
            logger.notice(
                """
                uploads/ is not watched by this process (watcher.enabled: false): files dropped there wait until \
                a serve with the watcher takes them; HTTP and S3 uploads are taken
                """,
                metadata: ["uploads": "\(layout.uploads.path)"])
        }
        try await application.run(logger: logger)
        logger.info("stopped")
        lock?.release()
    }
}
