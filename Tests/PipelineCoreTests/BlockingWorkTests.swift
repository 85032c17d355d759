// A function's long synchronous step runs on a thread of BlockingWork's own, never on the cooperative pool.
import Dispatch
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
}
