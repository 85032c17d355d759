// `picpipe import URL…`: invokes the fetch function for each URL, queued for serve (Event) or run now
// (RequestResponse); the picture becomes an original with an ObjectCreated:Put event whose source name is the URL.
import ArgumentParser
import FetchService
import Foundation
import Logging
import NIOPosix
import PipelineCore

/// Imports pictures from http(s) URLs.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Fetch pictures by URL into the store (http and https; private addresses refused).",
        discussion: """
            Each URL is fetched with the checks of the `import` configuration section: http and https only, every \
            address the host resolves to (and every redirect's, at most import.max_redirects) refused when it is \
            loopback, private, link-local, CGNAT, multicast or reserved unless import.allow lists it; connect and \
            total timeouts; at most import.max_bytes; the type sniffed from the bytes. The fetch function does \
            it, with its settings (functions.fetch: timeout, retries, dead letter, concurrency, memory_mb); the \
            picture becomes an original with an ObjectCreated:Put event whose source name is the URL.
            Event (default): the fetch invocation is queued for serve; prints one JSON line per URL with its \
            invocation and event ids (`picpipe events` shows it).
            RequestResponse: the fetch runs now, then the thumbnail and metadata functions; prints the picture \
            and their final states.
            A URL that cannot be imported prints `picpipe: URL: reason`; the others go on; exit 1 if any failed.
            Example:
              picpipe import https://example.com/cat.jpg --store ./picstore
            """)

    @Argument(help: "The URLs to import.")
    var urls: [String]

    @Option(help: "Event (default: queue the functions for serve) or RequestResponse (run them now).")
    var invocationType: InvocationType = .event

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var databaseOptions: DatabaseOptions

    func validate() throws {
        guard invocationType != .dryRun else { throw ValidationError("--invocation-type is Event or RequestResponse") }
        guard !urls.isEmpty else { throw ValidationError("give at least one URL") }
    }

    func run() async throws {
        let configuration = databaseOptions.applied(to: try configOptions.load(store: storeOptions))
        _ = try StoreOptions.existingStore(StoreLayout(root: configuration.storeURL))  // as invoke: never creates one
        var logger = Logger(label: "picpipe.import")
        logger.logLevel = .error
        let (runtime, backends) = try FunctionCatalog.runtime(for: configuration, logger: logger)
        defer { backends.close() }
        let failures = try await ImportRunner(runtime: runtime).run(urls, type: invocationType)
        if failures > 0 { throw ExitCode.failure }
    }
}
