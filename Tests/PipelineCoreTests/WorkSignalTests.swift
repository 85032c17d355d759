// Queued work wakes only the workers of its function (`FunctionWorkSignals`): on PostgreSQL every wake-up is a claim,
// and a broadcast made the idle metadata workers claim nothing for every thumbnail queued.
import Testing

@testable import PipelineCore

struct WorkSignalTests {
    @Test func workForOneFunctionWakesOnlyItsWorkersAndNilWakesAll() async {
        let signals = FunctionWorkSignals()
        let thumbnail = signals.signal(for: "thumbnail")
        let metadata = signals.signal(for: "metadata")
        #expect(signals.signal(for: "thumbnail") === thumbnail)
        let (thumbnailBefore, metadataBefore) = (thumbnail.generation, metadata.generation)
        signals.notify("thumbnail")
        #expect(thumbnail.generation == thumbnailBefore + 1)
        #expect(metadata.generation == metadataBefore)
        signals.notify(nil)
        #expect(thumbnail.generation == thumbnailBefore + 2)
        #expect(metadata.generation == metadataBefore + 1)
        // A worker waiting on its signal (a minute at most) returns on its function's notify.
        let generation = metadata.generation
        async let waited: Void = metadata.wait(after: generation, upTo: 60)
        while metadata.generation == generation {
            signals.notify("metadata")
            await Task.yield()
        }
        await waited
    }
}
