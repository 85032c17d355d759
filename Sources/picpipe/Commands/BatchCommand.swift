// `picpipe batch INPUT...`: every picture (JPEG, PNG, WebP, GIF, HEIC, AVIF) under the inputs into the store.
import ArgumentParser
import Foundation
import ImageCore
import Logging
import PipelineCore
import PostgresBackend

/// Processes folders of pictures into the store: originals, a thumbnail per size, metadata.
struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract:
            "Put every JPEG, PNG, WebP, GIF, HEIC and AVIF under the inputs into the store, with thumbnails and metadata.",
        discussion: """
            One decode serves all sizes. A file that fails is reported with its path and reason, copied to \
            STORE/failed/ with a .error.json beside it, and the batch goes on. A second run skips what is done.

            Files with the same content are stored once: the first copy is counted ok (or failed), every other \
            copy skipped. Symbolic links are followed. Inputs are checked before the store is touched: a path \
            that does not exist is a usage error. Finding no picture at all is a warning, not an error.

            Ctrl-C (or SIGTERM) stops starting files, lets the running ones finish, prints the partial summary and \
            exits 130 (143 after SIGTERM); nothing partial is left in the store, and the next run skips what is done. \
            A second one exits at once, after removing the pictures the files in flight had not finished.

            Exit code: 0 all succeeded (or nothing found), 1 some failed, 2 usage error, 130/143 interrupted.

            --json prints the summary with "outputs": the thumbnails made by format, their count and bytes. \
            --also-formats webp,avif makes every size in those formats too (the HTTP API otherwise makes them \
            on the first request that wants one), so the summary compares them.

            Example:
              picpipe batch ~/Pictures --store ./picstore -j 2 --sizes 128,256,1024
              picpipe batch ~/Pictures --store ./picstore --also-formats webp,avif --json
            """)

    @Argument(help: "Files and folders (searched recursively).")
    var inputs: [String]

    @OptionGroup var storeOptions: StoreOptions

    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(
        name: .short,
        help: ArgumentHelp(
            "Files decoded at once (default: the number of cores); their writes go on beside.", valueName: "jobs"))
    var jobs: Int?

    @Option(
        help: "Thumbnail sizes (box sides in pixels), comma-separated (default: the configured sizes, 128,256,1024).")
    var sizes: String?

    @OptionGroup var recipe: RecipeOptions

    @Option(help: "Also make every size in these formats, comma-separated (webp, avif, png, jpeg).")
    var alsoFormats: String?

    @Flag(help: "Print the summary as JSON on stdout (with the bytes of the thumbnails made, by format).")
    var json = false

    @Flag(name: .shortAndLong, help: "Do not print progress.")
    var quiet = false

    func validate() throws {
        if let jobs, !(1...256).contains(jobs) { throw ValidationError("-j must be 1 to 256, not \(jobs)") }
        _ = try parsedSizes()
        _ = try parsedAlsoFormats()
    }

    func parsedAlsoFormats() throws -> [ImageFormat] {
        guard let alsoFormats else { return [] }
        return try alsoFormats.split(separator: ",").map { part in
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let format = ImageFormat(fileExtension: name) else {
                throw ValidationError(
                    "--also-formats: '\(name)' is not a format; picpipe writes "
                        + ImageFormat.writable.map(\.rawValue).joined(separator: ", "))
            }
            try RecipeOptions.checkWritable(format, given: "--also-formats \(name)")
            return format
        }
    }

    /// Files decoded at once: `-j`, else the number of cores.
    var workers: Int { jobs ?? ProcessInfo.processInfo.activeProcessorCount }

    func parsedSizes() throws -> [Int]? {
        guard let sizes else { return nil }
        let parts = sizes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { Int($0) }
        guard !parts.isEmpty, values.count == parts.count, values.allSatisfy({ (1...16384).contains($0) }) else {
            throw ValidationError("--sizes must be a comma-separated list of sides from 1 to 16384, not '\(sizes)'")
        }
        return Array(Set(values)).sorted()
    }

    func run() async throws {
        // Caught from the start: a Ctrl-C while the inputs are walked or the store is made stops the batch too
        // (until session 27 the handler came after both, and a background job, which inherits SIGINT ignored,
        // lost one that came early).
        let interrupt = InterruptSignal()
        let hardStop = BatchHardStop()
        interrupt.onSecondInterrupt { signal in Self.exitAtOnce(hardStop, signal: signal) }
        var configuration = databaseOptions.applied(to: recipe.applied(to: try configOptions.load(store: storeOptions)))
        if let sizes = try parsedSizes() { configuration.thumbnails.sizes = sizes }
        try recipe.checkApplies(to: configuration.thumbnails.format, also: try parsedAlsoFormats())
        let layout = StoreLayout(root: configuration.storeURL)
        // Inputs first: a mistyped input must not leave a new store behind.
        let discovery = BatchInput.discover(inputs, store: layout.root.path)
        if !discovery.missing.isEmpty {
            throw ValidationError(
                discovery.missing.map { "\($0): no such file or folder" }.joined(separator: "\n")
                    + "\n(nothing was processed; the store was not touched)")
        }
        for note in discovery.passedOver {
            FileHandleOutput.standardError.write("picpipe: passed over \(LogText.escaped(note))\n")
        }
        let found = discovery.inputs
        if interrupt.received {
            FileHandleOutput.standardError.write(
                "picpipe: interrupted before any file was processed; the store was not touched\n")
            throw ExitCode(interrupt.exitCode)
        }
        if found.isEmpty && discovery.unreadable.isEmpty {
            FileHandleOutput.standardError.write(
                "picpipe: warning: no image file found under \(inputs.joined(separator: ", "))\n")
        }
        try StoreOptions.create(layout)
        if configuration.database.url == nil { try DatabaseBackends.refuseSQLiteIfShared(layout) }
        StoreHealth.shared.oneOffCommand(
            full: "the store's disk is full: the files that cannot be written fail and keep nothing in the store; "
                + "free space and run the same command again (what is done is skipped)")
        var logger = Logger(label: "picpipe.batch")
        logger.logLevel = .warning
        // The same functions `serve` runs, in order: the thumbnail's full decode validates the picture first.
        let metadataStore = try configuration.database.url.map {
            try PostgresMetadataStore(
                pool: DatabaseBackends.connect(DatabaseURL(parsing: $0), layout: layout), root: layout.root)
        }
        let functions = FunctionCatalog.functions(
            for: configuration, alsoFormats: try parsedAlsoFormats(), metadataStore: metadataStore,
            overlapsResize: false, pixelLimitSource: recipe.pixelLimitSource)
        let runner = BatchRunner(
            layout: layout, functions: functions.map(\.function),
            configurations: Dictionary(uniqueKeysWithValues: functions.map { ($0.function.name, $0.configuration) }),
            maxFileBytes: configuration.limits.maxFileBytes, logger: logger)
        let display = BatchProgressDisplay(output: .standardError, quiet: quiet)
        let summary = try await runner.run(
            found, unreadable: discovery.unreadable, jobs: workers, shouldStop: { interrupt.received },
            hardStop: hardStop, progress: { display.show($0) })
        display.finish()
        interrupt.restore()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            FileHandleOutput.standardOutput.write(String(decoding: try encoder.encode(summary), as: UTF8.self) + "\n")
        } else {
            FileHandleOutput.standardOutput.write(
                String(
                    format: "%d ok, %d failed, %d skipped of %d in %.2f s (%.1f images/s) into %@\n", summary.ok,
                    summary.failed, summary.skipped, summary.total, summary.seconds, summary.imagesPerSecond,
                    summary.store))
        }
        if summary.interrupted {
            FileHandleOutput.standardError.write(
                "picpipe: interrupted after \(summary.ok + summary.failed + summary.skipped) of \(summary.total) files; "
                    + "run the same command again to resume (what is done is skipped)\n")
            throw ExitCode(interrupt.exitCode)
        }
        if summary.failed > 0 { throw ExitCode(1) }
    }

    /// The second Ctrl-C: the run's store writes stopped and its unfinished pictures removed (their originals, and
    /// what their functions made), as for a failed file, said, and the process ended with 128 + the signal.
    static func exitAtOnce(_ hardStop: BatchHardStop, signal: Int32) -> Never {
        let line: String
        if let outcome = hardStop.stopNow() {
            let pictures = outcome.removed == 1 ? "picture" : "pictures"
            line =
                "interrupted at once after \(outcome.done) of \(outcome.total) files; \(outcome.removed) unfinished "
                + "\(pictures) removed; run the same command again to resume (what is done is skipped)"
        } else {
            line = "interrupted at once before any file was processed"
        }
        // On a terminal the progress bar's line is cleared first.
        let clear = FileHandleOutput.standardError.isTerminal ? "\r\u{1B}[K" : ""
        FileHandleOutput.standardError.write("\(clear)picpipe: \(line)\n")
        _exit(128 + signal)
    }
}
