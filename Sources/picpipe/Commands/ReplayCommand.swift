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
            Example:
              picpipe replay --failed --store ./picstore
            """)

    @Argument(help: "The event id (see `picpipe events`).")
    var eventID: Int64?

    @Flag(help: "Re-queue every invocation in state failed or dead.")
    var failed = false

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var databaseOptions: DatabaseOptions

    func validate() throws {
        guard (eventID == nil) != !failed else { throw ValidationError("give an EVENT_ID or --failed, not both") }
    }

    func run() throws {
        let layout = try StoreOptions.existing(storeOptions.layout)
        let journal = try DatabaseBackends.open(url: databaseOptions.url(), layout: layout).journal
        let count: Int
        if let eventID {
            do {
                count = try journal.replay(eventID: eventID)
            } catch let error as JournalError {
                FileHandleOutput.standardError.write("picpipe replay: \(error)\n")
                throw ExitCode.failure
            }
        } else {
            count = try journal.replayFailed()
        }
        FileHandleOutput.standardOutput.write("re-queued \(count) invocation\(count == 1 ? "" : "s")\n")
    }
}
