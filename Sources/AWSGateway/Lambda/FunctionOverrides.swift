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
    /// When Put/UpdateFunctionEventInvokeConfig last changed the retries or event age (nil: never, or deleted since).
    var eventInvokeConfigModified: Date?

    enum CodingKeys: String, CodingKey {
        case memoryMB = "memory_mb"
        case timeout
        case maxRetries = "max_retries"
        case maxEventAge = "max_event_age"
        case lastModified = "last_modified"
        case eventInvokeConfigModified = "event_invoke_config_modified"
    }

    /// Whether the function has an event invoke config (a file written before session 28 has the settings only).
    var hasEventInvokeConfig: Bool { eventInvokeConfigModified != nil || maxRetries != nil || maxEventAge != nil }

    /// Whether nothing is changed any more.
    var isEmpty: Bool { memoryMB == nil && timeout == nil && !hasEventInvokeConfig }

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
    /// When the configuration's settings were last put in force here (`applyAll`: at start, and after a reload).
    private let configurationLoaded = Locked(Date())

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

    /// When a function's settings in force last changed, as far as this process knows: the later of the Lambda
    /// API's last change and the configuration's loading (the file may have changed before either), never 1970.
    func lastModified(of function: String) -> Date {
        let loaded = configurationLoaded.withLock { $0 }
        guard let changed = override(for: function)?.lastModified else { return loaded }
        return max(changed, loaded)
    }

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
        try save(all)
        return runtime.update(function: function) { updated.apply(to: &$0) }
    }

    /// Removes a function's event invoke config (DeleteFunctionEventInvokeConfig): its retries and event age go
    /// back to the configuration's, in the runtime now and in the file for the next start or reload.
    /// - Returns: false when the function had none.
    func removeEventInvokeConfig(_ function: String, runtime: FunctionRuntime) throws -> Bool {
        let all = state.withLock { state -> [String: FunctionOverride]? in
            guard var entry = state[function], entry.hasEventInvokeConfig else { return nil }
            entry.maxRetries = nil
            entry.maxEventAge = nil
            entry.eventInvokeConfigModified = nil
            state[function] = entry.isEmpty ? nil : entry
            return state
        }
        guard let all else { return false }
        try save(all)
        let registered = runtime.registeredConfiguration(of: function) ?? FunctionConfiguration()
        runtime.update(function: function) {
            $0.maxRetries = registered.maxRetries
            $0.maxEventAge = registered.maxEventAge
        }
        return true
    }

    private func save(_ all: [String: FunctionOverride]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .secondsSince1970
        try AtomicFile.write(try encoder.encode(all), to: file)
    }

    /// Applies every override to the runtime (at start, and after a configuration reload replaced the settings).
    package func applyAll(to runtime: FunctionRuntime) {
        configurationLoaded.withLock { $0 = Date() }
        for (function, entry) in state.withLock({ $0 }) {
            runtime.update(function: function) { entry.apply(to: &$0) }
        }
    }
}
