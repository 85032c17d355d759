// The same bytes uploaded under two names and judged at the same moment: the first upload (the one that stored the
// original) is refused, and the second is refused under its own name too, whichever of the two judges ends first.
import Foundation
import Locking
import Testing

@testable import PipelineCore

/// Refuses every upload as a corrupt picture is refused, each upload's answer held until `mayAnswer` lets it go:
/// two judgments at once, ended in the order a test needs.
struct OrderedRefusingFunction: PipelineFunction {
    var name = "refuser"
    let role = FunctionRole(read: [.originals])
    let subscriptions: Set<String> = ["ObjectCreated", "ObjectRemoved"]
    var judgesOriginals: Bool { true }
    /// The source names whose judgment has begun.
    let started: Locked<Set<String>>
    /// Whether the upload of this source name may be refused now.
    let mayAnswer: @Sendable (String) -> Bool

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        if record.eventName.family == "ObjectRemoved" { return ["removed": .bool(true)] }
        let source = record.s3.object.sourceName ?? "?"
        started.withLock { _ = $0.insert(source) }
        while !mayAnswer(source) { try await Task.sleep(for: .milliseconds(5)) }
        throw FunctionError.unprocessable(file: source, reason: "not a picture")
    }
}

@Suite struct TwinRefusalTests {
    static let bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 3, 6]

    /// Judges `twin-a.jpg` (which stored the original) and `twin-b.jpg` (the same bytes, found stored) at once,
    /// each answering when `order` lets it, and returns the runtime, stopped, to look at.
    static func judgeTwins(
        _ order: @escaping @Sendable (_ source: String, _ started: Set<String>, _ layout: StoreLayout) -> Bool
    ) async throws -> FunctionRuntime {
        let started = Locked<Set<String>>([])
        let layout = Locked<StoreLayout?>(nil)
        let function = OrderedRefusingFunction(started: started) { source in
            guard let layout = layout.withLock({ $0 }) else { return false }
            return order(source, started.withLock { $0 }, layout)
        }
        let runtime = try FunctionRuntimeTests.makeRuntime(
            [RegisteredFunction(function, configuration: FunctionConfiguration(concurrency: 2))],
            contentLocks: LocalContentLocks())
        layout.withLock { $0 = runtime.layout }
        let first = FunctionRuntimeTests.storing(JournalTests.record(9, source: "twin-a.jpg"))
        let second = JournalTests.record(9, source: "twin-b.jpg")
        let originals = StoreHandle(
            area: .originals, access: .write, location: runtime.layout.originals, function: "test")
        try originals.write(Self.bytes, to: String(first.s3.object.key.dropFirst("originals/".count)))
        try runtime.submit(first)
        try runtime.submit(second)
        try await FunctionRuntimeTests.running(runtime) {
            try await FunctionRuntimeTests.eventually("both judged, the removal run") {
                try FunctionRuntimeTests.states(runtime, "refuser").sorted() == ["dead", "dead", "succeeded"]
            }
        }
        return runtime
    }

    /// What both orders must end with: the original out of the store, each upload's bytes and letter in failed/
    /// under its own name (replayable), the second's saying whose refusal it shares, and no "kept" letter.
    static func expectBothRefused(
        _ runtime: FunctionRuntime, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let failed = runtime.layout.failed
        let files = try FileManager.default.contentsOfDirectory(atPath: failed.path).sorted()
        #expect(
            files == ["twin-a.jpg", "twin-a.jpg.error.json", "twin-b.jpg", "twin-b.jpg.error.json"],
            sourceLocation: sourceLocation)
        for name in ["twin-a.jpg", "twin-b.jpg"] {
            let kept = try? Data(contentsOf: failed.appendingPathComponent(name))
            #expect(kept.map(Array.init) == Self.bytes, "\(name)", sourceLocation: sourceLocation)
        }
        let letter = try? JSONDecoder().decode(
            DeadLetter.self, from: Data(contentsOf: failed.appendingPathComponent("twin-b.jpg.error.json")))
        #expect(letter?.file == "twin-b.jpg", sourceLocation: sourceLocation)
        #expect(
            letter?.error.contains("(the same bytes as twin-a.jpg, refused)") == true, "\(letter?.error ?? "")",
            sourceLocation: sourceLocation)
        let originals = try FileManager.default.subpathsOfDirectory(atPath: runtime.layout.originals.path)
        #expect(!originals.contains { $0.hasSuffix(".jpg") }, "\(originals)", sourceLocation: sourceLocation)
    }

    /// The second upload's judge ends after the first's refusal took the original out: it is refused under its own
    /// name. Until session 36 it took the original for one stored before it and, finding it gone, kept no letter
    /// at all ("deleted").
    @Test func theSecondJudgedAfterTheRefusalIsRefusedUnderItsOwnName() async throws {
        let runtime = try await Self.judgeTwins { source, started, layout in
            guard source == "twin-b.jpg" else { return started.contains("twin-b.jpg") }
            return FileManager.default.fileExists(atPath: layout.failed.appendingPathComponent("twin-a.jpg").path)
                && (try? FileManager.default.subpathsOfDirectory(atPath: layout.originals.path))?.contains {
                    $0.hasSuffix(".jpg")
                } == false
        }
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try Self.expectBothRefused(runtime)
    }

    /// The second upload's judge ends first, while the original is still stored, and keeps it as "stored before
    /// this event"; the first's refusal then takes the original out and refuses the second under its own name too.
    /// Until session 36 the second kept only `twin-b.jpg.refuser.error.json`: no bytes, nothing to replay.
    @Test func theSecondJudgedBeforeTheRefusalIsRefusedWithIt() async throws {
        let runtime = try await Self.judgeTwins { source, _, layout in
            guard source == "twin-a.jpg" else { return true }
            return FileManager.default.fileExists(
                atPath: layout.failed.appendingPathComponent("twin-b.jpg.refuser.error.json").path)
        }
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try Self.expectBothRefused(runtime)
    }
}
