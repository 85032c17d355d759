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
            Every key is optional in a file; an unknown key or PICPIPE_* variable is refused (with the closest \
            known one). Secrets (http.api_keys, http.signing_key, aws.credentials secrets) print as <redacted> unless \
            --show-secrets.

            Variables: \(PicpipeConfiguration.environmentVariables.joined(separator: ", ")).

            Example:
              PICPIPE_THUMBNAIL_SIZES=128,512 picpipe config --config picpipe.yaml
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var configOptions: ConfigOptions

    @Flag(help: "Print JSON instead of YAML.")
    var json = false

    @Flag(help: "Print http.api_keys, http.signing_key and aws.credentials secrets as they are (default: <redacted>).")
    var showSecrets = false

    func run() throws {
        let loaded = try configOptions.load(store: storeOptions)
        let configuration = showSecrets ? loaded : loaded.redactingSecrets()
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
