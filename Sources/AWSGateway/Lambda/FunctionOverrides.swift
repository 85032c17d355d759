// What the Lambda API changed of the functions' settings (UpdateFunctionConfiguration, PutFunctionEventInvokeConfig),
// kept in STORE/db/lambda/functions.json so a restart or a configuration reload keeps it, as Lambda keeps a
// function's configuration. The configuration file gives the starting values; these replace them, in every command
// that runs functions (serve with or without the AWS listener, invoke, import: FunctionCatalog.runtime).
import Foundation
import Locking
import PipelineCore

/// One function's changed settings.
struct FunctionOverride: Codable, Sendable, Equatable {
    var memoryMB: Int?
    var timeout: Double?
    var maxRetries: Int?
    var maxEventAge: Double?
    var lastModified: Date?

    enum CodingKeys: String, CodingKey {
        case memoryMB = "memory_mb"
        case timeout
        case maxRetries = "max_retries"
        case maxEventAge = "max_event_age"
        case lastModified = "last_modified"
    }

    /// Applies the changed values.
    func apply(to configuration: inout FunctionConfiguration) {
        if let memoryMB { configuration.memoryMB = memoryMB }
        if let timeout { configuration.timeout = timeout }
        if let maxRetries { configuration.maxRetries = maxRetries }
        if let maxEventAge { configuration.maxEventAge = maxEventAge }
    }
}

/// The overrides of every function, loaded once and written through on each change.
package final class FunctionOverrides: Sendable {
    let file: URL
    private let state: Locked<[String: FunctionOverride]>

    package init(layout: StoreLayout) {
        file = layout.root.appendingPathComponent("db/lambda/functions.json")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        let loaded = FileManager.default.contents(atPath: file.path).flatMap {
            try? decoder.decode([String: FunctionOverride].self, from: $0)
        }
        state = Locked(loaded ?? [:])
    }

    /// A function's override.
    func override(for function: String) -> FunctionOverride? { state.withLock { $0[function] } }

    /// Changes a function's override, writes the file, and applies it to the runtime.
    func change(_ function: String, runtime: FunctionRuntime, _ edit: (inout FunctionOverride) -> Void) throws
        -> FunctionConfiguration?
    {
        let (updated, all) = state.withLock { state -> (FunctionOverride, [String: FunctionOverride]) in
            var entry = state[function] ?? FunctionOverride()
            edit(&entry)
            entry.lastModified = Date()
            state[function] = entry
            return (entry, state)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .secondsSince1970
        try AtomicFile.write(try encoder.encode(all), to: file)
        return runtime.update(function: function) { updated.apply(to: &$0) }
    }

    /// Applies every override to the runtime (at start, and after a configuration reload replaced the settings).
    package func applyAll(to runtime: FunctionRuntime) {
        for (function, entry) in state.withLock({ $0 }) {
            runtime.update(function: function) { entry.apply(to: &$0) }
        }
    }
}
