// `picpipe import URL…`: fetch pictures by URL into the store, safely (URLImporter), as originals with an
// ObjectCreated:Put event whose source name is the URL; queued for serve (Event) or run now (RequestResponse).
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
            Each URL is fetched with the checks of the `import` configuration section: http and https only, every
            address the host resolves to (and every redirect's, at most import.max_redirects) refused when it is
            loopback, private, link-local, CGNAT, multicast or reserved unless import.allow lists it; connect and
            total timeouts; at most import.max_bytes; JPEG or PNG sniffed from the bytes. The picture becomes an
            original with an ObjectCreated:Put event whose source name is the URL.
            Event (default): the thumbnail and metadata functions are queued for serve; prints one JSON line per URL.
            RequestResponse: they run now; prints their results.
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
        let layout = try StoreOptions.existing(StoreLayout(root: configuration.storeURL))
        var logger = Logger(label: "picpipe.import")
        logger.logLevel = .error
        let (runtime, _) = try FunctionCatalog.runtime(for: configuration, logger: logger)
        let importer = URLImporter(settings: configuration.imports)
        let failures = try await ImportRunner(
            layout: layout, runtime: runtime, importer: importer, maxFileBytes: configuration.limits.maxFileBytes
        ).run(urls, type: invocationType)
        if failures > 0 { throw ExitCode.failure }
    }
}
