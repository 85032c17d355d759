// `picpipe stats`: per-function metering from the journal.
import ArgumentParser
import Foundation
import PipelineCore

/// Prints invocations, errors, retries, throttles, durations, GB-seconds and the queue of each function.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Per-function metering: invocations, errors, retries, throttles, durations, GB-s, queue.",
        discussion: """
            Invocations count attempts (a retry is an invocation, as Lambda counts them). GB-s is the sum of \
            duration x memory_mb / 1024. Safe to run while serve runs.
            Example:
              picpipe stats --store ./picstore
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var databaseOptions: DatabaseOptions

    @Flag(help: "Print JSON (with the duration histogram).")
    var json = false

    func run() throws {
        let (layout, url) = try databaseOptions.readingTarget(store: storeOptions, config: configOptions)
        let backends = try DatabaseBackends.open(url: url, layout: layout)
        defer { backends.close() }
        let journal = backends.journal
        let statistics = try journal.statistics(now: Date())
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandleOutput.standardOutput.write(
                String(decoding: try encoder.encode(statistics), as: UTF8.self) + "\n")
            return
        }
        var table = [
            [
                "FUNCTION", "INVOCATIONS", "ERRORS", "RETRIES", "THROTTLES", "DEAD", "QUEUED", "OLDEST_S", "P50_MS",
                "P99_MS", "GB_S",
            ]
        ]
        func ms(_ seconds: Double?) -> String { seconds.map { String(format: "%.1f", $0 * 1000) } ?? "-" }
        for entry in statistics {
            table.append([
                entry.function, String(entry.invocations), String(entry.errors), String(entry.retries),
                String(entry.throttles), String(entry.deadLettered), String(entry.queueDepth),
                String(format: "%.1f", entry.oldestQueuedAge), ms(entry.p50), ms(entry.p99),
                String(format: "%.3f", entry.gbSeconds),
            ])
        }
        FileHandleOutput.standardOutput.write(TextTable.render(table))
    }
}
