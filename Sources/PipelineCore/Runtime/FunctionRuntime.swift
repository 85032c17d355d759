// The runtime around the functions: what Lambda gives a function (queue, workers, retries, timeouts, dead-letter).
import Foundation
import Locking
import Logging
import Metrics

/// Runs functions the way Lambda does, from a durable journal.
///
/// - `submit(_:)` journals an event with one queued invocation per subscribed function (fan-out).
/// - `run()` starts each function's reserved workers; they claim ready invocations, enforce the timeout by
///   cancellation, retry with backoff up to `max_retries`, dead-letter what is out of retries or older than
///   `max_event_age`, and poll the journal for work queued by other processes.
/// - `invoke(function:record:type:)` is the synchronous (RequestResponse), queued (Event) or checking (DryRun)
///   entry point the CLI and the HTTP service use.
public final class FunctionRuntime: Sendable {
    /// The store the functions work on.
    public let layout: StoreLayout
    /// The journal every event and invocation is recorded in.
    public let journal: any InvocationJournal
    /// Retry and polling settings.
    public let settings: RuntimeSettings
    /// The functions by name; `reconfigure` replaces them (SIGHUP), each invocation uses the set it started with.
    private let registry: Locked<[String: RegisteredFunction]>
    private var functions: [String: RegisteredFunction] { registry.withLock { $0 } }
    private let order: [String]
    private let logger: Logger
    /// Wakes the gauge loop and, at `stop()`, everything waiting.
    private let signal = WorkSignal()
    /// Wakes the idle workers of one function when work for it is queued (not every idle worker: on PostgreSQL each
    /// wake-up is a claim, and the metadata workers, idle most of the time, claimed nothing for every thumbnail).
    private let workQueued = FunctionWorkSignals()
    /// Notified after this process journals an outcome, so readers of the journal (the event stream) look at
    /// once instead of at their next poll.
    private let outcomes = WorkSignal()
    /// 1 while the last read of the queue gauges from the journal succeeded, 0 while the journal cannot be read.
    private let journalReadable = Gauge(label: "picpipe_journal_readable")
    private let metrics: [String: FunctionMetrics]
    /// Each function's invocations running in this process (workers and synchronous calls): its reserved
    /// concurrency, which a refusing synchronous call (the Lambda API's Invoke) may not exceed.
    private let slots: [String: ConcurrencySlots]
    /// Notified when a synchronous invocation gives its slot back, so a worker it held up takes work at once.
    private let slotFreed = WorkSignal()
    private let state = Locked(RunState())
    private let journalProblems = RepeatedProblems()
    private let grace: ShutdownGrace
    /// The synchronous calls running now, for `interruptCalls`.
    private let calls = Locked(RunningCalls())
    /// The functions `run()` starts workers for (`nil`: all); a `serve --roles worker:NAME` process runs some.
    private let workerFunctions: Set<String>?
    /// The content turns the functions write and clean up their outputs in (see `FunctionContext.contentLocks`);
    /// an HTTP API over this runtime removes originals in them.
    public let contentLocks: (any ContentLocks)?

    private struct RunState {
        var stopping = false
    }

    /// - Parameters:
    ///   - layout: the store.
    ///   - journal: where events and invocations are recorded.
    ///   - functions: the functions and their settings.
    ///   - settings: retry backoff and journal polling.
    ///   - logger: the runtime's logger; each invocation adds its metadata.
    ///   - workerFunctions: the functions `run()` runs workers for (`nil`: every function); events still fan out
    ///     to every subscribed function, whose workers may run in other processes.
    ///   - contentLocks: the turns originals are removed in (the HTTP API's; `FunctionContext.contentLocks`).
    public init(
        layout: StoreLayout, journal: any InvocationJournal, functions: [RegisteredFunction],
        settings: RuntimeSettings = RuntimeSettings(), logger: Logger = Logger(label: "picpipe.runtime"),
        workerFunctions: Set<String>? = nil, contentLocks: (any ContentLocks)? = nil
    ) {
        self.contentLocks = contentLocks
        self.workerFunctions = workerFunctions
        self.layout = layout
        self.journal = journal
        self.settings = settings
        self.logger = logger
        var byName: [String: RegisteredFunction] = [:]
        for function in functions { byName[function.name] = function }
        self.registry = Locked(byName)
        self.order = functions.map(\.name)
        self.metrics = byName.mapValues { FunctionMetrics(function: $0.name) }
        self.slots = byName.mapValues { _ in ConcurrencySlots() }
        self.grace = ShutdownGrace(seconds: settings.shutdownGrace)
    }

    /// Replaces the functions' handlers and settings (a configuration reload): invocations that start afterwards use
    /// the new ones, running ones finish with what they started with. The set of functions and each one's reserved
    /// concurrency (the number of workers) stay as they were until the next start.
    /// - Returns: the names of functions whose concurrency differs and needs a restart.
    @discardableResult
    public func reconfigure(_ replacements: [RegisteredFunction]) -> [String] {
        registry.withLock { registry in
            var needsRestart: [String] = []
            for replacement in replacements {
                guard let current = registry[replacement.name] else { continue }
                var updated = replacement
                if updated.configuration.concurrency != current.configuration.concurrency {
                    needsRestart.append(replacement.name)
                    updated.configuration.concurrency = current.configuration.concurrency
                }
                registry[replacement.name] = updated
            }
            return needsRestart
        }
    }

    /// The registered function names, in registration order.
    public var functionNames: [String] { order }

    /// A registered function's settings.
    public func configuration(of function: String) -> FunctionConfiguration? { functions[function]?.configuration }

    /// A registered function's settings as the configuration gave them (at start or the last reload), before the
    /// Lambda API's changes.
    public func registeredConfiguration(of function: String) -> FunctionConfiguration? {
        functions[function]?.registeredConfiguration
    }

    /// A registered function's role (the store areas it may read and write).
    public func role(of function: String) -> FunctionRole? { functions[function]?.function.role }

    /// Changes one function's settings for invocations that start afterwards (the Lambda API's
    /// UpdateFunctionConfiguration); its concurrency stays (the number of workers is fixed until the next start).
    /// - Returns: the settings now in force, or nil for an unknown function.
    @discardableResult
    public func update(function name: String, _ change: (inout FunctionConfiguration) -> Void) -> FunctionConfiguration?
    {
        registry.withLock { registry in
            guard var registered = registry[name] else { return nil }
            let concurrency = registered.configuration.concurrency
            change(&registered.configuration)
            registered.configuration.concurrency = concurrency
            registry[name] = registered
            return registered.configuration
        }
    }

    /// How many invocations of a function run in this process now (its workers' and synchronous calls').
    public func running(_ function: String) -> Int { slots[function]?.count ?? 0 }

    /// The functions subscribed to an event name.
    public func subscribers(of name: EventName) -> [String] {
        order.filter { functions[$0]?.function.subscriptions.contains(name.family) == true }
    }

    // MARK: Submitting events

    /// Journals an event and queues one invocation per subscribed function, then wakes the workers.
    /// - Parameters:
    ///   - record: the event (its sequencer is assigned by the journal).
    ///   - deduplicate: skip an `ObjectCreated` already journaled for the same key and source name (rescans).
    @discardableResult
    public func submit(_ record: S3EventRecord, deduplicate: Bool = false) throws -> JournalAppend {
        let appended = try journal.append(
            record, functions: subscribers(of: record.eventName), type: .event, deduplicate: deduplicate)
        if !appended.duplicate {
            for function in appended.invocations.keys { workQueued.notify(function) }
        }
        return appended
    }

    /// Makes an event record for an original of this store, ready for `submit`; it says whether the ingest stored
    /// the original (`alreadyStored` false: only then may a refusal take it back out of the store).
    public func record(
        _ name: EventName, for original: IngestedOriginal, sourceName: String?, time: Date = Date()
    ) -> S3EventRecord {
        var record = S3EventRecord(
            name: name, bucket: layout.root.lastPathComponent, key: original.key, size: original.size,
            eTag: original.hash.hex, sequence: 0, sourceName: sourceName, time: time)
        if !original.alreadyStored { record.s3.object.newlyStored = true }
        return record
    }

    /// The count of outcomes this process has journaled: pass it to `waitForOutcome(after:upTo:)`.
    public var outcomeGeneration: Int { outcomes.generation }

    /// Returns when this process journals an outcome after `generation`, after `seconds`, or on cancellation.
    /// Outcomes journaled by other processes do not wake it: readers poll the journal for those.
    public func waitForOutcome(after generation: Int, upTo seconds: Double) async {
        await outcomes.wait(after: generation, upTo: seconds)
    }

    // MARK: Invoking one function

    /// Queues an Event invocation of `name` per record (202 each), every record checked before any is queued: a
    /// payload of several records is taken whole or not at all, as Lambda's 4xx means nothing was accepted (until
    /// session 28 the records before a bad one were queued and ran, and a corrected retry ran them twice). Checked
    /// now (a 4xx, not a dead letter later); an S3-shaped payload's MD5 too: the journaled record keeps only the
    /// SHA-256.
    public func queueEvents(function name: String, records: [S3EventRecord]) throws -> [InvocationResponse] {
        guard let registered = functions[name] else { throw RuntimeError.unknownFunction(name, known: order) }
        let context = makeContext(registered, invocationID: "event-check")
        for record in records { try registered.function.validate(record, context: context) }
        defer { workQueued.notify(name) }
        return try records.map { given in
            // A caller's record stored nothing: a refusal of its work never takes a stored original out.
            var record = given
            record.s3.object.newlyStored = nil
            let appended = try journal.append(record, functions: [name], type: .event, deduplicate: false)
            return InvocationResponse(
                statusCode: 202, eventID: appended.eventID, invocationID: appended.invocations[name])
        }
    }

    /// Invokes one function with one record.
    /// - `.requestResponse`: runs it now (journaled as it runs) and returns its result or its error payload.
    /// - `.event`: journals a queued invocation and returns at once (202); `serve` runs it.
    /// - `.dryRun`: checks the record and the role, runs nothing (204).
    /// - Throws: `RuntimeError` for an unknown function or (with `options.refuseWhenBusy`) a function whose reserved
    ///   concurrency is taken, `FunctionError.invalidPayload` from DryRun validation and for a RequestResponse
    ///   record of an event the function does not subscribe to.
    public func invoke(
        function name: String, record: S3EventRecord, type: InvocationType,
        options: InvocationOptions = InvocationOptions()
    ) async throws -> InvocationResponse {
        guard let registered = functions[name] else { throw RuntimeError.unknownFunction(name, known: order) }
        switch type {
        case .dryRun:
            let context = makeContext(registered, invocationID: "dry-run")
            try registered.function.validate(record, context: context)
            let areas = context.store.areas.sorted { $0.key.rawValue < $1.key.rawValue }
            return InvocationResponse(
                statusCode: 204,
                payload: .object([
                    "function": .string(name), "valid": .bool(true),
                    "role": .object(
                        Dictionary(uniqueKeysWithValues: areas.map { ($0.key.rawValue, .string($0.value.rawValue)) })),
                ]))
        case .event:
            return try queueEvents(function: name, records: [record])[0]
        case .requestResponse:
            // A record of an event the function does not subscribe to (an ObjectCreated record for fetch, an
            // ObjectImport:URL one for thumbnail) is no work of its: refused with its validate's reason before
            // anything is journaled or run, as Event and DryRun refuse it (until session 35 it ran and failed,
            // answered as a function error). Whether a record of its kind can be handled is still the call's. So is
            // a name S3 never sends in a family it subscribes to (`ObjectCreated:Putt`): until session 36 it was
            // journaled and failed, counted in events and stats.
            if !registered.function.subscriptions.contains(record.eventName.family)
                || record.eventName.isUnknownS3Name
            {
                try registered.function.validate(record, context: makeContext(registered, invocationID: "kind-check"))
            }
            guard let slots = slots[name] else { throw RuntimeError.unknownFunction(name, known: order) }
            // The reserved concurrency, when lower, caps this process's calls too (until session 28 a refusing
            // call was held to `concurrency` only, so with SQLite it ran beside the one worker it allowed).
            let concurrency = registered.configuration.workersPerProcess
            if options.refuseWhenBusy {
                guard slots.take(limit: concurrency) else {
                    throw refused(name, concurrency: concurrency)
                }
            } else {
                slots.force()
            }
            defer {
                slots.release()
                slotFreed.notify()
            }
            // A refusing call also stays within the function's reserved concurrency across every process.
            let reserved = options.refuseWhenBusy ? registered.configuration.reservedConcurrency : nil
            // Counted from before its row exists, so an interrupt waits for the row and closes it.
            guard calls.withLock({ $0.begin() }) else { throw CancellationError() }
            let appended: JournalAppend
            do {
                var journaled = record
                if let name = options.journaledAs { journaled.eventName = name }
                guard let added = try journal.appendRunning(journaled, function: name, limit: reserved) else {
                    throw refused(name, concurrency: reserved ?? concurrency)
                }
                appended = added
            } catch {
                calls.withLock { $0.pending -= 1 }
                throw error
            }
            guard let id = appended.invocations[name] else {
                calls.withLock { $0.pending -= 1 }
                throw RuntimeError.unknownFunction(name, known: order)
            }
            return await runCall(name, registered, id: id, appended: appended, record: record, options: options)
        }
    }

    /// Journals one event for every function subscribed to it and runs each now (RequestResponse, side by side), as
    /// S3 sends one record per deleted key and picpipe journals an upload: one event, an invocation per function
    /// (until session 34 `ObjectRemoved:Delete` was invoked function by function, each call journaling an event of
    /// its own, and a failure queued a third). A function that fails has its invocation queued for retries (as an
    /// Event invocation after the first backoff), so it still gets its work under the same event.
    /// - Returns: the functions whose invocation failed (and waits for its retry).
    /// - Throws: when the event cannot be journaled, or the process was interrupted (nothing ran).
    @discardableResult
    public func invokeSubscribers(_ record: S3EventRecord) async throws -> [String] {
        let names = subscribers(of: record.eventName)
        guard !names.isEmpty else { return [] }
        for name in names { slots[name]?.force() }
        defer {
            for name in names { slots[name]?.release() }
            slotFreed.notify()
        }
        // Counted from before the rows exist, so an interrupt waits for them and closes them.
        guard calls.withLock({ $0.begin(names.count) }) else { throw CancellationError() }
        let appended: JournalAppend
        do {
            appended = try journal.append(record, functions: names, type: .requestResponse, deduplicate: false)
        } catch {
            calls.withLock { $0.pending -= names.count }
            throw error
        }
        return await withTaskGroup(of: String?.self) { group in
            for name in names {
                guard let registered = functions[name], let id = appended.invocations[name] else {
                    calls.withLock { $0.pending -= 1 }
                    continue
                }
                group.addTask {
                    let response = await self.runCall(
                        name, registered, id: id, appended: appended, record: record, options: InvocationOptions(),
                        retryFailure: true)
                    return response.failed ? name : nil
                }
            }
            var failed: [String] = []
            for await name in group {
                if let name { failed.append(name) }
            }
            return names.filter(failed.contains)
        }
    }

    /// Runs a synchronous call whose invocation `id` was journaled as running (the caller counted it in
    /// `calls.pending`) and journals its outcome. A failure ends `failed` (the caller gets the error), or with
    /// `retryFailure` waits for a retry by the workers.
    private func runCall(
        _ name: String, _ registered: RegisteredFunction, id: Int64, appended: JournalAppend, record: S3EventRecord,
        options: InvocationOptions, retryFailure: Bool = false
    ) async -> InvocationResponse {
        var ran = appended.record
        ran.eventName = record.eventName
        let claim = ClaimedInvocation(
            id: id, function: name, type: .requestResponse, attempt: 1, enqueuedAt: Date(), startedAt: Date(),
            event: JournaledEvent(id: appended.eventID, record: ran, createdAt: Date()))
        calls.withLock {
            $0.running[id] = claim
            $0.pending -= 1
        }
        defer { _ = calls.withLock { $0.running.removeValue(forKey: id) } }
        var log = invocationLogger(claim)
        if let capture = options.log { log = capture.capturing(log) }
        let memory = registered.configuration.memoryMB
        let (outcome, duration) = await execute(claim, registered, log: log)
        var response = InvocationResponse(statusCode: 200, eventID: appended.eventID, invocationID: id)
        switch outcome {
        case .succeeded(let result):
            await journaling {
                try journal.succeed(claim, result: Self.json(result), duration: duration, memoryMB: memory)
            }
            response.payload = .object(result)
        case .failed(var error):
            if case RuntimeError.shutdownGraceExpired(let seconds) = error {
                error = RuntimeError.callCutAtShutdown(seconds: seconds)  // a call is not put back
            }
            let retryAt = retryFailure ? Date().addingTimeInterval(settings.backoff(beforeRetry: 1)) : nil
            await journaling {
                try journal.fail(
                    claim, error: Self.describe(error), duration: duration, memoryMB: memory, retryAt: retryAt)
            }
            if retryAt != nil {
                log.warning("invocation failed; will retry", metadata: ["error": "\(Self.describe(error))"])
            } else {
                log.warning("invocation failed", metadata: ["error": "\(Self.describe(error))"])
            }
            response.functionError = "Unhandled"
            response.payload = Self.errorPayload(error)
        }
        response.log = options.log?.text
        return response
    }

    /// Records every synchronous call of this process still running as failed, for a caller about to exit on
    /// `signal` (`picpipe invoke` on Ctrl-C or SIGTERM): its result can reach nobody, and the row would otherwise
    /// stay `running` until a serve's sweep finds the process gone. Returns how many were closed.
    @discardableResult public func interruptCalls(signal: String) -> Int {
        calls.withLock { $0.interrupted = true }  // no call starts from now on
        // A call whose row is being written is waited for (briefly: one insert), so its row is closed too.
        var waited = 0
        while calls.withLock({ $0.pending > 0 }), waited < 500 {
            usleep(10_000)
            waited += 1
        }
        let running = calls.withLock { calls in
            defer { calls.running.removeAll() }
            return Array(calls.running.values)
        }
        let reason = "interrupted: the invoking process got \(signal) before the invocation finished"
        for claim in running {
            do {
                try journal.fail(
                    claim, error: reason, duration: Date().timeIntervalSince(claim.startedAt),
                    memoryMB: functions[claim.function]?.configuration.memoryMB ?? 0, retryAt: nil)
            } catch {
                logger.warning("an interrupted call could not be recorded", metadata: ["error": "\(error)"])
            }
        }
        return running.count
    }

    // MARK: Running the workers

    /// Runs every function's reserved workers until `stop()` (or cancellation).
    ///
    /// First returns crashed `running` invocations to the queue. After `stop()`, workers take no new
    /// invocation; in-flight ones finish within their timeout, or go back to the queue if they time out.
    public func run() async {
        journal.onWorkQueued { [workQueued] function in workQueued.notify(function) }
        do {
            let recovered = try journal.recoverRunning()
            if recovered > 0 {
                logger.notice(
                    "requeued invocations left running by a previous process", metadata: ["count": "\(recovered)"])
            }
        } catch {
            logger.error("crash recovery failed", metadata: ["error": "\(error)"])
        }
        await withTaskGroup(of: Void.self) { group in
            for name in order where workerFunctions?.contains(name) ?? true {
                guard let registered = functions[name] else { continue }
                for worker in 0..<registered.configuration.workersPerProcess {
                    group.addTask { await self.workerLoop(registered, worker: worker) }
                }
            }
            group.addTask { await self.gaugeLoop() }
            if settings.journalRetentionDays > 0 { group.addTask { await self.pruneLoop() } }
        }
    }

    /// How often serve forgets old finished work, and how many events one transaction forgets at most (a SQLite
    /// write holds the journal for that long; claims wait meanwhile).
    static let pruneInterval: Double = 3600
    static let pruneBatch = 500

    /// Forgets the finished work older than `runtime.journal_retention_days` (see `InvocationJournal.prune`), a
    /// batch at a time, until every candidate was looked at or serve stops. - Returns: how many events were forgotten.
    @discardableResult
    public func pruneJournal(now: Date = Date()) throws -> Int {
        guard settings.journalRetentionDays > 0 else { return 0 }
        let cutoff = now.addingTimeInterval(-settings.journalRetentionDays * 86400)
        let total = try journal.prunePass(before: cutoff, batch: Self.pruneBatch) { isStopping }
        if total > 0 {
            logger.notice(
                "journal pruned: finished work older than runtime.journal_retention_days forgotten, its counts kept",
                metadata: ["events": "\(total)", "days": "\(settings.journalRetentionDays)"])
        }
        return total
    }

    /// Prunes the journal at start and then every `pruneInterval` seconds.
    private func pruneLoop() async {
        while !isStopping, !Task.isCancelled {
            do {
                try pruneJournal()
            } catch {
                StoreHealth.shared.recordFailure(error)
                logger.warning("journal pruning failed; tried again later", metadata: ["error": "\(error)"])
            }
            let deadline = Date().addingTimeInterval(Self.pruneInterval)
            while !isStopping, !Task.isCancelled, Date() < deadline {
                let generation = signal.generation
                await signal.wait(after: generation, upTo: min(60, deadline.timeIntervalSinceNow))
            }
        }
    }

    /// Stops taking work; `run()` returns once in-flight invocations are done, or when `runtime.shutdown_grace`
    /// is over: invocations still running then are cancelled and put back in the queue for the next start.
    public func stop() {
        state.withLock { $0.stopping = true }
        grace.start()
        signal.notify()
        workQueued.notify(nil)
    }

    /// Whether `stop()` was called.
    public var isStopping: Bool { state.withLock { $0.stopping } }

    /// Per-function metering from the journal.
    public func statistics() throws -> [FunctionStatistics] {
        try journal.statistics(now: Date())
    }

    /// Reads each function's queue depth and oldest age from the journal (the shared database: every process's
    /// work) into the `/metrics` gauges. The worker role does it every few seconds; `/metrics` before it renders,
    /// so an API-only process shows them too.
    public func refreshQueueGauges() throws {
        for queue in try journal.queueDepths(now: Date()) { metrics[queue.function]?.update(from: queue) }
    }

    /// Refreshes the queue gauges and records in `picpipe_journal_readable` whether the journal could be read: the
    /// gauges keep their last values while it cannot, and a scrape must be able to tell them for stale.
    public func refreshQueueGaugesReportingReadability() {
        let readable = (try? refreshQueueGauges()) != nil
        journalReadable.record(readable ? 1 : 0)
    }

    private func workerLoop(_ initial: RegisteredFunction, worker: Int) async {
        let name = initial.name
        // Since when this worker has been free to take work; an invocation ready before that (by more than a
        // wake-up's delay) waited because every reserved worker of its function was busy: Lambda's throttle.
        let started = Date()
        var freeSince = started
        let slots = slots[name] ?? ConcurrencySlots()
        let wakeUp = workQueued.signal(for: name)
        // The next invocation, claimed with the last one's success (it holds the slot that one held).
        var carried: ClaimedInvocation?
        defer {
            if let carried {
                // Stopping with a claim not started: it goes back to the queue for the next worker.
                try? journal.putBack(carried)
                slots.release()
            }
        }
        while !isStopping, !Task.isCancelled {
            let registered = functions[name] ?? initial
            let generation = wakeUp.generation
            let freedGeneration = slotFreed.generation
            // A claim carried over from the last success already holds its slot.
            var claim = carried
            var slotTaken = carried != nil
            var heldUp = false
            carried = nil
            if claim == nil {
                do {
                    let now = Date()
                    let lease = registered.configuration.timeout + Self.leaseMargin
                    // On PostgreSQL a claim asks the database directly (one round trip); elsewhere it asks first.
                    if try journal.claimsWithoutAsking || journal.hasReady(function: name, now: now) {
                        // Work may be waiting; it runs only within this process's concurrency, which synchronous
                        // calls share, and within the function's reserved concurrency across processes (the claim's
                        // limit).
                        slotTaken = slots.take(limit: initial.configuration.concurrency)
                        heldUp = !slotTaken
                        if slotTaken {
                            claim = try journal.claim(
                                function: name, now: now, lease: lease,
                                limit: registered.configuration.reservedConcurrency)
                        }
                    }
                    journalProblems.clear(name)
                } catch {
                    StoreHealth.shared.recordFailure(error)
                    journalProblems.report(name, error: error, logger: logger)
                    claim = nil
                }
            }
            guard let claim else {
                if slotTaken { slots.release() }
                if heldUp {
                    // Every slot is held by synchronous calls: the work waits for one of them (Lambda's throttle).
                    freeSince = Date()
                    await slotFreed.wait(after: freedGeneration, upTo: settings.pollInterval)
                } else {
                    await wakeUp.wait(after: generation, upTo: settings.pollInterval)
                }
                continue
            }
            if let ready = claim.readyAt, ready >= started, freeSince.timeIntervalSince(ready) > Self.wakeUpAllowance {
                // Counted once an invocation, as `stats` counts it, however often it waits again.
                if (try? journal.markThrottled(invocation: claim.id)) == true { metrics[name]?.throttles.increment() }
            }
            // On PostgreSQL a success claims the next invocation in the same statement, unless a reserved
            // concurrency needs its own claim (counted across processes) or the slot is wanted back.
            let chain =
                journal.claimsWithoutAsking && registered.configuration.reservedConcurrency == nil
                && slots.count <= initial.configuration.concurrency
            carried = await runQueued(claim, registered, thenClaim: chain)
            if carried == nil { slots.release() }
            freeSince = Date()
        }
    }

    /// What a claim's lease adds to the function's timeout before another worker may take the invocation again.
    static let leaseMargin: TimeInterval = 30

    /// A synchronous call refused at the function's concurrency, counted as Lambda counts it: a throttle.
    private func refused(_ function: String, concurrency: Int) -> RuntimeError {
        metrics[function]?.throttles.increment()
        do {
            try journal.countRefusedCall(function: function)
        } catch {
            logger.warning(
                "a refused call could not be counted", metadata: ["function": "\(function)", "error": "\(error)"])
        }
        return RuntimeError.throttled(function: function, concurrency: concurrency)
    }

    /// How long a free worker may take to notice new work before the wait counts as a throttle.
    static let wakeUpAllowance: TimeInterval = 0.005

    private func gaugeLoop() async {
        while !isStopping, !Task.isCancelled {
            do {
                let recovered = try journal.recoverExpiredLeases(now: Date())
                if recovered > 0 {
                    logger.notice(
                        """
                        requeued invocations of stopped workers (no heartbeat) or whose outcome was not recorded \
                        (lease expired)
                        """, metadata: ["count": "\(recovered)"])
                    workQueued.notify(nil)
                    sweepLeftoversOfDeadWorkers()
                }
            } catch {
                StoreHealth.shared.recordFailure(error)
            }
            refreshQueueGaugesReportingReadability()
            let generation = signal.generation
            await signal.wait(after: generation, upTo: 5)
        }
    }

    /// A worker that died mid-invocation (kill -9) may have left a temporary file beside the output it was writing;
    /// whoever takes its work back removes it now rather than at the next start of some process. Only files whose
    /// writer is gone go (`TemporaryOwner.isStale`), so live writers here and on other hosts are untouched.
    private func sweepLeftoversOfDeadWorkers() {
        var removed = 0
        for area in [layout.originals, layout.thumbnails, layout.failed] {
            removed += AtomicFile.sweepTemporaries(in: area)
        }
        if removed > 0 {
            logger.notice("removed temporary files left by a stopped worker", metadata: ["count": "\(removed)"])
        }
    }

    /// Runs one queued invocation and records what happened: success, retry, dead-letter, or back to the queue.
    /// - Parameter thenClaim: on success, claim the next invocation of the function in the same round trip.
    /// - Returns: that next invocation, if one was claimed.
    private func runQueued(
        _ claim: ClaimedInvocation, _ registered: RegisteredFunction, thenClaim: Bool
    ) async -> ClaimedInvocation? {
        let configuration = registered.configuration
        let memory = configuration.memoryMB
        let log = invocationLogger(claim)
        let age = Date().timeIntervalSince(claim.enqueuedAt)
        if age > configuration.maxEventAge {
            // Lambda does not invoke an expired event: no attempt, error or retry is metered; it goes to the
            // on-failure destination (until session 32 it was a 0 ms failed attempt, pulling p50 to 0).
            let reason = "event is \(Int(age)) s old, over max_event_age \(Int(configuration.maxEventAge)) s"
            await journaling { try journal.deadLetterUnrun(claim, error: reason) }
            var taken = claim
            taken.attempt -= 1  // this claim's attempt does not run
            deadLetter(taken, reason: reason, configuration: configuration, log: log)
            return nil
        }
        if RecoveredAttempt.isOutOfAttempts(claim, maxRetries: configuration.maxRetries) {
            let reason = RecoveredAttempt.reason(claim)
            await journaling { try journal.deadLetterUnrun(claim, error: reason) }
            var taken = claim
            taken.attempt -= 1  // this claim's attempt does not run
            deadLetter(taken, reason: reason, configuration: configuration, log: log)
            return nil
        }
        if registered.function.judgesOriginals, let twin = refusedTwin(of: claim.event.record) {
            // The same bytes arrived under two names and were refused under the other one while this upload waited:
            // it is refused too, under its own name, not "deleted" (until session 33 it ended `succeeded`, "the
            // original was deleted", with nothing of it in failed/ for a redrive).
            let reason = "\(twin.letter.error) (the same bytes as \(twin.letter.file), refused)"
            await journaling { try journal.deadLetterUnrun(claim, error: reason) }
            metrics[claim.function]?.deadLettered.increment()
            log.error("original refused", metadata: ["error": "\(reason)"])
            keepRefusedTwin(claim, copying: twin.name, reason: reason, attempts: claim.attempt - 1, log: log)
            return nil
        }
        let functionErrors = LoggedErrors()
        let (outcome, duration) = await execute(claim, registered, log: functionErrors.watching(log))
        switch outcome {
        case .succeeded(let result):
            var next: ClaimedInvocation?
            await journaling {
                if thenClaim, !isStopping {
                    next = try journal.succeed(
                        claim, result: Self.json(result), duration: duration, memoryMB: memory,
                        thenClaim: claim.function, now: Date(), lease: configuration.timeout + Self.leaseMargin)
                } else {
                    try journal.succeed(claim, result: Self.json(result), duration: duration, memoryMB: memory)
                }
            }
            log.info("invocation succeeded", metadata: ["duration_ms": "\(Self.milliseconds(duration))"])
            clearDeadLetter(of: claim)
            return next
        case .failed(let error):
            let cutAtShutdown: Bool
            switch error {
            case RuntimeError.shutdownGraceExpired: cutAtShutdown = true
            case FunctionError.timedOut: cutAtShutdown = isStopping
            default: cutAtShutdown = false
            }
            if cutAtShutdown {
                // Shutting down: the attempt did not fail on its own; the next start runs it again.
                await journaling { try journal.putBack(claim) }
                log.notice("invocation put back in the queue at shutdown")
                return nil
            }
            if Self.isOutageUnderQueuedWork(claim, error) {
                // picpipe's own database out of reach (a PostgreSQL restart) in the middle of the work: not the
                // function's failure, so it costs no attempt and no retry (until session 37 it did, and with
                // max_retries 0 a good picture was dead-lettered). Handlers are idempotent: it runs again whole.
                await journaling { try journal.putBack(claim) }
                log.warning(
                    "the database was out of reach during the invocation; it goes back to the queue as the same attempt",
                    metadata: ["error": "\(error)"])
                return nil
            }
            let reason = Self.describe(error)
            if case FunctionError.unprocessable = error {
                // The same bytes fail the same way every time: no retry.
                await journaling {
                    try journal.fail(claim, error: reason, duration: duration, memoryMB: memory, retryAt: nil)
                }
                // Said once at error: by the function when it logged why, else here.
                let level = functionErrors.levelOfTheRuntimeLine
                let created = claim.event.record.eventName.family == "ObjectCreated"
                if registered.function.judgesOriginals, created, claim.event.record.storedItsOriginal {
                    metrics[claim.function]?.deadLettered.increment()
                    log.log(level: level, "original refused", metadata: ["error": "\(reason)"])
                    await refuseOriginal(claim, reason: reason, log: log)
                } else if registered.function.judgesOriginals, created {
                    await refuseFoundStored(claim, reason: reason, configuration: configuration, log: log, level: level)
                } else {
                    // An original another function judges is said refused at error by that one: this function's
                    // failure on it is a warning (until session 32 a refused upload was an error line per function).
                    let judged = claim.event.record.eventName.family == "ObjectCreated" && isJudged(claim.event.record)
                    deadLetter(
                        claim, reason: reason, configuration: configuration, log: log, level: judged ? .warning : level)
                }
                return nil
            }
            if claim.attempt <= configuration.maxRetries {
                let wait = settings.backoff(beforeRetry: claim.attempt)
                await journaling {
                    try journal.fail(
                        claim, error: reason, duration: duration, memoryMB: memory,
                        retryAt: Date().addingTimeInterval(wait))
                }
                log.warning("invocation failed; will retry", metadata: ["error": "\(reason)", "retry_in_s": "\(wait)"])
            } else {
                await journaling {
                    try journal.fail(claim, error: reason, duration: duration, memoryMB: memory, retryAt: nil)
                }
                deadLetter(claim, reason: reason, configuration: configuration, log: log)
            }
            return nil
        }
    }

    /// Whether a function that judges originals is invoked for `record` too.
    private func isJudged(_ record: S3EventRecord) -> Bool {
        functions.values.contains {
            $0.function.judgesOriginals && $0.function.subscriptions.contains(record.eventName.family)
        }
    }

    private enum Outcome {
        case succeeded(FunctionResult)
        case failed(any Error)
    }

    /// Runs the handler under its timeout and meters the attempt; the caller journals it.
    private func execute(
        _ claim: ClaimedInvocation, _ registered: RegisteredFunction, log: Logger
    ) async -> (Outcome, Double) {
        let configuration = registered.configuration
        // An invocation from the queue ran its record's check (or stored its original) when it was queued: a
        // missing original was deleted since. A call's key is looked up now.
        let context = makeContext(
            registered, invocationID: String(claim.id), logger: log, missingOriginalWasDeleted: claim.type == .event)
        let function = registered.function
        let record = claim.event.record
        let clock = ContinuousClock()
        let start = clock.now
        let outcome: Outcome
        do {
            outcome = .succeeded(
                try await InvocationTimeout.run(seconds: configuration.timeout, grace: grace) {
                    try await function.handle(record, context: context)
                })
        } catch {
            outcome = .failed(error)
        }
        let elapsed = start.duration(to: clock.now)
        let duration = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        var failed = false
        if case .failed(let error) = outcome {
            // Not metered: it goes back as the same attempt (`runQueued`).
            if Self.isOutageUnderQueuedWork(claim, error) { return (outcome, duration) }
            failed = true
        }
        metrics[claim.function]?.record(
            attempt: claim.attempt, duration: duration, memoryMB: configuration.memoryMB, failed: failed)
        return (outcome, duration)
    }

    /// Whether `error` is picpipe's own database out of reach under queued work: not the function's failure.
    private static func isOutageUnderQueuedWork(_ claim: ClaimedInvocation, _ error: any Error) -> Bool {
        claim.type == .event && TransientFailures.mayPass(error)
    }

    static func json(_ result: FunctionResult) -> String? {
        (try? JSONEncoder().encode(result)).map { String(decoding: $0, as: UTF8.self) }
    }

    static func milliseconds(_ seconds: Double) -> Int { Int((seconds * 1000).rounded()) }

    private func deadLetter(
        _ claim: ClaimedInvocation, reason: String, configuration: FunctionConfiguration, log: Logger,
        level: Logger.Level = .error, metadata: Logger.Metadata = [:]
    ) {
        metrics[claim.function]?.deadLettered.increment()
        log.log(
            level: level, "invocation dead-lettered",
            metadata: metadata.merging(["error": "\(reason)", "attempts": "\(claim.attempt)"]) { $1 })
        guard configuration.onFailure == "failed" else { return }
        let object = claim.event.record.s3.object
        let source = object.sourceName ?? object.eTag
        let letter = DeadLetter(
            file: source, error: reason, stage: claim.function, sha256: claim.event.record.contentHash?.hex,
            attempts: claim.attempt, invocation: claim.id)
        let failed = StoreHandle(area: .failed, access: .write, location: layout.failed, function: "runtime")
        let chosen: String
        do {
            chosen = try letter.store(bytes: nil, name: "\(source).\(claim.function)", in: failed)
        } catch {
            log.error("could not write the dead letter", metadata: ["error": "\(error)"])
            return
        }
        // Looked at after the letter is written: a delete removes the original before it settles `failed/`, so
        // either its settling saw this letter or this look sees the original gone (until session 29 an invocation
        // still running at a delete left a letter no redrive could ever run).
        if originalIsGone(claim.event.record) {
            try? failed.remove(chosen + ".error.json")
            log.notice("dead letter not kept: the picture's original has left the store (deleted)")
        }
    }

    /// Whether the created object a record names is no longer in `originals/`: work on it can never run again.
    private func originalIsGone(_ record: S3EventRecord) -> Bool {
        let key = record.s3.object.key
        guard record.eventName.family == "ObjectCreated", key.hasPrefix("originals/") else { return false }
        let originals = StoreHandle(area: .originals, access: .read, location: layout.originals, function: "runtime")
        return !originals.exists(String(key.dropFirst("originals/".count)))
    }

    /// Removes the dead letter an earlier attempt of this work left (`failed/SOURCE.FUNCTION.error.json`): the work
    /// has succeeded since (a `replay --failed`, a later event of the same picture under the same name).
    private func clearDeadLetter(of claim: ClaimedInvocation) {
        let object = claim.event.record.s3.object
        let source = object.sourceName ?? object.eTag
        let failed = StoreHandle(area: .failed, access: .write, location: layout.failed, function: "runtime")
        DeadLetter.clear(
            file: source, name: "\(source).\(claim.function)", stage: claim.function,
            sha256: claim.event.record.contentHash?.hex, in: failed)
    }

    /// Refuses an original its judging function could not process and that the invocation's event stored
    /// (`S3EventRecord.storedItsOriginal`; one stored earlier stays): its bytes go to `failed/` under the name it
    /// arrived under (with the `.error.json`), the original leaves the store, and an `ObjectRemoved:Delete` event
    /// lets every subscriber remove what it made of it (the metadata row), exactly as a delete would. In the
    /// content's turn, as an upload stores it and a DELETE removes it (until session 36 outside it): an upload of the
    /// same bytes judged meanwhile either kept it before this turn (and is refused here with it,
    /// `RefusedOriginals.refuseKeptTwins`) or finds this refusal in its own (`refuseFoundStored`).
    private func refuseOriginal(_ claim: ClaimedInvocation, reason: String, log: Logger) async {
        let record = claim.event.record
        let object = record.s3.object
        let key = object.key
        guard key.hasPrefix("originals/") else { return }
        let relative = String(key.dropFirst("originals/".count))
        let originals = StoreHandle(area: .originals, access: .write, location: layout.originals, function: "runtime")
        let failed = StoreHandle(area: .failed, access: .write, location: layout.failed, function: "runtime")
        let source = object.sourceName ?? relative
        let layout = self.layout
        let refused = await inContentTurn(of: record, log: log) { () -> Bool in
            let bytes = try? originals.read(relative)
            let letter = DeadLetter(
                file: source, error: reason, stage: claim.function, sha256: record.contentHash?.hex,
                attempts: claim.attempt)
            do {
                try letter.store(bytes: bytes, name: source, in: failed)
                try originals.remove(relative)
                if let hash = record.contentHash { layout.forgetS3ObjectRecord(of: hash.hex) }
            } catch {
                log.error("could not refuse the original", metadata: ["error": "\(error)"])
                return false
            }
            guard let bytes else { return true }
            do {
                for twin in try RefusedOriginals.refuseKeptTwins(of: letter, bytes: bytes, in: failed) {
                    log.notice("an upload of the same bytes refused too", metadata: ["failed": "\(twin)"])
                }
            } catch {
                log.error(
                    "could not refuse the uploads of the same bytes kept meanwhile", metadata: ["error": "\(error)"])
            }
            return true
        }
        guard refused else { return }
        var removal = record
        removal.eventName = .objectRemovedDelete
        removal.s3.object.newlyStored = nil
        removal.eventTime = Timestamp.string(Date())
        do {
            try submit(removal)
        } catch {
            log.error("could not journal the removal of a refused original", metadata: ["error": "\(error)"])
        }
    }

    /// The refusal kept in `failed/` of the created original `record` names, when that original is gone because it
    /// was refused (its bytes and letter are in `failed/`), not deleted (a delete settles such letters).
    private func refusedTwin(of record: S3EventRecord) -> (name: String, letter: DeadLetter)? {
        guard originalIsGone(record), let hash = record.contentHash else { return nil }
        let failed = StoreHandle(area: .failed, access: .read, location: layout.failed, function: "runtime")
        return RefusedOriginals.refusal(of: hash, in: failed)
    }

    /// Dead-letters an invocation whose judge refused an original this event found in the store (the same bytes
    /// uploaded again, a replay, a caller's invoke), in the content's turn. When the original is gone because the
    /// upload that stored it was refused meanwhile (the same bytes under two names judged at once), this upload is
    /// refused under its own name too (until session 36 it was "kept: stored before this event", and then its letter
    /// was taken for one of a deleted picture's); else only this invocation failed, under a configuration tighter
    /// than the one that took the picture, and the picture, its thumbnails, metadata and ids stay (until session 34
    /// it was refused as a new upload is: moved to failed/ and its files removed).
    private func refuseFoundStored(
        _ claim: ClaimedInvocation, reason: String, configuration: FunctionConfiguration, log: Logger,
        level: Logger.Level
    ) async {
        await inContentTurn(of: claim.event.record, log: log) {
            if let twin = refusedTwin(of: claim.event.record) {
                let twinReason = "\(twin.letter.error) (the same bytes as \(twin.letter.file), refused)"
                metrics[claim.function]?.deadLettered.increment()
                log.log(level: level, "original refused", metadata: ["error": "\(twinReason)"])
                keepRefusedTwin(claim, copying: twin.name, reason: twinReason, attempts: claim.attempt, log: log)
            } else {
                deadLetter(
                    claim, reason: reason, configuration: configuration, log: log, level: level,
                    metadata: ["original": "kept: stored before this event"])
            }
        }
    }

    /// Runs `body` in the turn of `record`'s content (`contentLocks`: an upload stores the original, a DELETE removes
    /// it, a function writes its outputs in that turn), or at once when this runtime has none (`batch`) or the turn
    /// cannot be had (a database out of reach: the refusal is not lost for it, only unfenced, as before session 36).
    private func inContentTurn<T: Sendable>(
        of record: S3EventRecord, log: Logger, _ body: @Sendable () -> T
    ) async -> T {
        guard let contentLocks, let hash = record.contentHash else { return body() }
        var result: T?
        do {
            _ = try await contentLocks.withLock(on: hash) { () -> Bool in
                result = body()
                return true
            }
        } catch {
            log.warning("the picture's turn could not be had; refusing without it", metadata: ["error": "\(error)"])
        }
        return result ?? body()
    }

    /// Keeps an upload refused through its twin as `refuseOriginal` keeps one: the bytes (the twin's, the same) and
    /// a letter under the name it arrived under, so `replay --failed` can judge it again.
    private func keepRefusedTwin(
        _ claim: ClaimedInvocation, copying twin: String, reason: String, attempts: Int, log: Logger
    ) {
        let record = claim.event.record
        let failed = StoreHandle(area: .failed, access: .write, location: layout.failed, function: "runtime")
        let source = record.s3.object.sourceName ?? String(record.s3.object.key.dropFirst("originals/".count))
        do {
            let letter = DeadLetter(
                file: source, error: reason, stage: claim.function, sha256: record.contentHash?.hex,
                attempts: attempts)
            try letter.store(bytes: try failed.read(twin), name: source, in: failed)
        } catch {
            log.error("could not keep the refused upload in failed/", metadata: ["error": "\(error)"])
        }
    }

    private func makeContext(
        _ registered: RegisteredFunction, invocationID: String, logger: Logger? = nil,
        missingOriginalWasDeleted: Bool = false
    ) -> FunctionContext {
        var sink: (@Sendable (S3EventRecord) throws -> JournalAppend)?
        if registered.function.role.access(to: .events) == .write {
            sink = { @Sendable record in try self.submit(record, deduplicate: true) }
        }
        return FunctionContext(
            configuration: registered.configuration,
            store: layout.handles(for: registered.function.role, function: registered.name),
            logger: logger ?? self.logger,
            deadline: ContinuousClock.now.advanced(by: .seconds(registered.configuration.timeout)),
            invocationID: invocationID,
            eventSink: sink, missingOriginalWasDeleted: missingOriginalWasDeleted, contentLocks: contentLocks,
            keptS3ETag: { [layout] hash in layout.keptS3ETag(of: hash) })
    }

    private func invocationLogger(_ claim: ClaimedInvocation) -> Logger {
        var log = logger
        log[metadataKey: "function"] = "\(claim.function)"
        log[metadataKey: "invocation"] = "\(claim.id)"
        log[metadataKey: "event"] = "\(claim.event.id)"
        log[metadataKey: "attempt"] = "\(claim.attempt)"
        log[metadataKey: "key"] = "\(claim.event.record.s3.object.sourceName ?? claim.event.record.s3.object.key)"
        return log
    }

    /// Writes an outcome. A write that may pass if retried (the database restarting under it) is tried again for up
    /// to `outcomeRetryWindow`, shorter than any lease (outcome writes are idempotent, see `TransientFailure`); one
    /// that still fails leaves the invocation `running`: its lease expires and it runs again (handlers are
    /// idempotent), so an outcome lost to a full disk or a long outage is not lost work.
    private func journaling(_ write: () throws -> Void) async {
        let started = Date()
        var pause: Duration = .milliseconds(250)
        while true {
            do {
                try write()
                outcomes.notify()
                return
            } catch {
                if TransientFailures.mayPass(error), !Task.isCancelled,
                    Date().timeIntervalSince(started) < Self.outcomeRetryWindow
                {
                    try? await Task.sleep(for: pause)
                    pause = min(pause * 2, .seconds(4))
                    continue
                }
                StoreHealth.shared.recordFailure(error)
                logger.error(
                    "journal write failed; the invocation runs again when its lease expires",
                    metadata: ["error": "\(error)"])
                return
            }
        }
    }

    /// How long an outcome's write is retried: under the shortest lease (a 1 s timeout plus `leaseMargin`).
    static let outcomeRetryWindow: TimeInterval = 25

    static func describe(_ error: any Error) -> String {
        String(describing: error)
    }

    static func errorPayload(_ error: any Error) -> JSONValue {
        let type: String
        switch error {
        case FunctionError.timedOut: type = "TimedOut"
        case FunctionError.unprocessable: type = "Unprocessable"
        case FunctionError.invalidPayload: type = "InvalidPayload"
        case FunctionError.noSuchKey: type = "NoSuchKey"
        case StoreError.accessDenied: type = "AccessDenied"
        case is CancellationError: type = "Cancelled"
        default: type = String(describing: Swift.type(of: error))
        }
        return .object(["errorType": .string(type), "errorMessage": .string(describe(error))])
    }
}

/// The synchronous calls of a runtime: running, being journaled, and whether the process was interrupted.
private struct RunningCalls {
    var running: [Int64: ClaimedInvocation] = [:]
    /// Calls whose row is being written.
    var pending = 0
    /// Set by `interruptCalls`: no call starts after it.
    var interrupted = false

    /// Counts `count` calls about to be journaled; false once interrupted.
    mutating func begin(_ count: Int = 1) -> Bool {
        guard !interrupted else { return false }
        pending += count
        return true
    }
}
