// `picpipe events`: the journal's invocations, newest first.
import ArgumentParser
import Foundation
import PipelineCore

extension InvocationState: ExpressibleByArgument {}

/// Lists journaled invocations with their event, state, attempts and last error.
struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "List the journal's invocations (newest first), optionally of one state or function.",
        discussion: """
            States: queued, running, retrying, succeeded, failed (RequestResponse), dead (dead-lettered).
            Safe to run while serve runs on the same store.
            Example:
              picpipe events --store ./picstore --state dead
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(help: "Only this state: queued, running, retrying, succeeded, failed or dead.")
    var state: InvocationState?

    /// The functions an invocation can name.
    static let functionNames = FunctionSettings.names

    @Option(help: "Only this function: thumbnail, metadata or fetch.")
    var function: String?

    /// How many lines `events` prints when no `--limit` is given.
    static let defaultLimit = 100

    @Option(help: "At most this many lines (default \(EventsCommand.defaultLimit), the newest).")
    var limit: Int?

    @Flag(help: "Print JSON lines instead of a table.")
    var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        // An unknown name would list nothing, as if the function had never run (until session 27).
        if let function, !Self.functionNames.contains(function) {
            throw ValidationError(
                "--function '\(function)' is not a function; the functions are "
                    + Self.functionNames.joined(separator: ", "))
        }
    }

    func run() throws {
        let (layout, url) = try databaseOptions.readingTarget(store: storeOptions, config: configOptions)
        let backends = try DatabaseBackends.open(url: url, layout: layout)
        defer { backends.close() }
        let journal = backends.journal
        // One more than asked for tells whether the default limit cut the list: then stderr says so (until session 29
        // the newest 100 were printed as if they were all).
        var rows = try journal.invocations(
            state: state, function: function, limit: (limit ?? Self.defaultLimit) + (limit == nil ? 1 : 0))
        let cut = limit == nil && rows.count > Self.defaultLimit
        if cut { rows.removeLast(rows.count - Self.defaultLimit) }
        var out = ""
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for row in rows { out += String(decoding: try encoder.encode(row), as: UTF8.self) + "\n" }
        } else {
            var table = [["ID", "EVENT", "NAME", "FUNCTION", "STATE", "ATTEMPT", "MS", "SOURCE", "ERROR"]]
            for row in rows {
                // The SOURCE column names the file; the error need not say it again.
                let source = row.sourceName ?? row.key
                let error = row.error.map { $0.hasPrefix(source + ": ") ? String($0.dropFirst(source.count + 2)) : $0 }
                table.append([
                    String(row.id), String(row.eventID), row.eventName, row.function, row.state, String(row.attempt),
                    row.duration.map { String(Int(($0 * 1000).rounded())) } ?? "-", source, error ?? "",
                ])
            }
            out = TextTable.render(table)
        }
        FileHandleOutput.standardOutput.write(out)
        if cut {
            FileHandleOutput.standardError.write(
                "picpipe events: showing the newest \(Self.defaultLimit); --limit N for more\n")
        }
    }
}
