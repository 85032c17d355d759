// Batch progress: a redrawn bar on a terminal, plain lines otherwise; failures always get their own line.
import Foundation
import Locking
import PipelineCore

/// Shows batch progress on stderr.
final class BatchProgressDisplay: Sendable {
    private let output: FileHandleOutput
    private let quiet: Bool
    private let isTerminal: Bool
    /// The last time a plain line was printed (not a terminal), to print about once a second.
    private let lastLine = Locked<Double>(-1)

    init(output: FileHandleOutput, quiet: Bool) {
        self.output = output
        self.quiet = quiet
        self.isTerminal = output.isTerminal
    }

    /// Called after each file.
    func show(_ progress: BatchProgress) {
        if progress.lastOutcome == .failed {
            let clear = isTerminal && !quiet ? "\r\u{1B}[K" : ""
            // Escaped: a file's name may hold a line break or a terminal escape (the line is one failure).
            let reason = progress.lastError ?? "unknown error"
            output.write(
                "\(clear)picpipe: failed: \(LogText.escaped(progress.lastFile)): \(LogText.escaped(reason))\n")
        }
        guard !quiet else { return }
        if isTerminal {
            output.write("\r\u{1B}[K" + bar(progress))
        } else {
            let due = lastLine.withLock { last -> Bool in
                guard progress.done == progress.total || progress.elapsed - last >= 1 else { return false }
                last = progress.elapsed
                return true
            }
            if due { output.write("progress: " + summary(progress) + "\n") }
        }
    }

    /// Ends the bar's line.
    func finish() {
        if isTerminal && !quiet { output.write("\n") }
    }

    private func bar(_ progress: BatchProgress) -> String {
        let width = 30
        let fraction = progress.total > 0 ? Double(progress.done) / Double(progress.total) : 1
        let filled = Int(fraction * Double(width))
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            + summary(progress)
    }

    private func summary(_ progress: BatchProgress) -> String {
        let percent = progress.total > 0 ? 100 * progress.done / progress.total : 100
        var text = "\(progress.done)/\(progress.total) (\(percent)%) " + String(format: "%.1f img/s", progress.rate)
        if let eta = progress.eta, progress.done < progress.total { text += " ETA " + Self.duration(eta) }
        if progress.failed > 0 { text += " \(progress.failed) failed" }
        return text
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s / 60 % 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
