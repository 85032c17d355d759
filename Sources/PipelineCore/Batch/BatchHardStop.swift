// A second Ctrl-C during `picpipe batch` exits at once, but first takes back the pictures the files in flight stored
// and did not finish, as a failed file's are. Every store write of the run goes through `write`; stopping lets a write
// under way end and starts none after it, so nothing is written behind the clean-up.
import Foundation

/// Stops a running batch's store writes and removes its unfinished pictures, for an exit at once (`stopNow()`).
///
/// Threads: `write` runs on the store's write threads (`StoreWriteThreads`), never on Swift's cooperative pool: once
/// stopped, a write waits for ever, and the clean-up needs that pool. `stopNow` blocks its caller and is called from a
/// thread of its own (the interrupt's), never from a task.
public final class BatchHardStop: @unchecked Sendable {
    // @unchecked Sendable: every stored `var` is read and written only with `condition` locked.
    private let condition = NSCondition()
    /// Writes under way.
    private var writing = 0
    private var stopped = false
    /// The originals this run stored for files not finished yet, by content.
    private var unfinished: [ContentHash: Unfinished] = [:]
    /// Set when the run starts (`attach`): how to take a picture back, and the files done of all.
    private var takeBack: (@Sendable (Unfinished) async -> Void)?
    private var done = 0
    private var total = 0

    /// An original a file of the run stored, the file not finished.
    struct Unfinished: Sendable {
        var original: IngestedOriginal
        var sequence: Int64
        var file: String
    }

    /// What `stopNow` did.
    public struct Outcome: Sendable, Equatable {
        /// Files finished (ok, skipped or failed) before the stop, of all the run's.
        public var done: Int
        public var total: Int
        /// Unfinished pictures removed: their originals and what their functions had made.
        public var removed: Int
    }

    public init() {}

    /// The run starts: `takeBack` removes an unfinished picture (the failed file's clean-up).
    func attach(total: Int, takeBack: @escaping @Sendable (Unfinished) async -> Void) {
        condition.withLock {
            self.total = total
            self.takeBack = takeBack
        }
    }

    /// Files finished so far.
    func progress(done: Int) {
        condition.withLock { self.done = done }
    }

    /// Runs one store write of the run, or, once stopped, waits for ever instead: the process is about to exit.
    func write<T>(_ body: () throws -> T) rethrows -> T {
        condition.withLock {
            while stopped { condition.wait() }
            writing += 1
        }
        defer {
            condition.withLock {
                writing -= 1
                condition.broadcast()
            }
        }
        return try body()
    }

    /// Notes, inside the `write` that stored it, an original stored for a file not finished yet: a stop waits for
    /// that write, so it finds the original noted.
    func stored(_ original: IngestedOriginal, sequence: Int64, file: String) {
        let entry = Unfinished(original: original, sequence: sequence, file: file)
        condition.withLock { unfinished[original.hash] = entry }
    }

    /// The file of `hash` finished (done, or failed and cleaned up): nothing of it is taken back.
    func finished(_ hash: ContentHash) {
        _ = condition.withLock { unfinished.removeValue(forKey: hash) }
    }

    /// Stops every store write of the run (a write under way ends first, none starts after it), then removes the
    /// unfinished pictures: each original, then what its functions made (thumbnails, a metadata row).
    /// - Returns: what was done; `nil` when no run had started.
    public func stopNow() -> Outcome? {
        let (pictures, takeBack, done, total) = condition.withLock {
            stopped = true
            while writing > 0 { condition.wait() }
            return (Array(unfinished.values), self.takeBack, self.done, self.total)
        }
        guard let takeBack else { return nil }
        if !pictures.isEmpty {
            let removed = DispatchSemaphore(value: 0)
            Task {
                for picture in pictures { await takeBack(picture) }
                removed.signal()
            }
            removed.wait()
        }
        return Outcome(done: done, total: total, removed: pictures.count)
    }
}
