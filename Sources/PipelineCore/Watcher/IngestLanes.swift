// Ingesting uploads side by side: hashing and storing one upload does not hold up the next.
import Dispatch
import Foundation

/// Runs `UploadIngest` on a few serial lanes of their own (GCD threads, never the cooperative pool, since an ingest
/// blocks on reads, writes and the journal).
///
/// A file always goes to the lane its path hashes to, so two sightings of one path (its close event and a rescan)
/// are ingested one after the other and the journal's deduplication sees the first before the second: no
/// duplicate event. Different paths run at once; the store's write-then-rename and content addressing make two
/// lanes storing the same bytes harmless. At most `lanes × perLane` files are in flight: past that `submit` waits,
/// so the watcher's own bounded queue fills and it drops and rescans as before, instead of a backlog growing here.
public final class IngestLanes: Sendable {
    private let ingest: UploadIngest
    private let queues: [DispatchQueue]
    private let group = DispatchGroup()
    private let slots: AsyncSlots

    /// - Parameters:
    ///   - ingest: the ingest step.
    ///   - lanes: how many uploads are ingested at once (default: the cores, 2 to 4).
    ///   - perLane: files queued per lane before `submit` waits.
    public init(
        ingest: UploadIngest, lanes: Int = min(4, max(2, ProcessInfo.processInfo.activeProcessorCount)),
        perLane: Int = 4
    ) {
        self.ingest = ingest
        let count = max(1, lanes)
        queues = (0..<count).map { DispatchQueue(label: "picpipe-ingest-\($0)") }
        slots = AsyncSlots(count * max(1, perLane))
    }

    /// Queues one file on its path's lane; waits (suspended, not blocking) while every slot is taken.
    public func submit(_ file: URL) async {
        await slots.acquire()
        let queue = queues[Self.lane(of: file.path, among: queues.count)]
        let ingest = self.ingest
        let slots = self.slots
        group.enter()
        queue.async { [group] in
            Self.ingest(file, with: ingest, on: queue, group: group)
            slots.release()
            group.leave()
        }
    }

    /// Ingests `file`; one changed too lately to be read (`unsettled`) is looked at again on its lane once it may
    /// have settled, and one open for writing (`beingWritten`) after each of `LeasedUpload.writerGoneDelays`, without
    /// holding the lane meanwhile.
    private static func ingest(
        _ file: URL, with ingest: UploadIngest, on queue: DispatchQueue, group: DispatchGroup, writerLooks: Int = 0
    ) {
        let delay: TimeInterval
        var looks = writerLooks
        switch ingest.ingest(file) {
        case .unsettled:
            delay = LeasedUpload.settleTime
        case .beingWritten where writerLooks < LeasedUpload.writerGoneDelays.count:
            delay = LeasedUpload.writerGoneDelays[writerLooks]
            looks += 1
        default:
            return
        }
        group.enter()
        queue.asyncAfter(deadline: .now() + delay) { [looks] in
            Self.ingest(file, with: ingest, on: queue, group: group, writerLooks: looks)
            group.leave()
        }
    }

    /// Returns once every submitted file is ingested.
    public func drain() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            group.notify(queue: .global()) { done.resume() }
        }
    }

    /// A stable lane for a path (FNV-1a: `hashValue` is seeded per process, which would be fine, but this is
    /// the same in every run, which makes logs comparable).
    static func lane(of path: String, among count: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return Int(hash % UInt64(count))
    }
}
