// `picpipe batch INPUT...`: every JPEG and PNG under the inputs into the store.
import ArgumentParser
import Foundation
import Logging
import PipelineCore

/// Processes folders of pictures into the store: originals, a thumbnail per size, metadata.
struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Put every JPEG and PNG under the inputs into the store, with thumbnails and metadata.",
        discussion: """
            One decode serves all sizes. A file that fails is reported with its path and reason, copied to
            STORE/failed/ with a .error.json beside it, and the batch goes on. A second run skips what is done.
            Exit code: 0 all succeeded, 1 some failed, 2 usage error.
            Example:
              picpipe batch ~/Pictures --store ./picstore -j 2 --sizes 128,256,1024
            """)

    @Argument(help: "Files and folders (searched recursively).")
    var inputs: [String]

    @OptionGroup var storeOptions: StoreOptions

    @OptionGroup var configOptions: ConfigOptions

    @Option(name: .short, help: "Files processed at once (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Thumbnail sizes (box sides in pixels), comma-separated (default: the configured sizes, 128,256,1024).")
    var sizes: String?

    @OptionGroup var recipe: RecipeOptions

    @Flag(help: "Print the summary as JSON on stdout.")
    var json = false

    @Flag(name: .shortAndLong, help: "Do not print progress.")
    var quiet = false

    func validate() throws {
        guard jobs >= 1, jobs <= 256 else { throw ValidationError("-j must be 1 to 256, not \(jobs)") }
        _ = try parsedSizes()
    }

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
        var configuration = recipe.applied(to: try configOptions.load(store: storeOptions))
        if let sizes = try parsedSizes() { configuration.thumbnails.sizes = sizes }
        let layout = StoreLayout(root: configuration.storeURL)
        let (found, missing) = BatchInput.discover(inputs)
        for path in missing { FileHandleOutput.standardError.write("picpipe: \(path): no such file or folder\n") }
        var logger = Logger(label: "picpipe.batch")
        logger.logLevel = .warning
        // The same functions `serve` runs, in order: the thumbnail's full decode validates the picture first.
        let functions = FunctionCatalog.functions(for: configuration)
        let runner = BatchRunner(
            layout: layout, functions: functions.map(\.function),
            configurations: Dictionary(uniqueKeysWithValues: functions.map { ($0.function.name, $0.configuration) }),
            maxFileBytes: configuration.limits.maxFileBytes, logger: logger)
        let display = BatchProgressDisplay(output: .standardError, quiet: quiet)
        let summary = try await runner.run(found, jobs: jobs) { display.show($0) }
        display.finish()
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
        if summary.failed > 0 || !missing.isEmpty { throw ExitCode(1) }
    }
}
