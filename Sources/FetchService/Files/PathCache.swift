// A bounded in-memory cache of small store files keyed by their path: what the HTTP API's thumbnails (`FileCache`)
// and the S3 API's objects (`S3ObjectCache`) keep so a hit costs no file I/O.
import Locking
import Synchronization

/// Values by path, up to a byte budget, least recently used out first.
///
/// The paths cached name content-addressed files, so the bytes behind a path only change when the content is
/// removed. Whoever removes content calls `invalidate` (or `removeAll`) after the removal; a read that started
/// before it is not inserted (the generation check in `insert`). Anything removed behind the server's back is seen
/// within `revalidateAfter`: an entry older than that is read from disk again. The event-loop shortcuts have one
/// request check or read it before that request is answered, and keep answering the others from the entry as it
/// was meanwhile (`lookupWhileRereading`): under load, every request that came in during the read went down the
/// slow path to disk.
package final class PathCache<Value: Sendable>: Sendable {
    /// Values larger than this are never cached.
    package let entryLimit: Int
    /// The most bytes held at once.
    package let budget: Int
    /// How long an entry is served before the file is read again.
    package let revalidateAfter: Duration
    private let state = Locked(State())
    /// Bumped by every invalidation (inside the lock, so `insert` compares under it): reads that began before it are
    /// not inserted, and what was derived from a value looked up before it may be stale.
    private let invalidations = Atomic<UInt64>(0)

    private struct Slot {
        var value: Value
        var size: Int
        var readAt: ContinuousClock.Instant
        var lastUsed: UInt64
        /// When an asker found the entry due and went to read the file again (nil: nobody is reading it).
        var rereadSince: ContinuousClock.Instant?
    }

    private struct State {
        var slots: [String: Slot] = [:]
        var bytes = 0
        var tick: UInt64 = 0

        /// The value at `index`, marked as the most recently used.
        mutating func use(_ index: Dictionary<String, Slot>.Index) -> Value {
            tick &+= 1
            slots.values[index].lastUsed = tick
            return slots.values[index].value
        }
    }

    /// - Parameters:
    ///   - budget: the most bytes held (64 MiB by default).
    ///   - entryLimit: the largest value cached (256 KiB by default).
    ///   - revalidateAfter: how long an entry is trusted without reading the file again.
    package init(budget: Int = 64 << 20, entryLimit: Int = 256 << 10, revalidateAfter: Duration = .seconds(1)) {
        self.budget = budget
        self.entryLimit = min(entryLimit, budget)
        self.revalidateAfter = revalidateAfter
    }

    /// The value for a path, unless it is missing or due for a new read.
    package func lookup(_ path: String, now: ContinuousClock.Instant = .now) -> Value? {
        let limit = revalidateAfter
        return state.withLock { state in
            guard let index = state.slots.index(forKey: path), now - state.slots.values[index].readAt < limit else {
                return nil
            }
            return state.use(index)
        }
    }

    /// For answers given without waiting (the event-loop shortcuts): the value for a path even when it is due for
    /// a new read, and whether the caller is to check or read the file again before it answers (the first to find
    /// it due is; until that ends with `insert` or `remove`, the others are given the value as it was). A read not ended within
    /// `revalidateAfter` (it failed) drops the entry: nothing is trusted for more than twice that.
    package func lookupWhileRereading(
        _ path: String, now: ContinuousClock.Instant = .now
    ) -> (value: Value, reread: Bool)? {
        let limit = revalidateAfter
        return state.withLock { state in
            guard let index = state.slots.index(forKey: path) else { return nil }
            var reread = false
            if now - state.slots.values[index].readAt >= limit {
                if let since = state.slots.values[index].rereadSince {
                    guard now - since < limit else {
                        let slot = state.slots.remove(at: index)
                        state.bytes -= slot.value.size
                        return nil
                    }
                } else {
                    state.slots.values[index].rereadSince = now
                    reread = true
                }
            }
            return (state.use(index), reread)
        }
    }

    /// The generation to pass to `insert` for a read that starts now: the count of invalidations so far, read without
    /// the lock.
    package var generation: UInt64 { invalidations.load(ordering: .acquiring) }

    /// Keeps a value read from disk at `readAt`, unless an invalidation happened since `generation` was taken or
    /// it is too large; evicts the least recently used entries to stay within the budget.
    package func insert(
        _ path: String, _ value: Value, size: Int, readAt: ContinuousClock.Instant, generation: UInt64
    ) {
        state.withLock { state in
            guard size <= entryLimit else {
                // Too large now: what was kept for the path is not its file any more.
                if let slot = state.slots.removeValue(forKey: path) { state.bytes -= slot.size }
                return
            }
            guard invalidations.load(ordering: .relaxed) == generation else {
                // Not kept: an entry whose new read this was is due again for the next asker.
                state.slots[path]?.rereadSince = nil
                return
            }
            state.tick &+= 1
            let slot = Slot(value: value, size: size, readAt: readAt, lastUsed: state.tick)
            if let old = state.slots.updateValue(slot, forKey: path) { state.bytes -= old.size }
            state.bytes += size
            while state.bytes > budget, let oldest = state.slots.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                state.slots.removeValue(forKey: oldest.key)
                state.bytes -= oldest.value.size
            }
        }
    }

    /// Drops the value of a path (its file was found missing).
    package func remove(_ path: String) {
        state.withLock { state in
            if let slot = state.slots.removeValue(forKey: path) { state.bytes -= slot.size }
        }
    }

    /// Drops every value `stale` picks, and makes reads that started before not be inserted.
    package func invalidate(where stale: (Value) -> Bool) {
        state.withLock { state in
            invalidations.wrappingAdd(1, ordering: .releasing)
            for path in state.slots.compactMap({ stale($0.value.value) ? $0.key : nil }) {
                if let slot = state.slots.removeValue(forKey: path) { state.bytes -= slot.size }
            }
        }
    }

    /// Forgets everything.
    package func removeAll() { invalidate { _ in true } }

    /// The number of entries and the bytes they hold (for tests).
    package var usage: (count: Int, bytes: Int) { state.withLock { ($0.slots.count, $0.bytes) } }
}
