// The --config option and loading the one configuration every long-running command uses.
import ArgumentParser
import Foundation
import PipelineCore

/// `--config FILE` (else `$PICPIPE_CONFIG`), loaded with `--store` and the environment on top.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "A YAML configuration file (default: $PICPIPE_CONFIG; see `picpipe config`).")
    var config: String?

    /// The effective configuration: defaults, then the file, then `PICPIPE_*` variables, then `--store`.
    func load(store: StoreOptions) throws -> PicpipeConfiguration {
        do {
            return try PicpipeConfiguration.load(file: config, store: store.store)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
    }
}
