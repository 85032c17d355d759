import Foundation
import Locking
import Logging
import Testing

@testable import PipelineCore

/// Holds each invocation until the test opens the gate; logs a line naming its key as it starts and as it ends.
struct GatedFunction: PipelineFunction {
    var name = "gated"
    let role = FunctionRole(read: [.originals])
    let subscriptions: Set<String> = ["ObjectCreated"]
    let gate: Gate

    final class Gate: Sendable {
        private let state = Locked<(open: Bool, entered: Int)>((false, 0))
        func open() { state.withLock { $0.open = true } }
        var entered: Int { state.withLock { $0.entered } }
        func pass() async throws {
            state.withLock { $0.entered += 1 }
            while !state.withLock({ $0.open }) { try await Task.sleep(for: .milliseconds(10)) }
        }
    }

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        context.logger.info("started", metadata: ["key": "\(record.s3.object.key)"])
        context.logger.debug("a debug line stays out of the tail")
        try await gate.pass()
        context.logger.warning("finished", metadata: ["key": "\(record.s3.object.key)"])
        return ["key": .string(record.s3.object.key)]
    }
}

@Suite struct ReservedConcurrencyTests {
    /// One slot: `concurrency: 1`, or `reserved_concurrency: 1` below `concurrency: 2`, which caps synchronous calls
    /// too, as Lambda's reserved concurrency caps every invocation (until session 28 a refusing call on SQLite ran
    /// beside the one worker it allowed).
    @Test(arguments: [
        FunctionConfiguration(concurrency: 1), FunctionConfiguration(concurrency: 2, reservedConcurrency: 1),
    ])
    func aRefusingCallIsThrottledWhileAWorkerHoldsTheOnlySlot(configuration: FunctionConfiguration) async throws {
        let gate = GatedFunction.Gate()
        let runtime = try FunctionRuntimeTests.makeRuntime([
            RegisteredFunction(GatedFunction(gate: gate), configuration: configuration)
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try await FunctionRuntimeTests.running(runtime) {
            try runtime.submit(FunctionRuntimeTests.record(1))
            try await FunctionRuntimeTests.eventually("the worker holds the slot") { gate.entered == 1 }
            #expect(runtime.running("gated") == 1)
            await #expect(throws: RuntimeError.throttled(function: "gated", concurrency: 1)) {
                try await runtime.invoke(
                    function: "gated", record: FunctionRuntimeTests.record(2), type: .requestResponse,
                    options: InvocationOptions(refuseWhenBusy: true))
            }
            #expect(gate.entered == 1, "the refused call did not run")
            gate.open()
            try await FunctionRuntimeTests.eventually("the worker is done") { runtime.running("gated") == 0 }
            let direct = try await runtime.invoke(
                function: "gated", record: FunctionRuntimeTests.record(3), type: .requestResponse,
                options: InvocationOptions(refuseWhenBusy: true))
            #expect(!direct.failed)
        }
    }

    @Test func aSynchronousCallHoldsTheSlotAndTheWorkerWaitsForIt() async throws {
        let gate = GatedFunction.Gate()
        let runtime = try FunctionRuntimeTests.makeRuntime([
            RegisteredFunction(GatedFunction(gate: gate), configuration: FunctionConfiguration(concurrency: 1))
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try await FunctionRuntimeTests.running(runtime) {
            let call = Task {
                try await runtime.invoke(
                    function: "gated", record: FunctionRuntimeTests.record(1), type: .requestResponse,
                    options: InvocationOptions(refuseWhenBusy: true))
            }
            try await FunctionRuntimeTests.eventually("the call holds the slot") { gate.entered == 1 }
            try runtime.submit(FunctionRuntimeTests.record(2))
            // The queued invocation waits: its function's one slot is taken by the call.
            try await Task.sleep(for: .milliseconds(300))
            #expect(gate.entered == 1)
            #expect(runtime.running("gated") == 1)
            gate.open()
            #expect(try await call.value.failed == false)
            try await FunctionRuntimeTests.eventually("the queued one ran after it") {
                try runtime.journal.invocations(state: .succeeded, function: "gated", limit: 10).count == 2
            }
        }
    }

    @Test func theLogOfACallHasItsOwnLinesOnly() async throws {
        let gate = GatedFunction.Gate()
        gate.open()
        let runtime = try FunctionRuntimeTests.makeRuntime([
            RegisteredFunction(GatedFunction(gate: gate), configuration: FunctionConfiguration(concurrency: 4))
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let logs = (1...3).map { InvocationLog(requestID: "request-\($0)") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, log) in logs.enumerated() {
                group.addTask {
                    let response = try await runtime.invoke(
                        function: "gated", record: FunctionRuntimeTests.record(index + 1), type: .requestResponse,
                        options: InvocationOptions(log: log))
                    let lines = (response.log ?? "").split(separator: "\n").map(String.init)
                    let key = FunctionRuntimeTests.record(index + 1).s3.object.key
                    #expect(lines.count == 2, "\(lines)")
                    #expect(lines.allSatisfy { $0.contains("\trequest-\(index + 1)\t") && $0.hasSuffix("key=\(key)") })
                    #expect(lines.first?.contains("\tINFO\tstarted key=") == true)
                    #expect(lines.last?.contains("\tWARN\tfinished key=") == true)
                }
            }
            try await group.waitForAll()
        }
        // Without a log asked for, nothing is kept.
        let plain = try await runtime.invoke(
            function: "gated", record: FunctionRuntimeTests.record(9), type: .requestResponse)
        #expect(plain.log == nil)
    }

    @Test func theTailKeepsTheNewestBytes() {
        let log = InvocationLog(requestID: "r", limit: 100)
        for n in 0..<50 { log.append(level: .info, message: "line \(n)", metadata: nil) }
        let text = log.text
        #expect(text.utf8.count <= 100)
        #expect(text.hasSuffix("\tr\tINFO\tline 49\n"))
        #expect(text.hasPrefix("20"), "cut at a line start: \(text)")
    }
}
