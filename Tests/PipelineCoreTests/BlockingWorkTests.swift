// A function's long synchronous step runs on a thread of BlockingWork's own, never on the cooperative pool, and
// stops when its caller is cancelled (an invocation's timeout).
import Dispatch
import Foundation
import ImageCore
import Synchronization
import Testing

@testable import PipelineCore

struct BlockingWorkTests {
    @Test func runsOnAThreadOfItsOwnAndHandsBackItsResultOrError() async throws {
        let onRenderQueue = try await BlockingWork.run { BlockingWork.onWorkThread }
        #expect(onRenderQueue)
        #expect(!BlockingWork.onWorkThread, "the caller is not on one")
        struct Refused: Error, Equatable {}
        await #expect(throws: Refused.self) { try await BlockingWork.run { throw Refused() } }
    }

    /// Waits (polling, with no deadline of its own beyond a minute) until `condition` holds.
    static func until(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<6000 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        try #require(condition(), "waited a minute for: \(what)")
    }

    @Test func aQueuedJobWhoseCallerIsCancelledNeverRuns() async throws {
        let threads = WorkThreads(count: 1)
        let release = DispatchSemaphore(value: 0)
        threads.submit { release.wait() }
        try await Self.until("the thread holds the first job") { threads.queued == 0 }
        let ran = Atomic<Bool>(false)
        let caller = Task { try await BlockingWork.run(on: threads) { ran.store(true, ordering: .relaxed) } }
        try await Self.until("the second job is queued") { threads.queued == 1 }
        caller.cancel()
        release.signal()
        await #expect(throws: CancellationError.self) { try await caller.value }
        let didRun = ran.load(ordering: .relaxed)
        #expect(!didRun)
        // The thread goes on with the next job.
        #expect(try await BlockingWork.run(on: threads) { 7 } == 7)
    }

    @Test func aRunningJobSeesItsCallerCancelledAndItsFailureIsNoFaultOfItsInput() async throws {
        let threads = WorkThreads(count: 1)
        let started = Atomic<Bool>(false)
        let sawCancellation = Atomic<Bool>(false)
        let caller = Task {
            try await BlockingWork.run(on: threads) {
                started.store(true, ordering: .relaxed)
                // A decode's loop in small: checks the flag every band, gives up after a minute without it.
                for _ in 0..<60_000 {
                    if CancellationFlag.current?.isCancelled == true {
                        sawCancellation.store(true, ordering: .relaxed)
                        throw ImageError.cancelled
                    }
                    usleep(1000)
                }
                return "ran to its end"
            }
        }
        try await Self.until("the job runs") { started.load(ordering: .relaxed) }
        caller.cancel()
        // Not ImageError.cancelled: the thumbnail function must not report the picture as bad.
        await #expect(throws: CancellationError.self) { try await caller.value }
        let stopped = sawCancellation.load(ordering: .relaxed)
        #expect(stopped)
    }
}
