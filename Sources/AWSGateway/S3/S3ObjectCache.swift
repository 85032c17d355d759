// Small objects (thumbnails) held in memory with what GetObject answers with, so a presigned GET that hits costs a
// signature check and no file I/O, as the HTTP API's FileCache does for its thumbnail GETs.
import NIOCore
import Synchronization

/// Small objects of `originals` and `thumbnails` by path, up to a byte budget, least recently used out first.
///
/// Paths in those buckets are content-addressed, so the bytes behind a path only change when the content is
/// removed (and re-added). An entry is trusted for `revalidateAfter` (1 s, the HTTP API's figure), so a removal
/// by another door (HTTP DELETE, a dropped file) is seen within that; the S3 API's own writes and deletes empty
/// the cache at once (`removeAll`), since they may also change an original's recorded metadata.
final class S3ObjectCache: Sendable {
    /// Objects larger than this are never cached.
    let entryLimit: Int
    /// The most bytes held at once.
    let budget: Int
    /// How long an entry is served before the file is read again.
    let revalidateAfter: Duration
    private let state = Mutex(State())

    private struct Entry {
        var info: S3API.ObjectInfo
        var readAt: ContinuousClock.Instant
        var lastUsed: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
        var tick: UInt64 = 0
        /// Bumped by `removeAll`: reads that began before it are not inserted.
        var generation: UInt64 = 0
    }

    init(budget: Int = 64 << 20, entryLimit: Int = 256 << 10, revalidateAfter: Duration = .seconds(1)) {
        self.budget = budget
        self.entryLimit = min(entryLimit, budget)
        self.revalidateAfter = revalidateAfter
    }

    /// The cached object at `path`, unless missing or due for a new read.
    func lookup(_ path: String, now: ContinuousClock.Instant = .now) -> S3API.ObjectInfo? {
        let limit = revalidateAfter
        return state.withLock { state in
            guard let index = state.entries.index(forKey: path) else { return nil }
            guard now - state.entries.values[index].readAt < limit else { return nil }
            state.tick &+= 1
            state.entries.values[index].lastUsed = state.tick
            return state.entries.values[index].info
        }
    }

    /// The generation to pass to `insert` for a read that starts now.
    var generation: UInt64 { state.withLock { $0.generation } }

    /// Keeps an object read whole from disk (not when a `removeAll` happened since `generation` was taken).
    func insert(_ info: S3API.ObjectInfo, readAt: ContinuousClock.Instant, generation: UInt64) {
        guard let bytes = info.bytes, bytes.readableBytes <= entryLimit else { return }
        let path = info.file.path
        let size = bytes.readableBytes
        state.withLock { state in
            guard state.generation == generation else { return }
            state.tick &+= 1
            let entry = Entry(info: info, readAt: readAt, lastUsed: state.tick)
            if let old = state.entries.updateValue(entry, forKey: path) {
                state.bytes -= old.info.bytes?.readableBytes ?? 0
            }
            state.bytes += size
            while state.bytes > budget,
                let oldest = state.entries.min(by: { $0.value.lastUsed < $1.value.lastUsed })
            {
                state.entries.removeValue(forKey: oldest.key)
                state.bytes -= oldest.value.info.bytes?.readableBytes ?? 0
            }
        }
    }

    /// Forgets everything (after an S3 write or delete).
    func removeAll() {
        state.withLock { state in
            state.generation &+= 1
            state.entries.removeAll()
            state.bytes = 0
        }
    }

    /// The number of entries and the bytes they hold (for tests).
    var usage: (count: Int, bytes: Int) { state.withLock { ($0.entries.count, $0.bytes) } }
}
