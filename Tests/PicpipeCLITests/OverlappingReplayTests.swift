// Replays that overlap: a second `replay` that comes while an earlier one's put-back original still waits for its
// judge leaves the picture to that judge, which refuses it back into failed/.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct OverlappingReplayTests {
        /// The refused picture's files once its judge settled it: `failed/` and `originals/` (relative paths).
        struct Settled: Equatable {
            var failed: [String]
            var originals: [String]
        }

        /// Waits until no invocation is queued, running or retrying and the picture's fate is on disk: refused back
        /// (its bytes in failed/, its removal journaled) or kept (a `NAME.thumbnail.error.json` letter).
        static func settled(_ store: URL, source: String, removals: Int) async throws -> Settled {
            try await ServeProcess.eventually("\(source) judged again") {
                let events = try await StoreView.events(store)
                guard events.allSatisfy({ ["succeeded", "dead"].contains($0.state) }) else { return false }
                let failed = PicpipeProcess.files(under: store.appendingPathComponent("failed"))
                let removalEvents = Set(events.filter { $0.eventName.hasPrefix("ObjectRemoved") }.map(\.eventID))
                let refused = failed.contains(source) && removalEvents.count == removals
                return refused || failed.contains("\(source).thumbnail.error.json")
            }
            return Settled(
                failed: PicpipeProcess.files(under: store.appendingPathComponent("failed")).sorted(),
                originals: PicpipeProcess.files(under: store.appendingPathComponent("originals")))
        }

        /// `replay --failed` puts a refused picture back and queues its event; a second replay of that event before
        /// any worker judged it (an operator's second `replay`, or a second `replay --failed` on another machine
        /// while the workers are busy) finds the original stored. The picture is still refused when its judge runs:
        /// its bytes back in failed/ with their letter, replayable, nothing of it in the store. Until session 36 the
        /// second replay marked the event as not having stored its original, the judge kept the refused picture as
        /// "stored before this event", and no later `replay --failed` put it in failed/ again.
        @Test func aSecondReplayBeforeTheJudgeRanLeavesTheRefusalToTheJudge() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-overlapping-replay")
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            let strict = ["PICPIPE_MAX_PIXELS": "10000"]
            // 160 x 120 is over a 10,000-pixel limit: refused, out of originals/ into failed/.
            var serve = try await ServeProcess(store: store, environment: strict)
            try PicpipeCLI.ServeCommandTests.picture(36).write(
                to: store.appendingPathComponent("uploads").appendingPathComponent("wide.jpg"))
            let refused = try await Self.settled(store, source: "wide.jpg", removals: 1)
            await serve.stop()
            #expect(refused == Settled(failed: ["wide.jpg", "wide.jpg.error.json"], originals: []))
            let created = try #require(
                try await StoreView.events(store).first { $0.eventName.hasPrefix("ObjectCreated") })

            let first = try await PicpipeProcess.run(["replay", "--failed", "--store", store.path])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.contains("(wide.jpg): put its original back from failed/wide.jpg"), "\(first.stdout)")
            let second = try await PicpipeProcess.run(["replay", String(created.eventID), "--store", store.path])
            #expect(second.status == 0, "\(second.stderr)")

            serve = try await ServeProcess(store: store, environment: strict)
            let judged = try await Self.settled(store, source: "wide.jpg", removals: 2)
            await serve.stop()
            #expect(judged == Settled(failed: ["wide.jpg", "wide.jpg.error.json"], originals: []))
            #expect(try await StoreView.metadataRows(store) == 0)

            // Still replayable: the next `replay --failed` puts it back again.
            let third = try await PicpipeProcess.run(["replay", "--failed", "--store", store.path])
            #expect(third.stdout.contains("(wide.jpg): put its original back from failed/wide.jpg"), "\(third.stdout)")
        }
    }
}
