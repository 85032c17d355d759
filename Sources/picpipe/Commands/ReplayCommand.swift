// `picpipe replay`: put an event's invocations, or every failed one, back in the queue.
import ArgumentParser
import PipelineCore

/// Re-queues invocations for a running (or the next) serve.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-queue an event's invocations (EVENT_ID) or every failed and dead one (--failed).",
        discussion: """
            Handlers are idempotent (outputs keyed by content hash and recipe), so replaying a succeeded event \
            changes nothing on disk. A running serve picks the work up within its poll interval.
            A refused picture (moved to failed/ with its .error.json) is put back first and its event replayed \
            whole, so it is judged again (raise the limit that refused it first); one no longer in failed/ is not \
            replayed (drop the file into uploads/ again): it is named, and the exit code is 1.
            --failed replays asynchronous (Event) invocations only: a failed synchronous (RequestResponse) call \
            was answered to its caller, and Lambda never retries one; replay its EVENT_ID to run it again.
            Example:
              picpipe replay --failed --store ./picstore
            """)

    @Argument(help: "The event id (see `picpipe events`).")
    var eventID: Int64?

    @Flag(help: "Re-queue every invocation in state failed or dead.")
    var failed = false

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var databaseOptions: DatabaseOptions

    func validate() throws {
        if eventID == nil && !failed { throw ValidationError("give an EVENT_ID or --failed") }
        if eventID != nil && failed { throw ValidationError("give an EVENT_ID or --failed, not both") }
    }

    func run() throws {
        let (layout, url) = try databaseOptions.readingTarget(store: storeOptions, config: configOptions)
        let backends = try DatabaseBackends.open(url: url, layout: layout)
        defer { backends.close() }
        let journal = backends.journal
        let refused = RefusedOriginals(layout: layout)
        var count = 0
        var gone = 0
        if let eventID {
            do {
                guard let event = try journal.event(id: eventID) else { throw JournalError.noSuchEvent(eventID) }
                let hash = (event.record.contentHash ?? event.record.keyContentHash)?.hex ?? ""
                if try refused.wouldFindGone(event.record), let deletedBy = try Self.deletions(in: journal)[hash],
                    deletedBy > eventID
                {
                    // Until session 29 this said to drop the file into uploads/ again, as for a lost refusal.
                    let object = event.record.s3.object
                    FileHandleOutput.standardError.write(
                        "picpipe replay: event \(eventID) (\(LogText.escaped(object.sourceName ?? object.key))): "
                            + "its picture was deleted since (event \(deletedBy), ObjectRemoved); not replayed\n")
                    throw ExitCode.failure
                }
                switch try prepare(event, refused, journal) {
                case .ready: count = try journal.replay(eventID: eventID)
                case .restored: count = try journal.replayRestored(eventID: eventID)
                case .gone: gone += 1
                }
            } catch let error as JournalError {
                FileHandleOutput.standardError.write("picpipe replay: \(error)\n")
                throw ExitCode.failure
            }
        } else {
            // An event whose original was put back is replayed whole (its metadata row went with the refusal); one
            // whose original is gone is left as it is.
            var excluded: Set<Int64> = []
            var unfinished = Set<Int64>()
            // A synchronous call's error went back to its caller: Lambda never retries it nor sends it to a
            // destination, so it is passed over (until session 28 it was re-run as an Event, retried and
            // dead-lettered). Such a call is an event of its own, with that one invocation.
            var calls = Set<Int64>()
            for state in [InvocationState.failed, .dead] {
                for invocation in try journal.invocations(state: state, function: nil, limit: Int.max) {
                    if invocation.type == InvocationType.requestResponse.rawValue {
                        calls.insert(invocation.eventID)
                    } else {
                        unfinished.insert(invocation.eventID)
                    }
                }
            }
            calls.subtract(unfinished)
            excluded.formUnion(calls)
            if !calls.isEmpty {
                let ids = calls.sorted().prefix(10).map(String.init).joined(separator: ", ")
                FileHandleOutput.standardOutput.write(
                    "passed over \(calls.count) failed RequestResponse invocation\(calls.count == 1 ? "" : "s") "
                        + "(event \(ids)\(calls.count > 10 ? ", …" : "")): a synchronous call's error went back to "
                        + "its caller and is not retried; `picpipe replay EVENT_ID` runs one again\n")
            }
            var deletions: [String: Int64]?
            var deleted = 0
            for eventID in unfinished.sorted() {
                guard let event = try journal.event(id: eventID) else { continue }
                // A picture deleted on purpose after this event (a later ObjectRemoved run as a call: a DELETE
                // through the HTTP API or S3) is passed over: a delete wins (until session 28 it failed the
                // replay, exit 1, for ever).
                let hash = (event.record.contentHash ?? event.record.keyContentHash)?.hex ?? ""
                if try refused.wouldFindGone(event.record) {
                    if deletions == nil { deletions = try Self.deletions(in: journal) }
                    if let deletedBy = deletions?[hash], deletedBy > eventID {
                        deleted += 1
                        excluded.insert(eventID)
                        continue
                    }
                }
                switch try prepare(event, refused, journal) {
                case .ready: continue
                // Re-queued at once: the original put back waits for its judge from here on (see `prepare`).
                case .restored: count += try journal.replayRestored(eventID: eventID)
                case .gone: gone += 1
                }
                excluded.insert(eventID)
            }
            if deleted > 0 {
                FileHandleOutput.standardOutput.write(
                    "passed over \(deleted) event\(deleted == 1 ? "" : "s") whose picture was deleted since "
                        + "(a later ObjectRemoved): a delete wins\n")
            }
            count += try journal.replayFailed(excluding: excluded)
        }
        FileHandleOutput.standardOutput.write("re-queued \(count) invocation\(count == 1 ? "" : "s")\n")
        if gone > 0 { throw ExitCode.failure }
    }

    /// The contents deleted on purpose, by SHA-256, with the id of the latest event that deleted each: an
    /// `ObjectRemoved` run as a synchronous call, as the HTTP API's and S3's DELETE run it (a refusal's removal is
    /// queued as an Event: its original is kept in failed/ for a redrive).
    static func deletions(in journal: any InvocationJournal) throws -> [String: Int64] {
        var deletions: [String: Int64] = [:]
        for invocation in try journal.invocations(state: nil, function: nil, limit: Int.max)
        where invocation.eventName.hasPrefix("ObjectRemoved")
            && invocation.type == InvocationType.requestResponse.rawValue
        {
            let file = invocation.key.split(separator: "/").last ?? ""
            let hash = String(file.split(separator: ".").first ?? "")
            deletions[hash] = max(deletions[hash] ?? 0, invocation.eventID)
        }
        return deletions
    }

    /// Puts a refused original back before its event is replayed, saying so; names an event that cannot be. The
    /// event then says whether the replay stored its original: only one put back may be refused out of the store
    /// again (the caller re-queues it with `replayRestored`, which records that); a picture found stored stays
    /// whatever the replay's refusal (until session 34 a replay of a picture's first event under a lowered
    /// `limits.max_pixels` moved the stored picture to failed/). An original found stored while its event's work is
    /// still queued or running was put back by another replay and waits for its judge: it stays refusable
    /// (`clearNewlyStored`; until session 36 it was kept as "stored before this event", unjudged, for good).
    private func prepare(
        _ event: JournaledEvent, _ refused: RefusedOriginals, _ journal: any InvocationJournal
    ) throws -> RefusedOriginals.Preparation {
        let object = event.record.s3.object
        let name = LogText.escaped(object.sourceName ?? object.key)
        let preparation = try refused.prepareReplay(of: event.record)
        switch preparation {
        case .ready:
            if event.record.storedItsOriginal { try journal.clearNewlyStored(eventID: event.id) }
        case .restored(let letter):
            FileHandleOutput.standardOutput.write(
                "event \(event.id) (\(name)): put its original back from failed/\(LogText.escaped(letter))\n")
        case .gone:
            FileHandleOutput.standardError.write(
                "picpipe replay: event \(event.id) (\(name)): its original is neither stored nor kept in failed/; "
                    + "not replayed (drop the file into uploads/ again)\n")
        }
        return preparation
    }
}
