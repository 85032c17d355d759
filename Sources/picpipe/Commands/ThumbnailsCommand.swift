// `picpipe thumbnails --missing | --prune`: bring the store's thumbnails in line with the configuration after its
// sizes or recipe changed: make what the stored pictures lack, remove what no configured recipe makes.
import ArgumentParser
import Foundation
import Logging
import PipelineCore
import ThumbnailService

#if canImport(Glibc)
    import Glibc
#endif

/// Makes the configured thumbnails the stored pictures lack, and removes the files of sizes and recipes no longer
/// configured.
struct ThumbnailsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thumbnails",
        abstract: "Make the configured thumbnails stored pictures lack (--missing); remove old sizes' files (--prune).",
        discussion: """
            After thumbnails.sizes or the recipe (format, quality, fit, colour) changed: --missing makes every \
            configured size a stored picture lacks, through the thumbnail function (its timeout and memory_mb, \
            journaled as thumbnail requests), functions.thumbnail.concurrency pictures at a time unless -j says; \
            a picture whose thumbnails cannot be made is named and kept. A second run makes nothing. --prune \
            removes the files in thumbnails/ that no configured size and recipe makes (the same sizes in the \
            other formats the HTTP API serves are kept), printing what it removed and the bytes freed. Both work \
            beside a running serve: give them serve's configuration. Ctrl-C stops starting pictures and prints \
            the partial summary; run the same command again to resume.
            Example:
              picpipe thumbnails --missing --config picpipe.yaml
              picpipe thumbnails --prune --dry-run --config picpipe.yaml
            """)

    @Flag(help: "Make every configured thumbnail a stored picture lacks.")
    var missing = false

    @Flag(help: "Remove the files of sizes and recipes no longer configured.")
    var prune = false

    @Flag(help: "Say what would be made and removed; change nothing.")
    var dryRun = false

    @Option(name: .shortAndLong, help: "Pictures worked on at once (default: functions.thumbnail.concurrency).")
    var jobs: Int?

    @Flag(help: "Print the summary as JSON.")
    var json = false

    @Flag(name: .shortAndLong, help: "No progress display.")
    var quiet = false

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var databaseOptions: DatabaseOptions

    func validate() throws {
        guard missing || prune else {
            throw ValidationError("give --missing (make what is lacking), --prune (remove old sizes' files) or both")
        }
        if let jobs, !(1...1000).contains(jobs) { throw ValidationError("-j is 1 to 1000 pictures at once") }
    }

    func run() async throws {
        let interrupt = InterruptSignal()
        let configuration = databaseOptions.applied(to: try configOptions.load(store: storeOptions))
        let layout = try StoreOptions.existingStore(StoreLayout(root: configuration.storeURL))
        var logger = Logger(label: "picpipe.thumbnails")
        // Each failure is named in the summary; the function's own lines would say it twice.
        logger.logLevel = .critical
        let (runtime, backends) = try FunctionCatalog.runtime(for: configuration, logger: logger)
        defer { backends.close() }
        interrupt.onSecondInterrupt { signal in
            // Calls still running are recorded failed (their thumbnails are written whole or not at all).
            let cut = runtime.interruptCalls(signal: signal == SIGTERM ? "SIGTERM" : "SIGINT")
            backends.close()
            let clear = FileHandleOutput.standardError.isTerminal ? "\r\u{1B}[K" : ""
            FileHandleOutput.standardError.write(
                "\(clear)picpipe: interrupted at once; \(cut) pictures in flight left as they were (a thumbnail is "
                    + "written whole or not at all); run the same command again to resume\n")
            _exit(128 + signal)
        }
        let function = FunctionCatalog.thumbnail(configuration)
        let inventory = ThumbnailInventory(layout: layout, recipes: function.recipes, served: function.servedRecipes)
        var report = Report(dryRun: dryRun)
        // --missing first: the old files of a picture whose new thumbnails cannot be made are all it has, and
        // --prune keeps them (until session 36 it removed them first, and such a picture was left with none).
        var toMake: Set<ContentHash> = []
        // One walk of originals/ for both: --missing makes what they lack, --prune keeps what is theirs alone.
        let originals = inventory.originals()
        if missing, !interrupt.received {
            let backfill = ThumbnailBackfill(
                runtime: runtime, inventory: inventory,
                jobs: jobs ?? configuration.functions.thumbnail.workersPerProcess)
            let work = backfill.work(in: originals)
            toMake = Set(work.map(\.original.hash))
            if dryRun {
                var summary = ThumbnailBackfill.Summary()
                summary.checked = originals.count
                summary.complete = originals.count - work.count
                report.wouldMake = work.reduce(0) { $0 + $1.missing.count }
                report.missing = summary
            } else {
                let display = BatchProgressDisplay(output: .standardError, quiet: quiet)
                report.missing = await backfill.run(
                    work, checked: originals.count, shouldStop: { interrupt.received },
                    progress: { display.show(Self.batchProgress($0)) })
                if !work.isEmpty { display.finish() }
            }
        }
        if prune, !interrupt.received {
            // A dry run makes nothing: what --missing would make counts as made.
            report.pruned = pruneLeftovers(
                inventory, stored: Set(originals.map(\.hash)), assumingMade: dryRun ? toMake : [],
                shouldStop: { interrupt.received })
        }
        interrupt.restore()
        // Interrupted when something was left undone: a signal after the last picture changes nothing.
        report.interrupted =
            (report.pruned?.stopped ?? false) || (report.missing?.interrupted ?? false)
            || (missing && report.missing == nil) || (prune && report.pruned == nil)
        print(report)
        if report.interrupted {
            FileHandleOutput.standardError.write(
                "picpipe: interrupted; run the same command again to resume (what is done is skipped)\n")
            throw ExitCode(interrupt.exitCode)
        }
        if (report.missing?.failed ?? 0) > 0 || (report.pruned?.failed ?? 0) > 0 { throw ExitCode.failure }
    }

    /// Removes (or with --dry-run only lists) every leftover, grouped by size and recipe, but those of a stored
    /// picture that lacks a configured thumbnail (one of `assumingMade` is taken as complete): until its new
    /// thumbnails are made, its old ones are the only ones it has.
    private func pruneLeftovers(
        _ inventory: ThumbnailInventory, stored: Set<ContentHash>, assumingMade: Set<ContentHash>,
        shouldStop: () -> Bool
    ) -> Report.Pruned {
        var pruned = Report.Pruned()
        var incomplete: [ContentHash: Bool] = [:]
        var keptPictures: Set<ContentHash> = []
        for leftover in inventory.leftovers() {
            if shouldStop() {
                pruned.stopped = true
                break
            }
            let hash = leftover.path.hash
            if stored.contains(hash), !assumingMade.contains(hash) {
                let lacking = incomplete[hash] ?? !inventory.missing(for: hash).isEmpty
                incomplete[hash] = lacking
                if lacking {
                    pruned.keptFiles += 1
                    keptPictures.insert(hash)
                    continue
                }
            }
            if !dryRun {
                do {
                    try inventory.remove(leftover)
                } catch {
                    pruned.failed += 1
                    FileHandleOutput.standardError.write(
                        "picpipe: could not remove thumbnails/\(leftover.relativePath): \(error)\n")
                    continue
                }
            }
            let label = leftover.path.sizeLabel
            let index =
                pruned.groups.firstIndex { $0.size == label && $0.recipe == leftover.path.recipe }
                ?? {
                    let configured = inventory.recipes.first { $0.sizeLabel == label }
                    pruned.groups.append(
                        .init(
                            size: label, recipe: leftover.path.recipe,
                            configuredAs: configured.map { "\($0.recipeTag).\($0.spec.format.fileExtension)" }))
                    return pruned.groups.count - 1
                }()
            pruned.groups[index].files += 1
            pruned.groups[index].bytes += leftover.bytes
            pruned.files += 1
            pruned.bytes += leftover.bytes
        }
        if !dryRun { inventory.removeEmptyFoldersOfOtherSizes() }
        pruned.keptPictures = keptPictures.count
        return pruned
    }

    static func batchProgress(_ progress: ThumbnailBackfill.Progress) -> BatchProgress {
        BatchProgress(
            done: progress.done, total: progress.total, ok: progress.done - progress.failed, skipped: 0,
            failed: progress.failed, elapsed: progress.elapsed, lastFile: progress.lastKey,
            lastOutcome: progress.lastError == nil ? .ok : .failed, lastError: progress.lastError)
    }

    /// What the run did (or, with --dry-run, would do).
    struct Report: Encodable {
        var dryRun: Bool
        var pruned: Pruned?
        var missing: ThumbnailBackfill.Summary?
        /// With --dry-run: the thumbnails --missing would make.
        var wouldMake: Int?
        var interrupted = false

        struct Pruned: Encodable {
            var files = 0
            var bytes = 0
            var failed = 0
            var groups: [Group] = []
            /// Whether an interrupt stopped it before every leftover was looked at.
            var stopped = false
            /// Leftovers kept because their picture lacks a configured thumbnail, and how many pictures.
            var keptFiles = 0
            var keptPictures = 0

            enum CodingKeys: String, CodingKey {
                case files, bytes, failed, groups, stopped
                case keptFiles = "kept_files"
                case keptPictures = "kept_pictures"
            }
        }

        /// The files of one size and recipe.
        struct Group: Encodable {
            var size: String
            var recipe: String
            /// The recipe the size is made in now; `nil`: the size is not configured.
            var configuredAs: String?
            var files = 0
            var bytes = 0

            enum CodingKeys: String, CodingKey {
                case size, recipe, files, bytes
                case configuredAs = "configured_as"
            }
        }

        enum CodingKeys: String, CodingKey {
            case pruned, missing, interrupted
            case dryRun = "dry_run"
            case wouldMake = "would_make"
        }
    }

    private func print(_ report: Report) {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = (try? encoder.encode(report)) ?? Data("{}".utf8)
            FileHandleOutput.standardOutput.write(String(decoding: data, as: UTF8.self) + "\n")
            return
        }
        var lines: [String] = []
        if let pruned = report.pruned {
            let verb = dryRun ? "would remove" : "removed"
            for group in pruned.groups {
                let why =
                    group.configuredAs.map { "size \(group.size) is made as *-\($0) now" }
                    ?? "size \(group.size) is not configured"
                lines.append(
                    "\(verb) thumbnails/\(group.size)/*/*-\(group.recipe): \(group.files) "
                        + "\(group.files == 1 ? "file" : "files"), \(Self.bytes(group.bytes)) (\(why))")
            }
            lines.append(
                pruned.files == 0 && pruned.keptFiles == 0
                    ? "prune: nothing to remove; every file in thumbnails/ is of a configured size and recipe"
                    : "prune: \(verb) \(pruned.files) files, \(Self.bytes(pruned.bytes)) "
                        + (dryRun ? "would be freed" : "freed"))
            if pruned.keptFiles > 0 {
                lines.append(
                    "prune: kept \(pruned.keptFiles) files of \(pruned.keptPictures) pictures that lack a configured "
                        + "thumbnail: they are all those pictures have (removed once --missing makes theirs)")
            }
        }
        if let summary = report.missing {
            if let wouldMake = report.wouldMake {
                lines.append(
                    "missing: \(summary.checked) pictures checked; \(wouldMake) thumbnails would be made for "
                        + "\(summary.checked - summary.complete) of them, \(summary.complete) complete")
            } else {
                var line =
                    "missing: \(summary.checked) pictures checked; \(summary.thumbnails) thumbnails made for "
                    + "\(summary.made) of them, \(summary.complete) complete, \(summary.failed) failed"
                if summary.gone > 0 { line += ", \(summary.gone) deleted meanwhile" }
                if summary.notStarted > 0 { line += ", \(summary.notStarted) not started (interrupted)" }
                line += String(format: " (%.2f s)", summary.seconds)
                lines.append(line)
            }
        }
        FileHandleOutput.standardOutput.write(lines.joined(separator: "\n") + "\n")
    }

    /// Bytes as a person reads them: 812 B, 4.1 KB, 12.3 MB (1000s, as `du --si`).
    static func bytes(_ count: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }
}
