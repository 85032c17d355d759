// `picpipe config`: the effective configuration (defaults, file, environment, --store).
import ArgumentParser
import Foundation
import PipelineCore

/// Prints the configuration picpipe would run with.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the effective configuration as YAML (defaults, then --config FILE, then PICPIPE_* variables).",
        discussion: """
            Every key is optional in a file. Variables: PICPIPE_STORE, PICPIPE_CONFIG, PICPIPE_THUMBNAIL_SIZES,
            PICPIPE_THUMBNAIL_FORMAT, PICPIPE_THUMBNAIL_QUALITY, PICPIPE_MAX_PIXELS, PICPIPE_MAX_FILE_BYTES,
            PICPIPE_FUNCTIONS_<THUMBNAIL|METADATA>_<TIMEOUT|MEMORY_MB|CONCURRENCY|MAX_RETRIES|MAX_EVENT_AGE|ON_FAILURE>,
            PICPIPE_WATCHER_MAX_QUEUED_EVENTS, PICPIPE_RETRY_BACKOFF, PICPIPE_POLL_INTERVAL, PICPIPE_LISTEN,
            PICPIPE_API_KEYS, PICPIPE_MAX_BODY_BYTES, PICPIPE_SIGNING_KEY, PICPIPE_LOG_LEVEL.
            Example:
              PICPIPE_THUMBNAIL_SIZES=128,512 picpipe config --config picpipe.yaml
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var configOptions: ConfigOptions

    @Flag(help: "Print JSON instead of YAML.")
    var json = false

    func run() throws {
        let configuration = try configOptions.load(store: storeOptions)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandleOutput.standardOutput.write(
                String(decoding: try encoder.encode(configuration), as: UTF8.self) + "\n")
        } else {
            FileHandleOutput.standardOutput.write(try configuration.yaml())
        }
    }
}
