// The --store option shared by every command that works on a store.
import ArgumentParser
import Foundation
import PipelineCore

/// `--store DIR`, else `$PICPIPE_STORE`, else `./picstore`.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The store folder (default: $PICPIPE_STORE, else ./picstore).")
    var store: String?

    /// The chosen store root, resolved against the working directory.
    var storeURL: URL {
        let path = store ?? ProcessInfo.processInfo.environment["PICPIPE_STORE"] ?? "./picstore"
        return URL(fileURLWithPath: path)
    }

    /// The chosen store's layout.
    var layout: StoreLayout { StoreLayout(root: storeURL) }
}
