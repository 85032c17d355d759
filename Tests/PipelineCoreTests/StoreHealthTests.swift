// When a full store is taken to take writes again: only when a write as large as the refused one succeeds, or the
// free space covers it; a small write that fits (the /healthz probe, a thumbnail) proves nothing of the upload
// still waiting (until session 27 it cleared the condition: the log flapped and /healthz said ok beside a 507).
import Foundation
import Testing

@testable import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct StoreHealthTests {
    static let noSpace = StoreError.io(path: "/store/originals/ab/x.jpg", operation: "write", errno: ENOSPC)

    @Test func aSmallWriteDoesNotClearAFullStore() {
        let health = StoreHealth()
        #expect(health.recordFailure(Self.noSpace, needing: 5_000_000)?.label == "full")
        health.recordSuccess(bytes: 4096)  // the /healthz probe
        #expect(health.condition.label == "full")
        health.recordSuccess(bytes: 300_000)  // a thumbnail of another picture
        #expect(health.condition.label == "full")
        #expect(health.neededBytes == 5_000_000)
        health.recordSuccess(bytes: 5_000_000)  // the waiting upload itself
        #expect(health.condition == .ok)
        #expect(health.neededBytes == 0)
    }

    @Test func freeSpaceThatCoversTheRefusedWriteClearsIt() {
        let health = StoreHealth()
        health.recordFailure(Self.noSpace, needing: 5_000_000)
        #expect(health.recheckFreeSpace(available: 100_000).label == "full")
        #expect(health.recheckFreeSpace(available: 4_999_999).label == "full")
        #expect(health.recheckFreeSpace(available: 5_000_000) == .ok)
    }

    /// The largest refused write counts, and a refusal of unknown size (a journal write) needs at least 1 MiB.
    @Test func theLargestRefusalCountsAndUnknownSizesNeedAMebibyte() {
        let health = StoreHealth()
        health.recordFailure(errno: ENOSPC, path: "db/events.sqlite")
        #expect(health.neededBytes == StoreHealth.leastSpaceAfterFull)
        health.recordFailure(Self.noSpace, needing: 3_000_000)
        health.recordFailure(Self.noSpace, needing: 2_000_000)
        #expect(health.neededBytes == 3_000_000)
        health.recordSuccess(bytes: 2_500_000)
        #expect(health.condition.label == "full")
    }

    /// A read-only store takes writes again at the first write that succeeds, whatever its size.
    @Test func anyWriteClearsAReadOnlyStore() {
        let health = StoreHealth()
        health.recordFailure(errno: EROFS, path: "/store/db")
        #expect(health.condition.label == "read_only")
        health.recordSuccess(bytes: 1)
        #expect(health.condition == .ok)
    }
}
