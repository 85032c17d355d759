// The Lambda API's saved function settings: DeleteFunctionEventInvokeConfig gives the configuration's retries and
// event age back, in the runtime at once and in STORE/db/lambda/functions.json for a restart or a reload.
import Foundation
import Logging
import PipelineCore
import Testing

@testable import AWSGateway

/// A function that does nothing; only its settings matter here.
struct IdleFunction: PipelineFunction {
    let name = "thumbnail"
    let role = FunctionRole(read: [.originals])
    let subscriptions: Set<String> = ["ObjectCreated"]

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult { [:] }
}

@Suite struct FunctionOverridesTests {
    /// The configuration file's settings of the test's function.
    static let fileSettings = FunctionConfiguration(timeout: 30, memoryMB: 1024, maxRetries: 1, maxEventAge: 600)

    static func makeRuntime() throws -> FunctionRuntime {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "picpipe-overrides-\(UUID().uuidString)")
        let layout = StoreLayout(root: root)
        try layout.createFolders()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return FunctionRuntime(
            layout: layout, journal: try SQLiteInvocationJournal(layout: layout),
            functions: [RegisteredFunction(IdleFunction(), configuration: fileSettings)], logger: logger)
    }

    @Test func deletingTheEventInvokeConfigGivesTheConfigurationsRetriesAndAgeBack() throws {
        let runtime = try Self.makeRuntime()
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let overrides = FunctionOverrides(layout: runtime.layout)
        #expect(try overrides.removeEventInvokeConfig("thumbnail", runtime: runtime) == false)
        _ = try overrides.change("thumbnail", runtime: runtime) { entry in
            entry.memoryMB = 512
            entry.maxRetries = 0
            entry.maxEventAge = 3600
            entry.eventInvokeConfigModified = Date()
        }
        #expect(runtime.configuration(of: "thumbnail")?.maxRetries == 0)

        #expect(try overrides.removeEventInvokeConfig("thumbnail", runtime: runtime))
        let now = try #require(runtime.configuration(of: "thumbnail"))
        #expect(now.maxRetries == 1)
        #expect(now.maxEventAge == 600)
        #expect(now.memoryMB == 512, "UpdateFunctionConfiguration's memory stays")
        #expect(overrides.override(for: "thumbnail")?.hasEventInvokeConfig == false)
        #expect(try overrides.removeEventInvokeConfig("thumbnail", runtime: runtime) == false)

        // The file keeps the memory only.
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: overrides.file)) as? [String: [String: Any]]
        #expect(saved?["thumbnail"]?["memory_mb"] as? Int == 512)
        #expect(saved?["thumbnail"]?["max_retries"] == nil)
        #expect(saved?["thumbnail"]?["max_event_age"] == nil)

        // A reload (SIGHUP) puts the file's settings back and applies what functions.json holds: the file's retries.
        runtime.reconfigure([RegisteredFunction(IdleFunction(), configuration: Self.fileSettings)])
        FunctionOverrides(layout: runtime.layout).applyAll(to: runtime)
        #expect(runtime.configuration(of: "thumbnail")?.maxRetries == 1)
        #expect(runtime.configuration(of: "thumbnail")?.memoryMB == 512)
    }

    @Test func aFileFromBeforeTheDeleteHasAnEventInvokeConfigWhenItHoldsRetries() throws {
        let runtime = try Self.makeRuntime()
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let file = runtime.layout.root.appendingPathComponent("db/lambda/functions.json")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(#"{"thumbnail": {"max_retries": 0, "last_modified": 1700000000}}"#.utf8).write(to: file)
        let overrides = FunctionOverrides(layout: runtime.layout)
        overrides.applyAll(to: runtime)
        #expect(runtime.configuration(of: "thumbnail")?.maxRetries == 0)
        #expect(try overrides.removeEventInvokeConfig("thumbnail", runtime: runtime))
        #expect(runtime.configuration(of: "thumbnail")?.maxRetries == 1)
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
        #expect(saved?.isEmpty == true)
    }

    /// A function never updated through the Lambda API was last modified when its configuration was loaded; it
    /// answered 1970-01-01 until session 35.
    @Test func lastModifiedIsWhenTheSettingsInForceLastChanged() throws {
        let runtime = try Self.makeRuntime()
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let before = Date()
        let overrides = FunctionOverrides(layout: runtime.layout)
        overrides.applyAll(to: runtime)
        let loaded = overrides.lastModified(of: "thumbnail")
        #expect(loaded >= before.addingTimeInterval(-1) && loaded <= Date())
        _ = try overrides.change("thumbnail", runtime: runtime) { $0.memoryMB = 512 }
        let changed = try #require(overrides.override(for: "thumbnail")?.lastModified)
        #expect(overrides.lastModified(of: "thumbnail") == changed)
        // A later start (or reload) loads the configuration after the change.
        let restarted = FunctionOverrides(layout: runtime.layout)
        restarted.applyAll(to: runtime)
        #expect(restarted.lastModified(of: "thumbnail") >= changed)
        #expect(LambdaAPI.lambdaTimestamp(loaded).hasPrefix("20"))
    }
}
