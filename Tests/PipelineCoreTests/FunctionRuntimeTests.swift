import Foundation
import ImageCore
import Locking
import Logging
import Testing

@testable import PipelineCore

/// Counts and remembers what a test function saw.
final class Tally: Sendable {
    private let state = Locked<(calls: Int, cancelled: Int, keys: [String])>((0, 0, []))

    /// Counts a call; returns its number, from 1.
    func call(_ record: S3EventRecord) -> Int {
        state.withLock {
            $0.calls += 1
            $0.keys.append(record.s3.object.key)
            return $0.calls
        }
    }

    func cancelled() { state.withLock { $0.cancelled += 1 } }

    var calls: Int { state.withLock { $0.calls } }
    var cancellations: Int { state.withLock { $0.cancelled } }
    var keys: [String] { state.withLock { $0.keys } }
}

/// Records every event; succeeds.
struct RecordingFunction: PipelineFunction {
    var name = "recorder"
    let role = FunctionRole(read: [.originals])
    let subscriptions: Set<String> = ["ObjectCreated", "ObjectRemoved"]
    let tally: Tally

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        let n = tally.call(record)
        return ["call": .int(n), "key": .string(record.s3.object.key), "event": .string(record.eventName.rawValue)]
    }
}

/// A failure that may pass on another attempt (a network blip, a busy disk): retried.
struct TransientFailure: Error, CustomStringConvertible {
    var description: String
}

/// Fails its first `failures` calls with a transient error, then succeeds.
struct FlakyFunction: PipelineFunction {
    var name = "flaky"
    let role = FunctionRole(read: [.originals])
    let subscriptions: Set<String> = ["ObjectCreated"]
    let failures: Int
    let tally: Tally
    /// When set, only this source name fails; others succeed.
    var onlySource: String? = nil

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        let n = tally.call(record)
        if onlySource != nil, record.s3.object.sourceName != onlySource { return ["call": .int(n)] }
        if n <= failures {
            throw TransientFailure(description: "\(record.s3.object.sourceName ?? "?"): failed on call \(n)")
        }
        return ["call": .int(n)]
    }
}

/// The journal's own database out of reach while a function writes its outputs: a backend's error that may pass.
struct DatabaseOutage: PipelineCore.TransientFailure, CustomStringConvertible {
    var description: String { "cannot connect to the database: Connection refused" }
    var mayPassIfRetried: Bool { true }
}

/// Meets a database outage on its first `outages` calls (in the middle of its work), then succeeds.
struct OutageFunction: PipelineFunction {
    var name = "outage"
    let role = FunctionRole(read: [.originals])
    let subscriptions: Set<String> = ["ObjectCreated"]
    let outages: Int
    let tally: Tally

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        let n = tally.call(record)
        if n <= outages { throw DatabaseOutage() }
        return ["call": .int(n)]
    }
}

/// Refuses every `ObjectCreated` as a corrupt picture would be refused; counts every call.
struct RefusingFunction: PipelineFunction {
    var name = "refuser"
    let role = FunctionRole(read: [.originals])
    let subscriptions: Set<String> = ["ObjectCreated", "ObjectRemoved"]
    let tally: Tally
    let judges: Bool
    var judgesOriginals: Bool { judges }
    /// Whether it logs its own error line before it throws (as the thumbnail and metadata functions do).
    var logsItsError = false

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        _ = tally.call(record)
        if record.eventName.family == "ObjectRemoved" { return ["removed": .bool(true)] }
        if logsItsError { context.logger.error("cannot read it", metadata: ["reason": "not a picture"]) }
        throw FunctionError.unprocessable(file: record.s3.object.sourceName ?? "?", reason: "not a picture")
    }
}

/// Sleeps `seconds`; notes when it is cancelled.
struct SleepyFunction: PipelineFunction {
    var name = "sleepy"
    let role = FunctionRole(read: [.originals])
    let subscriptions: Set<String> = ["ObjectCreated"]
    let seconds: Double
    let tally: Tally

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        _ = tally.call(record)
        do {
            try await Task.sleep(for: .seconds(seconds))
        } catch {
            tally.cancelled()
            throw error
        }
        return ["slept": .double(seconds)]
    }
}

/// Holds its synchronous step (a decode in C, stood in for by a semaphore, which checks no `CancellationFlag`) until
/// the test lets it go, then writes a thumbnail; `finished` counts handlers that ended, whether they wrote or threw.
/// A step still queued when its invocation timed out never starts (a crowded machine: BlockingWork's threads busy
/// or not yet scheduled within the 0.2 s); its handler ends with the CancellationError and writes nothing either.
struct StuckFunction: PipelineFunction {
    var name = "stuck"
    let role = FunctionRole(read: [.originals], write: [.thumbnails])
    let subscriptions: Set<String> = ["ObjectCreated"]
    let release: DispatchSemaphore
    let finished: Tally

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        let release = self.release
        defer { _ = finished.call(record) }
        try await BlockingWork.run { release.wait() }
        let thumbnails = try context.store.handle(.thumbnails, .write)
        _ = try await context.writeOutputs { try thumbnails.write(Array("late".utf8), to: "late.txt") }
        return [:]
    }
}

/// Its synchronous step checks its thread's `CancellationFlag` as a decode does (every band), for at most a minute;
/// `finished` counts steps that saw the flag raised, `ended` handlers whose step is over (it stopped, or, queued when
/// the timeout came, never ran: on a crowded machine the step may not have started by then).
struct CooperativeFunction: PipelineFunction {
    var name = "cooperative"
    let role = FunctionRole(read: [.originals], write: [.thumbnails])
    let subscriptions: Set<String> = ["ObjectCreated"]
    let finished: Tally
    let ended: Tally

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        let finished = self.finished
        defer { _ = ended.call(record) }
        try await BlockingWork.run {
            for _ in 0..<60_000 {
                if CancellationFlag.current?.isCancelled == true {
                    _ = finished.call(record)
                    throw ImageError.cancelled
                }
                usleep(1000)
            }
        }
        let thumbnails = try context.store.handle(.thumbnails, .write)
        _ = try await context.writeOutputs { try thumbnails.write(Array("late".utf8), to: "late.txt") }
        return [:]
    }
}

/// Fails after the picture's original was deleted under it (another process's delete, while the attempt ran).
struct DeletedUnderItFunction: PipelineFunction {
    var name = "deleted"
    let role = FunctionRole(read: [.originals])
    let subscriptions: Set<String> = ["ObjectCreated"]
    let tally: Tally

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        _ = tally.call(record)
        let originals = try context.store.handle(.originals, .read)
        let relative = String(record.s3.object.key.dropFirst("originals/".count))
        try FileManager.default.removeItem(at: originals.url(relative))
        throw TransientFailure(description: "the original went away")
    }
}

/// Tries to write thumbnails with a role that grants only reading originals.
struct TrespassingFunction: PipelineFunction {
    let name = "trespasser"
    let role = FunctionRole(read: [.originals])
    let subscriptions: Set<String> = ["ObjectCreated"]

    func handle(_ record: S3EventRecord, context: FunctionContext) async throws -> FunctionResult {
        let thumbnails = try context.store.handle(.thumbnails, .write)
        try thumbnails.write([1, 2, 3], to: "stolen.bin")
        return [:]
    }
}

@Suite struct FunctionRuntimeTests {
    /// A fresh store and journal, and a runtime over `functions` with fast retries.
    /// - Parameter shutdownGrace: how long `stop()` lets in-flight invocations run (the default's 10 s).
    static func makeRuntime(
        _ functions: [RegisteredFunction], shutdownGrace: Double = 10, logger: Logger? = nil,
        journalRetentionDays: Double = 30, contentLocks: (any ContentLocks)? = nil
    ) throws -> FunctionRuntime {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("picpipe-runtime-\(UUID().uuidString)")
        let layout = StoreLayout(root: root)
        try layout.createFolders()
        var settings = RuntimeSettings()
        settings.retryBackoff = [0.05, 0.1]
        settings.pollInterval = 0.05
        settings.shutdownGrace = shutdownGrace
        settings.journalRetentionDays = journalRetentionDays
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        // A function left at the default 30 s timeout is in no timeout test: it gets `untimed`'s 600 s. While every
        // suite starts at once, the concurrency pool's two threads have been held for over 30 s, and a 0.5 s sleep
        // that resumed late came back TimedOut, then ran again or was put back at shutdown (session 32's CI).
        let patient = functions.map { registered -> RegisteredFunction in
            guard registered.configuration.timeout == FunctionConfiguration().timeout else { return registered }
            var configuration = registered.configuration
            configuration.timeout = untimed.timeout
            return RegisteredFunction(registered.function, configuration: configuration)
        }
        return FunctionRuntime(
            layout: layout, journal: try SQLiteInvocationJournal(layout: layout), functions: patient,
            settings: settings, logger: logger ?? quiet, contentLocks: contentLocks)
    }

    /// For a synchronous call that is no timeout test: a loaded CI machine has held the concurrency pool's two
    /// threads for 50 s while the suites start, and a trivial call past the default 30 s came back `TimedOut`.
    static let untimed = FunctionConfiguration(timeout: 600)

    static func record(_ n: Int, name: EventName = .objectCreatedPut) -> S3EventRecord {
        JournalTests.record(n, name: name)
    }

    /// `record` as an upload that stored its original makes it (`newlyStored`): a refusal may take the original back.
    static func storing(_ record: S3EventRecord) -> S3EventRecord {
        var storing = record
        storing.s3.object.newlyStored = true
        return storing
    }

    /// Puts a few bytes where `record` says its original is: a dead letter is kept only while the original is there.
    static func storeOriginal(of record: S3EventRecord, in runtime: FunctionRuntime) throws {
        let originals = StoreHandle(
            area: .originals, access: .write, location: runtime.layout.originals, function: "test")
        try originals.write([0xFF, 0xD8, 0xFF], to: String(record.s3.object.key.dropFirst("originals/".count)))
    }

    /// Runs the runtime's workers during `body`, then stops them and waits.
    static func running(_ runtime: FunctionRuntime, _ body: () async throws -> Void) async throws {
        let workers = Task { await runtime.run() }
        do {
            try await body()
        } catch {
            runtime.stop()
            await workers.value
            throw error
        }
        runtime.stop()
        await workers.value
    }

    /// Polls `condition` until it holds or a generous number of polls, `seconds` of them, went by (a bound on
    /// waiting, not a timing check). Polls, not a wall-clock deadline: in CI (two cores) tests that wait for a
    /// child process block the concurrency pool's threads, and a poller that could not run for 85 s found its
    /// deadline passed without having looked again while the file it waited for had long been yielded.
    static func eventually(_ what: String, within seconds: Double = 60, _ condition: () throws -> Bool) async throws {
        for _ in 0..<Int(seconds / 0.02) {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        if try condition() { return }
        Issue.record("timed out waiting for: \(what)")
        throw CancellationError()
    }

    static func states(_ runtime: FunctionRuntime, _ function: String) throws -> [String] {
        try runtime.journal.invocations(state: nil, function: function, limit: 100).map(\.state)
    }

    @Test func eachEventFansOutToEverySubscribedFunctionOnce() async throws {
        let tally = Tally()
        let other = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(RecordingFunction(tally: tally), configuration: FunctionConfiguration()),
            RegisteredFunction(
                RecordingFunction(name: "second", tally: other), configuration: FunctionConfiguration(concurrency: 2)),
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try await Self.running(runtime) {
            for n in 0..<10 { try runtime.submit(Self.record(n)) }
            try runtime.submit(Self.record(0, name: .objectRemovedDelete))
            try await Self.eventually("all succeeded") {
                try Self.states(runtime, "recorder") == Array(repeating: "succeeded", count: 11)
                    && Self.states(runtime, "second") == Array(repeating: "succeeded", count: 11)
            }
        }
        #expect(tally.calls == 11)
        #expect(other.calls == 11)
        #expect(Set(tally.keys).count == 10)
    }

    @Test func aFailingFunctionIsRetriedThenSucceeds() async throws {
        let tally = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(
                FlakyFunction(failures: 2, tally: tally), configuration: FunctionConfiguration(maxRetries: 2))
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try await Self.running(runtime) {
            try runtime.submit(Self.record(1))
            try await Self.eventually("succeeded") { try Self.states(runtime, "flaky") == ["succeeded"] }
        }
        #expect(tally.calls == 3)
        let statistics = try #require(try runtime.statistics().first)
        #expect(statistics.invocations == 3)
        #expect(statistics.errors == 2)
        #expect(statistics.retries == 2)
        #expect(statistics.deadLettered == 0)
    }

    /// Losing picpipe's own database is not the function's failure: the invocation goes back to the queue as the
    /// same attempt, with no error or retry metered, and no dead letter even with `max_retries: 0` (until session 37
    /// a PostgreSQL restart under a thumbnail run used up an attempt, and dead-lettered a good picture).
    @Test func aDatabaseOutageUnderAFunctionCostsNoAttempt() async throws {
        let tally = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(
                OutageFunction(outages: 2, tally: tally), configuration: FunctionConfiguration(maxRetries: 0))
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try Self.storeOriginal(of: Self.record(1), in: runtime)
        try await Self.running(runtime) {
            try runtime.submit(Self.record(1))
            try await Self.eventually("succeeded") { try Self.states(runtime, "outage") == ["succeeded"] }
        }
        #expect(tally.calls == 3)
        let statistics = try #require(try runtime.statistics().first)
        #expect(statistics.invocations == 1)
        #expect(statistics.errors == 0)
        #expect(statistics.retries == 0)
        #expect(statistics.deadLettered == 0)
        let done = try #require(try runtime.journal.invocations(state: .succeeded, function: "outage", limit: 1).first)
        #expect(done.attempt == 1)
        let letters = (try? FileManager.default.contentsOfDirectory(atPath: runtime.layout.failed.path)) ?? []
        #expect(letters.isEmpty, "\(letters)")
    }

    @Test func aPoisonEventIsDeadLetteredWithItsReasonAndOthersAreServed() async throws {
        let poison = Tally()
        let good = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(
                FlakyFunction(failures: .max, tally: poison, onlySource: "file1.jpg"),
                configuration: FunctionConfiguration(maxRetries: 2)),
            RegisteredFunction(RecordingFunction(tally: good), configuration: FunctionConfiguration()),
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try Self.storeOriginal(of: Self.record(1), in: runtime)
        try await Self.running(runtime) {
            try runtime.submit(Self.record(1))
            try await Self.eventually("dead") { try Self.states(runtime, "flaky") == ["dead"] }
            try runtime.submit(Self.record(2))
            try await Self.eventually("others served") {
                try Self.states(runtime, "recorder") == ["succeeded", "succeeded"]
                    && Self.states(runtime, "flaky") == ["succeeded", "dead"]
            }
        }
        #expect(poison.calls == 4)
        let dead = try #require(try runtime.journal.invocations(state: .dead, function: "flaky", limit: 1).first)
        #expect(dead.attempt == 3)
        #expect(dead.error?.contains("failed on call 3") == true)
        let letterURL = runtime.layout.failed.appendingPathComponent("file1.jpg.flaky.error.json")
        let letter = try JSONDecoder().decode(DeadLetter.self, from: try Data(contentsOf: letterURL))
        #expect(letter.stage == "flaky")
        #expect(letter.attempts == 3)
        #expect(letter.error.contains("failed on call 3"))
    }

    @Test func aFunctionPastItsTimeoutIsCancelledAndRetried() async throws {
        let tally = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(
                SleepyFunction(seconds: 3600, tally: tally),
                configuration: FunctionConfiguration(timeout: 0.2, maxRetries: 1))
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try await Self.running(runtime) {
            try runtime.submit(Self.record(1))
            try await Self.eventually("dead after retry") { try Self.states(runtime, "sleepy") == ["dead"] }
            try await Self.eventually("both attempts cancelled") { tally.cancellations == 2 }
        }
        #expect(tally.calls == 2)
        let dead = try #require(try runtime.journal.invocations(state: .dead, function: "sleepy", limit: 1).first)
        #expect(dead.error == FunctionError.timedOut(seconds: 0.2).description)
    }

    @Test func aTimedOutHandlerWritesNothingWhenItsStepEndsLate() async throws {
        let release = DispatchSemaphore(value: 0)
        let finished = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(
                StuckFunction(release: release, finished: finished),
                configuration: FunctionConfiguration(timeout: 0.2, maxRetries: 0))
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try await Self.running(runtime) {
            try runtime.submit(Self.record(1))
            // Dead-lettered while its step still holds a thread: the timeout does not wait for the step.
            try await Self.eventually("dead while stuck") { try Self.states(runtime, "stuck") == ["dead"] }
            release.signal()
            try await Self.eventually("the late handler ended") { finished.calls == 1 }
        }
        #expect(
            !FileManager.default.fileExists(atPath: runtime.layout.thumbnails.appendingPathComponent("late.txt").path))
        let dead = try #require(try runtime.journal.invocations(state: .dead, function: "stuck", limit: 1).first)
        #expect(dead.error == FunctionError.timedOut(seconds: 0.2).description)
    }

    @Test func aTimedOutHandlersSynchronousStepStops() async throws {
        let finished = Tally()
        let ended = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(
                CooperativeFunction(finished: finished, ended: ended),
                configuration: FunctionConfiguration(timeout: 0.2, maxRetries: 0))
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try await Self.running(runtime) {
            try runtime.submit(Self.record(1))
            try await Self.eventually("dead") { try Self.states(runtime, "cooperative") == ["dead"] }
            // Its step saw the timeout's cancellation and stopped, freeing its thread, or never started (until session
            // 37 it ran on for its minute). `BlockingWork.run` returns only once the step is over.
            try await Self.eventually("the step stopped", within: 30) { ended.calls == 1 }
        }
        #expect(finished.calls <= 1)
        #expect(
            !FileManager.default.fileExists(atPath: runtime.layout.thumbnails.appendingPathComponent("late.txt").path))
        let dead = try #require(try runtime.journal.invocations(state: .dead, function: "cooperative", limit: 1).first)
        #expect(dead.error == FunctionError.timedOut(seconds: 0.2).description)
    }

    @Test func aFunctionCannotUseAnAreaItsRoleDoesNotGrant() async throws {
        let runtime = try Self.makeRuntime([
            RegisteredFunction(TrespassingFunction(), configuration: Self.untimed)
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let response = try await runtime.invoke(function: "trespasser", record: Self.record(1), type: .requestResponse)
        #expect(response.failed)
        guard case .object(let payload) = response.payload else {
            Issue.record("no error payload")
            return
        }
        #expect(payload["errorType"] == .string("AccessDenied"))
        #expect(
            !FileManager.default.fileExists(atPath: runtime.layout.thumbnails.appendingPathComponent("stolen.bin").path)
        )
        #expect(try runtime.journal.invocations(state: .failed, function: "trespasser", limit: 1).count == 1)
    }

    @Test func invocationTypes() async throws {
        let tally = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(RecordingFunction(tally: tally), configuration: Self.untimed)
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        // A caller's ObjectCreated record names a stored original.
        for n in 1...2 { try Self.storeOriginal(of: Self.record(n), in: runtime) }
        let dry = try await runtime.invoke(function: "recorder", record: Self.record(1), type: .dryRun)
        #expect(dry.statusCode == 204)
        #expect(tally.calls == 0)
        var bad = Self.record(1)
        bad.s3.object.eTag = "not-a-hash"
        await #expect(throws: FunctionError.self) {
            try await runtime.invoke(function: "recorder", record: bad, type: .dryRun)
        }
        await #expect(throws: RuntimeError.self) {
            try await runtime.invoke(function: "nobody", record: bad, type: .dryRun)
        }

        let direct = try await runtime.invoke(function: "recorder", record: Self.record(1), type: .requestResponse)
        #expect(direct.statusCode == 200)
        #expect(!direct.failed)
        #expect(tally.calls == 1)

        let queued = try await runtime.invoke(function: "recorder", record: Self.record(2), type: .event)
        #expect(queued.statusCode == 202)
        #expect(tally.calls == 1)
        try await Self.running(runtime) {
            try await Self.eventually("queued event ran") { tally.calls == 2 }
        }
    }

    /// `picpipe invoke` stopped by Ctrl-C or SIGTERM records its call as failed before it exits (until session 32
    /// the call stayed `running` until a serve's sweep, or for good without one).
    @Test func anInterruptedCallIsRecordedFailed() async throws {
        let tally = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(SleepyFunction(seconds: 600, tally: tally), configuration: Self.untimed)
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try Self.storeOriginal(of: Self.record(1), in: runtime)
        let call = Task { try await runtime.invoke(function: "sleepy", record: Self.record(1), type: .requestResponse) }
        defer { call.cancel() }
        try await Self.eventually("running") { try Self.states(runtime, "sleepy") == ["running"] }
        #expect(runtime.interruptCalls(signal: "SIGINT") == 1)
        let closed = try #require(try runtime.journal.invocations(state: nil, function: "sleepy", limit: 1).first)
        #expect(closed.state == "failed")
        #expect(closed.error == "interrupted: the invoking process got SIGINT before the invocation finished")
        #expect(runtime.interruptCalls(signal: "SIGINT") == 0)
    }

    @Test func eventsOlderThanMaxEventAgeAreDeadLettered() async throws {
        let tally = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(RecordingFunction(tally: tally), configuration: FunctionConfiguration(maxEventAge: 0.05))
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try runtime.submit(Self.record(1))
        try await Task.sleep(for: .milliseconds(200))
        try await Self.running(runtime) {
            try await Self.eventually("dead") { try Self.states(runtime, "recorder") == ["dead"] }
        }
        #expect(tally.calls == 0)
        let dead = try #require(try runtime.journal.invocations(state: .dead, function: "recorder", limit: 1).first)
        #expect(dead.error?.contains("max_event_age") == true)
        // Not invoked: no attempt, error or retry is metered (Lambda counts it dropped, not run).
        #expect(dead.attempt == 0)
        let statistics = try #require(try runtime.statistics().first)
        #expect(statistics.invocations == 0)
        #expect(statistics.errors == 0)
        #expect(statistics.retries == 0)
        #expect(statistics.deadLettered == 1)
    }

    @Test func invocationsLeftRunningByACrashRunAgain() async throws {
        let tally = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(RecordingFunction(tally: tally), configuration: FunctionConfiguration())
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try runtime.submit(Self.record(1))
        // A worker of a crashed process had claimed it.
        _ = try #require(try runtime.journal.claim(function: "recorder", now: Date()))
        try await Self.running(runtime) {
            try await Self.eventually("recovered and run") { try Self.states(runtime, "recorder") == ["succeeded"] }
        }
        #expect(tally.calls == 1)
        // The crashed attempt counts, as Lambda counts a runtime that exits.
        let done = try #require(
            try runtime.journal.invocations(state: .succeeded, function: "recorder", limit: 1).first)
        #expect(done.attempt == 2)
    }

    @Test func anInvocationWhoseProcessStopsAtEveryAttemptIsDeadLetteredNotRunForEver() async throws {
        let tally = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(RecordingFunction(tally: tally), configuration: FunctionConfiguration(maxRetries: 1))
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try Self.storeOriginal(of: Self.record(1), in: runtime)
        try runtime.submit(Self.record(1))
        // Two processes crashed running it (a picture that takes its worker down): both attempts are taken.
        _ = try #require(try runtime.journal.claim(function: "recorder", now: Date()))
        #expect(try runtime.journal.recoverRunning() == 1)
        let waiting = try #require(
            try runtime.journal.invocations(state: .queued, function: "recorder", limit: 1).first)
        #expect(waiting.attempt == 1)
        #expect(waiting.error == RecoveredAttempt.stoppedError)
        _ = try #require(try runtime.journal.claim(function: "recorder", now: Date()))
        try await Self.running(runtime) {
            try await Self.eventually("dead") { try Self.states(runtime, "recorder") == ["dead"] }
        }
        #expect(tally.calls == 0, "not run a third time")
        let dead = try #require(try runtime.journal.invocations(state: .dead, function: "recorder", limit: 1).first)
        #expect(dead.error?.hasPrefix("2 attempts ended without an outcome") == true)
        // Two attempts, both errors, one of them a retry; the claim that dead-lettered it ran nothing and counts none.
        #expect(dead.attempt == 2)
        let metered = try #require(try runtime.statistics().first)
        #expect(metered.invocations == 2 && metered.errors == 2 && metered.retries == 1, "\(metered)")
        let letterURL = runtime.layout.failed.appendingPathComponent("file1.jpg.recorder.error.json")
        let letter = try JSONDecoder().decode(DeadLetter.self, from: try Data(contentsOf: letterURL))
        #expect(letter.attempts == 2)
        #expect(letter.error.contains("the process running it stopped before it finished"))
        // A replay runs it again from its first attempt.
        #expect(try runtime.journal.replayFailed(excluding: []) == 1)
        let replayed = try #require(try runtime.journal.claim(function: "recorder", now: Date()))
        #expect(replayed.attempt == 1)
    }

    /// A picture deleted while its invocation ran leaves no dead letter: the delete's settling of `failed/` had
    /// come before the letter, and no redrive could run it (until session 29 the letter stayed for ever).
    @Test func anInvocationOfAPictureDeletedWhileItRanLeavesNoDeadLetter() async throws {
        let tally = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(
                DeletedUnderItFunction(tally: tally), configuration: FunctionConfiguration(maxRetries: 0))
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try Self.storeOriginal(of: Self.record(1), in: runtime)
        try await Self.running(runtime) {
            try runtime.submit(Self.record(1))
            try await Self.eventually("dead") { try Self.states(runtime, "deleted") == ["dead"] }
        }
        #expect(tally.calls == 1)
        #expect(try runtime.statistics().first?.deadLettered == 1, "still counted: it did fail")
        let letters = try FileManager.default.contentsOfDirectory(atPath: runtime.layout.failed.path)
        #expect(letters.isEmpty, "\(letters)")
    }

    @Test func anUnprocessableInputIsNotRetried() async throws {
        let tally = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(
                RefusingFunction(tally: tally, judges: false), configuration: FunctionConfiguration(maxRetries: 2))
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try Self.storeOriginal(of: Self.record(1), in: runtime)
        try await Self.running(runtime) {
            try runtime.submit(Self.record(1))
            try await Self.eventually("dead") { try Self.states(runtime, "refuser") == ["dead"] }
        }
        #expect(tally.calls == 1)
        let statistics = try #require(try runtime.statistics().first)
        #expect(statistics.retries == 0)
        #expect(statistics.deadLettered == 1)
        // Not a judge: the original stays, only the dead letter says why.
        let letter = runtime.layout.failed.appendingPathComponent("file1.jpg.refuser.error.json")
        #expect(FileManager.default.fileExists(atPath: letter.path))
    }

    /// Two invocations of the same input that are both dead-lettered keep a letter each, numbered as two inputs of
    /// one name are, each naming its invocation (until session 37 the second overwrote the first: two dead
    /// imports of one URL left one letter); a replay of one that fails again keeps to its own letter.
    @Test func twoDeadInvocationsOfOneInputKeepALetterEach() async throws {
        let tally = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(
                RefusingFunction(tally: tally, judges: false), configuration: FunctionConfiguration(maxRetries: 0))
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try Self.storeOriginal(of: Self.record(1), in: runtime)
        let letters = {
            try FileManager.default.contentsOfDirectory(atPath: runtime.layout.failed.path)
                .filter { $0.hasSuffix(".error.json") }.sorted()
        }
        try await Self.running(runtime) {
            try runtime.submit(Self.record(1))
            try runtime.submit(Self.record(1))
            try await Self.eventually("both dead") { try Self.states(runtime, "refuser") == ["dead", "dead"] }
            #expect(try letters() == ["file1.jpg.1.refuser.error.json", "file1.jpg.refuser.error.json"])
            #expect(try runtime.journal.replayFailed(excluding: []) == 2)
            try await Self.eventually("both dead again") {
                try Self.states(runtime, "refuser") == ["dead", "dead"] && tally.calls == 4
            }
        }
        let kept = try letters()
        #expect(kept == ["file1.jpg.1.refuser.error.json", "file1.jpg.refuser.error.json"], "\(kept)")
        let invocations = try kept.map {
            try JSONDecoder().decode(
                DeadLetter.self, from: Data(contentsOf: runtime.layout.failed.appendingPathComponent($0))
            ).invocation
        }
        let dead = try runtime.journal.invocations(state: .dead, function: "refuser", limit: 10).map(\.id)
        #expect(Set(invocations.compactMap { $0 }) == Set(dead), "\(invocations) \(dead)")
    }

    /// The same bytes uploaded under two names, both taken before the first was judged: the judge refuses the
    /// first, and the second, waiting, is refused too under its own name, bytes and letter in failed/ (until session
    /// 33 it found its original gone and ended `succeeded`, "the original was deleted", with nothing in failed/).
    @Test func anUploadWhoseTwinWasRefusedIsRefusedUnderItsOwnName() async throws {
        let tally = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(RefusingFunction(tally: tally, judges: true), configuration: FunctionConfiguration())
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let first = Self.storing(JournalTests.record(8, source: "twin-a.jpg"))
        let second = JournalTests.record(8, source: "twin-b.jpg")
        let relative = String(first.s3.object.key.dropFirst("originals/".count))
        let originals = StoreHandle(
            area: .originals, access: .write, location: runtime.layout.originals, function: "test")
        try originals.write([0xFF, 0xD8, 0xFF, 9, 9], to: relative)
        try runtime.submit(first)
        try runtime.submit(second)
        try await Self.running(runtime) {
            try await Self.eventually("both refused") {
                try Self.states(runtime, "refuser").sorted() == ["dead", "dead", "succeeded"]
            }
        }
        #expect(tally.calls == 2, "the first upload judged, then the ObjectRemoved clean-up; the twin not run")
        let failed = runtime.layout.failed
        for name in ["twin-a.jpg", "twin-b.jpg"] {
            let kept = try Data(contentsOf: failed.appendingPathComponent(name))
            #expect(Array(kept) == [0xFF, 0xD8, 0xFF, 9, 9], "\(name)")
            let letter = try JSONDecoder().decode(
                DeadLetter.self, from: Data(contentsOf: failed.appendingPathComponent(name + ".error.json")))
            #expect(letter.file == name)
            #expect(letter.error.contains("not a picture"))
        }
        let twin = try #require(
            try runtime.journal.invocations(state: .dead, function: "refuser", limit: 10).first {
                $0.sourceName == "twin-b.jpg"
            })
        #expect(twin.error?.contains("the same bytes as twin-a.jpg, refused") == true, "\(twin.error ?? "")")
    }

    @Test func anOriginalItsJudgeRefusesLeavesTheStoreForFailed() async throws {
        let tally = Tally()
        let removals = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(
                RefusingFunction(tally: tally, judges: true), configuration: FunctionConfiguration(maxRetries: 2)),
            RegisteredFunction(RecordingFunction(tally: removals), configuration: FunctionConfiguration()),
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let record = Self.record(7)
        let relative = String(record.s3.object.key.dropFirst("originals/".count))
        let originals = StoreHandle(
            area: .originals, access: .write, location: runtime.layout.originals, function: "test")
        try originals.write([0xFF, 0xD8, 0xFF, 1, 2, 3], to: relative)
        try await Self.running(runtime) {
            try runtime.submit(Self.storing(record))
            try await Self.eventually("refused and removed") {
                try Self.states(runtime, "refuser") == ["succeeded", "dead"]
                    && Self.states(runtime, "recorder") == ["succeeded", "succeeded"]
            }
        }
        #expect(tally.calls == 2, "one attempt at the upload, then the ObjectRemoved clean-up")
        #expect(!originals.exists(relative))
        let failed = runtime.layout.failed
        let kept = try Data(contentsOf: failed.appendingPathComponent("file7.jpg"))
        #expect(Array(kept) == [0xFF, 0xD8, 0xFF, 1, 2, 3])
        let letter = try JSONDecoder().decode(
            DeadLetter.self, from: Data(contentsOf: failed.appendingPathComponent("file7.jpg.error.json")))
        #expect(letter.stage == "refuser")
        #expect(letter.error.contains("not a picture"))
        let events = try runtime.journal.invocations(state: nil, function: "recorder", limit: 10).map(\.eventName)
        #expect(Set(events) == ["ObjectCreated:Put", "ObjectRemoved:Delete"])
    }

    /// An original that was in the store before its event (the same bytes uploaded again, a replay, a caller's
    /// Event invoke) is not refused out of it: only the invocation is dead-lettered, with a letter under its name
    /// and function, and no `ObjectRemoved` runs (until session 34 a tightened limit turned such an event into the
    /// removal of a stored picture: original to failed/, thumbnails and metadata removed).
    @Test func anOriginalStoredBeforeItsEventStaysWhenItsJudgeRefusesTheEvent() async throws {
        let tally = Tally()
        let removals = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(
                RefusingFunction(tally: tally, judges: true), configuration: FunctionConfiguration(maxRetries: 2)),
            RegisteredFunction(RecordingFunction(tally: removals), configuration: FunctionConfiguration()),
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let again = JournalTests.record(6, source: "copy-again.jpg")
        let relative = String(again.s3.object.key.dropFirst("originals/".count))
        let originals = StoreHandle(
            area: .originals, access: .write, location: runtime.layout.originals, function: "test")
        try originals.write([0xFF, 0xD8, 0xFF, 4, 5, 6], to: relative)
        // The same judgement of a caller's record: `queueEvents` drops a `newlyStored` it names.
        let invoked = Self.storing(JournalTests.record(6, source: "invoked.jpg"))
        try await Self.running(runtime) {
            try runtime.submit(again)
            _ = try runtime.queueEvents(function: "refuser", records: [invoked])
            try await Self.eventually("both dead-lettered") {
                try Self.states(runtime, "refuser") == ["dead", "dead"]
                    && Self.states(runtime, "recorder") == ["succeeded"]
            }
        }
        #expect(tally.calls == 2, "each event judged once, no ObjectRemoved clean-up")
        #expect(try Array(originals.read(relative)) == [0xFF, 0xD8, 0xFF, 4, 5, 6])
        let failed = runtime.layout.failed
        #expect(!FileManager.default.fileExists(atPath: failed.appendingPathComponent("copy-again.jpg").path))
        let letter = try JSONDecoder().decode(
            DeadLetter.self,
            from: Data(contentsOf: failed.appendingPathComponent("copy-again.jpg.refuser.error.json")))
        #expect(letter.error.contains("not a picture"))
        let events = try runtime.journal.invocations(state: nil, function: nil, limit: 10).map(\.eventName)
        #expect(!events.contains("ObjectRemoved:Delete"))
    }

    /// A refusal is one error line: the function's own when it logged why (the runtime's line about the same
    /// failure is a warning then), else the runtime's (until session 30 a refused upload gave two error lines).
    @Test(arguments: [(judges: true, logs: true), (judges: false, logs: true), (judges: false, logs: false)])
    func aRefusalIsOneErrorLine(judges: Bool, logs: Bool) async throws {
        let lines = Locked<[String]>([])
        let logger = Logger(label: "test") { _ in CapturingLogHandler(lines: lines, withLevels: true) }
        let runtime = try Self.makeRuntime(
            [
                RegisteredFunction(
                    RefusingFunction(tally: Tally(), judges: judges, logsItsError: logs),
                    configuration: FunctionConfiguration(maxRetries: 2))
            ], logger: logger)
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try Self.storeOriginal(of: Self.record(3), in: runtime)
        try await Self.running(runtime) {
            try runtime.submit(Self.storing(Self.record(3)))
            try await Self.eventually("refused") { try Self.states(runtime, "refuser").contains("dead") }
        }
        let errors = lines.withLock { $0 }.filter { $0.hasPrefix("error ") }
        let runtimeLine = judges ? "original refused" : "invocation dead-lettered"
        #expect(errors == [logs ? "error cannot read it" : "error \(runtimeLine)"])
        #expect(lines.withLock { $0 }.contains((logs ? "warning " : "error ") + runtimeLine))
    }

    /// An upload the judge refuses is one error line though another function (metadata) fails on it too: the judge
    /// says it at error, the other function's failure is a warning (until session 32 each said it at error).
    @Test func anOriginalRefusedByTwoFunctionsIsOneErrorLine() async throws {
        let lines = Locked<[String]>([])
        let logger = Logger(label: "test") { _ in CapturingLogHandler(lines: lines, withLevels: true) }
        let runtime = try Self.makeRuntime(
            [
                RegisteredFunction(
                    RefusingFunction(tally: Tally(), judges: true, logsItsError: true),
                    configuration: FunctionConfiguration(maxRetries: 2)),
                RegisteredFunction(
                    RefusingFunction(name: "reader", tally: Tally(), judges: false),
                    configuration: FunctionConfiguration(maxRetries: 2)),
            ], logger: logger)
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try Self.storeOriginal(of: Self.record(3), in: runtime)
        try await Self.running(runtime) {
            try runtime.submit(Self.storing(Self.record(3)))
            try await Self.eventually("refused by both") {
                try Self.states(runtime, "refuser").contains("dead") && Self.states(runtime, "reader").contains("dead")
            }
        }
        let errors = lines.withLock { $0 }.filter { $0.hasPrefix("error ") }
        #expect(errors == ["error cannot read it"])
        #expect(lines.withLock { $0 }.contains("warning invocation dead-lettered"))
    }

    /// serve's pruning forgets succeeded work older than `runtime.journal_retention_days`, never the dead letters;
    /// 0 keeps everything.
    @Test(arguments: [30.0, 0])
    func theRuntimePrunesWhatTheRetentionLetsGo(days: Double) async throws {
        let tally = Tally()
        let runtime = try Self.makeRuntime(
            [
                RegisteredFunction(RecordingFunction(tally: tally), configuration: FunctionConfiguration()),
                RegisteredFunction(
                    RefusingFunction(tally: tally, judges: false), configuration: FunctionConfiguration(maxRetries: 0)),
            ], journalRetentionDays: days)
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        for n in 1...3 { try Self.storeOriginal(of: Self.record(n), in: runtime) }
        try await Self.running(runtime) {
            for n in 1...3 { try runtime.submit(Self.record(n)) }
            try await Self.eventually("all done") {
                try Self.states(runtime, "recorder") == ["succeeded", "succeeded", "succeeded"]
                    && Self.states(runtime, "refuser") == ["dead", "dead", "dead"]
            }
        }
        // A month later nothing more happened: the events are 30 days and a moment old.
        #expect(try runtime.pruneJournal(now: Date().addingTimeInterval(30 * 86400 + 60)) == 0)
        // Each event has a dead invocation, so none goes; once replayed and done, they would.
        #expect(try runtime.journal.invocations(state: nil, function: "recorder", limit: 10).count == 3)
        let succeededOnly = try runtime.journal.append(
            Self.record(9), functions: ["recorder"], type: .event, deduplicate: false)
        let claim = try #require(try runtime.journal.claim(function: "recorder", now: Date().addingTimeInterval(1)))
        try runtime.journal.succeed(claim, result: nil, duration: 0.01, memoryMB: 128)
        #expect(try runtime.pruneJournal(now: Date().addingTimeInterval(30 * 86400 + 60)) == (days > 0 ? 1 : 0))
        #expect((try runtime.journal.event(id: succeededOnly.eventID) == nil) == (days > 0))
        #expect(try runtime.statistics().first { $0.function == "recorder" }?.succeeded == 4)
    }

    @Test func onlyInvocationsThatWaitedForABusyWorkerAreThrottles() async throws {
        let tally = Tally()
        let runtime = try Self.makeRuntime([
            RegisteredFunction(
                SleepyFunction(seconds: 0.3, tally: tally), configuration: FunctionConfiguration(concurrency: 1))
        ])
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        try await Self.running(runtime) {
            // One at a time, each after the last finished: nobody waits.
            for n in 1...3 {
                try runtime.submit(Self.record(n))
                try await Self.eventually("done \(n)") {
                    try runtime.journal.invocations(state: .succeeded, function: "sleepy", limit: 10).count == n
                }
            }
            #expect(try #require(try runtime.statistics().first).throttles == 0)
            // Three at once with one worker: the second and third wait.
            for n in 4...6 { try runtime.submit(Self.record(n)) }
            try await Self.eventually("burst done") {
                try runtime.journal.invocations(state: .succeeded, function: "sleepy", limit: 10).count == 6
            }
        }
        #expect(try #require(try runtime.statistics().first).throttles == 2)
    }

    @Test func stoppingLetsInFlightInvocationsFinish() async throws {
        let tally = Tally()
        // A grace far longer than the 0.5 s invocation: on a CI machine loaded enough to stretch it past the default
        // 10 s, the invocation was put back at the grace's end, and the test failed for the load, not the runtime.
        let runtime = try Self.makeRuntime(
            [
                RegisteredFunction(
                    SleepyFunction(seconds: 0.5, tally: tally), configuration: FunctionConfiguration(timeout: 30))
            ], shutdownGrace: 120)
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let workers = Task { await runtime.run() }
        try runtime.submit(Self.record(1))
        try await Self.eventually("started") { tally.calls == 1 }
        runtime.stop()
        await workers.value
        #expect(try Self.states(runtime, "sleepy") == ["succeeded"])
        #expect(tally.cancellations == 0)
    }
}
