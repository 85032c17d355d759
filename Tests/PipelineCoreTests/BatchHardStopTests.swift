// The second Ctrl-C's stop of a batch: a store write under way ends before anything is taken back, and only the
// originals of files not finished are.
import Foundation
import Locking
import Testing

@testable import PipelineCore

struct BatchHardStopTests {
    static func original(_ digit: Character) -> IngestedOriginal {
        let hex = String(repeating: digit, count: 64)
        return IngestedOriginal(
            hash: ContentHash(hex: hex)!, format: .jpeg, relativePath: "\(hex.prefix(2))/\(hex).jpg", size: 1,
            alreadyStored: false)
    }

    @Test func aWriteUnderWayEndsBeforeTheUnfinishedPicturesAreTakenBack() async throws {
        let stop = BatchHardStop()
        let events = Locked<[String]>([])
        stop.attach(total: 3) { unfinished in
            events.withLock { $0.append("take back \(unfinished.file)") }
        }
        stop.stored(Self.original("a"), sequence: 1, file: "a.jpg")
        stop.stored(Self.original("b"), sequence: 2, file: "b.jpg")
        stop.finished(Self.original("b").hash)  // b finished: kept
        stop.progress(done: 1)
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let writer = Thread {
            stop.write {
                entered.signal()
                release.wait()
                // Noted inside the write that stored it, as the batch does: the stop waits for it, so finds it.
                stop.stored(Self.original("c"), sequence: 3, file: "c.jpg")
                events.withLock { $0.append("write ended") }
            }
        }
        writer.start()
        entered.wait()
        let outcome = Locked<BatchHardStop.Outcome?>(nil)
        let stopped = DispatchSemaphore(value: 0)
        let stopper = Thread {
            let result = stop.stopNow()
            outcome.withLock { $0 = result }
            stopped.signal()
        }
        stopper.start()
        release.signal()
        stopped.wait()
        let seen = events.withLock { $0 }
        #expect(seen.first == "write ended", "\(seen)")
        #expect(Set(seen.dropFirst()) == ["take back a.jpg", "take back c.jpg"], "\(seen)")
        #expect(outcome.withLock { $0 } == BatchHardStop.Outcome(done: 1, total: 3, removed: 2))
    }

    @Test func aStopBeforeTheRunStartedTakesNothingBack() {
        #expect(BatchHardStop().stopNow() == nil)
    }
}
