// Work handed to BlockingWork runs even while every thread of Swift's cooperative pool is flags.busy.
import Dispatch
import Foundation
import Synchronization
import Testing

@testable import PipelineCore

struct BlockingWorkTests {
    /// What the busy tasks and the work tell each other.
    final class Flags: Sendable {
        let busy = Atomic<Int>(0)
        let released = Atomic<Bool>(false)
    }

    @Test func runsWhileEveryCooperativeThreadIsBusy() async throws {
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let flags = Flags()
        // As many tasks as the pool has threads, each keeping its core busy (as a decode does: a thread blocked in
        // a wait would let GCD add another) until the work below lets it go, or for 20 s.
        let holders = (0..<threads).map { _ in
            Task.detached {
                flags.busy.add(1, ordering: .relaxed)
                let end = ContinuousClock.now + .seconds(20)
                while !flags.released.load(ordering: .relaxed), ContinuousClock.now < end {}
                return flags.released.load(ordering: .relaxed)
            }
        }
        let sawAllBusy = try await BlockingWork.run {
            let end = ContinuousClock.now + .seconds(20)
            while flags.busy.load(ordering: .relaxed) < threads, ContinuousClock.now < end {}
            flags.released.store(true, ordering: .relaxed)
            return flags.busy.load(ordering: .relaxed) == threads
        }
        #expect(sawAllBusy, "the work ran while the pool was busy")
        for holder in holders { #expect(await holder.value, "let go by the work, not by its own time limit") }
    }
}
