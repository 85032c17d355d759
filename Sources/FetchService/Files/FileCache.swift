// A bounded in-memory cache of small content-addressed store files (thumbnails), keyed by their store path.
import NIOCore
import PipelineCore
import Synchronization

/// Thumbnails in memory, up to a byte budget, least recently used out first.
///
/// A thumbnail's path is made of its content hash and its recipe, so the bytes behind a path never change while
/// the file exists: an entry only goes stale when the content is removed. The routes that remove content (DELETE,
/// PUT replacing an id's content) call `invalidate(hash:)` after the removal; a read that started before it is
/// not inserted (the generation check in `insert`). Anything that removes files behind the server's back is
/// seen within `revalidateAfter`: an entry older than that is read from disk again.
final class FileCache: Sendable {
    /// Files larger than this are never cached.
    let entryLimit: Int
    /// The most bytes held at once.
    let budget: Int
    /// How long an entry is served before the file is read again.
    let revalidateAfter: Duration
    private let state: Mutex<State>

    private struct Slot {
        var file: CachedFile
        var lastUsed: UInt64
    }

    private struct State {
        var slots: [String: Slot] = [:]
        var bytes = 0
        var tick: UInt64 = 0
        /// Bumped by every invalidation: reads that began before it are not inserted.
        var generation: UInt64 = 0
    }

    /// - Parameters:
    ///   - budget: the most bytes held (64 MiB by default).
    ///   - entryLimit: the largest file cached (256 KiB by default).
    ///   - revalidateAfter: how long an entry is trusted without reading the file again.
    init(budget: Int = 64 << 20, entryLimit: Int = 256 << 10, revalidateAfter: Duration = .seconds(1)) {
        self.budget = budget
        self.entryLimit = min(entryLimit, budget)
        self.revalidateAfter = revalidateAfter
        state = Mutex(State())
    }

    /// The entry for a path, unless it is missing or due for a new read.
    func lookup(_ path: String, now: ContinuousClock.Instant) -> CachedFile? {
        let limit = revalidateAfter
        return state.withLock { state in
            guard let index = state.slots.index(forKey: path) else { return nil }
            let file = state.slots.values[index].file
            guard now - file.readAt < limit else { return nil }
            state.tick &+= 1
            state.slots.values[index].lastUsed = state.tick
            return file
        }
    }

    /// The generation to pass to `insert` for a read that starts now.
    var generation: UInt64 { state.withLock { $0.generation } }

    /// Keeps a file read from disk, unless an invalidation happened since `generation` was taken or it is too
    /// large; evicts the least recently used entries to stay within the budget.
    func insert(_ path: String, _ file: CachedFile, generation: UInt64) {
        guard file.size <= entryLimit else { return }
        state.withLock { state in
            guard state.generation == generation else { return }
            state.tick &+= 1
            if let old = state.slots.updateValue(Slot(file: file, lastUsed: state.tick), forKey: path) {
                state.bytes -= old.file.size
            }
            state.bytes += file.size
            while state.bytes > budget, let oldest = state.slots.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                state.slots.removeValue(forKey: oldest.key)
                state.bytes -= oldest.value.file.size
            }
        }
    }

    /// Drops every file derived from a content (called after the content's files were removed).
    func invalidate(hash: ContentHash) {
        state.withLock { state in
            state.generation &+= 1
            let stale = state.slots.compactMap { $0.value.file.hash == hash ? $0.key : nil }
            for path in stale {
                if let slot = state.slots.removeValue(forKey: path) { state.bytes -= slot.file.size }
            }
        }
    }

    /// The number of entries and the bytes they hold (for tests).
    var usage: (count: Int, bytes: Int) { state.withLock { ($0.slots.count, $0.bytes) } }
}
