// A function's long synchronous step runs on a serial queue of its own (which GCD gives a thread beside the
// cooperative pool: a serial queue overcommits), never on the pool.
import Dispatch
import Testing

@testable import PipelineCore

struct BlockingWorkTests {
    @Test func runsOnAQueueOfItsOwnAndHandsBackItsResultOrError() async throws {
        let onRenderQueue = try await BlockingWork.run { DispatchQueue.getSpecific(key: BlockingWork.queueKey) == true }
        #expect(onRenderQueue)
        #expect(DispatchQueue.getSpecific(key: BlockingWork.queueKey) == nil, "the caller is not on it")
        struct Refused: Error, Equatable {}
        await #expect(throws: Refused.self) { try await BlockingWork.run { throw Refused() } }
    }
}
