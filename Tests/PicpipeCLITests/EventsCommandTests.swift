// `picpipe events`, `replay`, `stats` and `config` from another terminal while serve runs.
import Foundation
import PipelineCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct EventsCommandTests {
        /// `events --json` carries every key (`"error": null`), as `query --json` does; `stats --json`'s last bucket is
        /// `"le": "+Inf"`, Prometheus' spelling; `events` without `--limit` says on stderr when its default limit cut
        /// the list (until session 29: no `error` key, no `le`, and the newest 100 printed as if they were all).
        @Test func eventsAndStatsJSONCarryEveryKeyAndEventsSaysWhereItStopped() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-events-json")
            defer { try? FileManager.default.removeItem(at: work) }
            let layout = StoreLayout(root: work.appendingPathComponent("store"))
            try layout.createFolders()
            let journal = try SQLiteInvocationJournal(layout: layout)
            for n in 0..<101 {
                let hex = String(repeating: String(format: "%02x", n), count: 32)
                let record = S3EventRecord(
                    name: .objectCreatedPut, bucket: "store", key: "originals/\(hex.prefix(2))/\(hex).jpg",
                    size: 10, eTag: hex, sequence: 0, sourceName: "p\(n).jpg")
                _ = try journal.append(record, functions: ["metadata"], type: .event, deduplicate: false)
            }
            let store = layout.root.path

            let all = try await PicpipeProcess.run(["events", "--store", store, "--json"])
            #expect(all.status == 0, "\(all.stderr)")
            let lines = all.stdout.split(separator: "\n")
            #expect(lines.count == 100)
            #expect(all.stderr == "picpipe events: showing the newest 100; --limit N for more\n")
            let line = try #require(lines.first)
            let first = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for key in ["error", "duration", "not_before"] { #expect(first[key] is NSNull, "\(key): \(line)") }
            #expect(first["source_name"] as? String == "p100.jpg")

            let more = try await PicpipeProcess.run(["events", "--store", store, "--json", "--limit", "200"])
            #expect(more.stdout.split(separator: "\n").count == 101 && more.stderr.isEmpty, "\(more.stderr)")
            let asked = try await PicpipeProcess.run(["events", "--store", store, "--limit", "100"])
            #expect(asked.stdout.split(separator: "\n").count == 101 && asked.stderr.isEmpty, "a header and 100 rows")

            let stats = try await PicpipeProcess.run(["stats", "--store", store, "--json"])
            let functions = try #require(
                try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [[String: Any]])
            let metadata = try #require(functions.first { $0["function"] as? String == "metadata" })
            let histogram = try #require(metadata["histogram"] as? [[String: Any]])
            #expect(histogram.count == FunctionStatistics.bucketBounds.count + 1)
            #expect(histogram.last?["le"] as? String == "+Inf", "\(stats.stdout)")
            #expect(histogram.first?["le"] as? Double == FunctionStatistics.bucketBounds.first)
        }

        @Test func listFilterReplayAndStatsWhileServing() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-events")
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            let serve = try await ServeProcess(store: store)
            let uploads = store.appendingPathComponent("uploads")
            try PicpipeCLI.ServeCommandTests.picture(1).write(to: uploads.appendingPathComponent("good.jpg"))
            try PicpipeCLI.ServeCommandTests.picture(2).prefix(400).write(to: uploads.appendingPathComponent("bad.jpg"))
            try await ServeProcess.eventually("good processed, bad dead") {
                guard try await StoreView.processed(store).contains("good.jpg"),
                    try await StoreView.events(store, state: "dead").contains(where: { $0.sourceName == "bad.jpg" })
                else { return false }
                return try await StoreView.events(store, state: "succeeded").contains {
                    $0.sourceName == "bad.jpg" && $0.eventName == "ObjectRemoved:Delete" && $0.function == "metadata"
                }
            }

            let table = try await PicpipeProcess.run(["events", "--store", store.path])
            #expect(table.status == 0)
            #expect(table.stdout.hasPrefix("ID"))
            #expect(table.stdout.contains("good.jpg"))
            // The dead row names bad.jpg once, in SOURCE, and its error says why without repeating it.
            let deadRow = try #require(table.stdout.split(separator: "\n").first { $0.contains(" dead ") })
            #expect(deadRow.components(separatedBy: "bad.jpg").count == 2, "\(deadRow)")
            #expect(deadRow.contains("truncated"))
            let dead = try await StoreView.events(store, state: "dead")
            #expect(Set(dead.map(\.sourceName)) == ["bad.jpg"])
            let onlyMetadata = try await PicpipeProcess.run([
                "events", "--store", store.path, "--function", "metadata", "--json",
            ])
            // good.jpg's and bad.jpg's ObjectCreated, and the ObjectRemoved that cleaned up after refusing bad.jpg.
            #expect(onlyMetadata.stdout.split(separator: "\n").count == 3)

            // Replay the good event: idempotent, it runs again and changes nothing on disk.
            let before = PicpipeProcess.files(under: store.appendingPathComponent("thumbnails"))
            let rowsBefore = try await StoreView.metadataRows(store)
            let good = try #require(try await StoreView.events(store).first { $0.sourceName == "good.jpg" })
            let replay = try await PicpipeProcess.run(["replay", String(good.eventID), "--store", store.path])
            #expect(replay.stdout == "re-queued 2 invocations\n")
            try await ServeProcess.eventually("replayed") {
                try await StoreView.events(store).filter { $0.sourceName == "good.jpg" }.allSatisfy {
                    $0.state == "succeeded"
                }
            }
            #expect(PicpipeProcess.files(under: store.appendingPathComponent("thumbnails")) == before)
            #expect(try await StoreView.metadataRows(store) == rowsBefore)

            // Replay the failed ones: bad.jpg was refused (its original left the store for failed/), so it is put
            // back and judged again: refused again, dead again, back in failed/, nothing made.
            let again = try await PicpipeProcess.run(["replay", "--failed", "--store", store.path])
            #expect(again.status == 0)
            #expect(again.stdout.contains("(bad.jpg): put its original back from failed/bad.jpg"), "\(again.stdout)")
            #expect(again.stdout.hasSuffix("re-queued 2 invocations\n"), "its thumbnail and metadata invocations")
            try await ServeProcess.eventually("judged again, refused again") {
                let lines = try await StoreView.events(store).filter {
                    $0.sourceName == "bad.jpg" && $0.function == "thumbnail" && $0.eventName == "ObjectCreated:Put"
                }
                return lines.first?.state == "dead"
                    && FileManager.default.fileExists(atPath: store.appendingPathComponent("failed/bad.jpg").path)
            }
            #expect(PicpipeProcess.files(under: store.appendingPathComponent("thumbnails")) == before)
            #expect(PicpipeProcess.files(under: store.appendingPathComponent("originals")).count == 1)
            // Its copy gone from failed/ too, the event is not replayed (it would find nothing and "succeed").
            try FileManager.default.removeItem(at: store.appendingPathComponent("failed/bad.jpg"))
            let gone = try await PicpipeProcess.run(["replay", "--failed", "--store", store.path])
            #expect(gone.status == 1)
            #expect(gone.stderr.contains("(bad.jpg): its original is neither stored nor kept in failed/"))
            #expect(gone.stdout == "re-queued 0 invocations\n")
            #expect(try await StoreView.events(store, state: "dead").map(\.sourceName) == ["bad.jpg"])
            let missing = try await PicpipeProcess.run(["replay", "424242", "--store", store.path])
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("no event with id 424242"))
            let usage = try await PicpipeProcess.run(["replay", "--store", store.path])
            #expect(usage.status == 2)

            let stats = try await PicpipeProcess.run(["stats", "--store", store.path])
            #expect(stats.status == 0)
            #expect(stats.stdout.contains("thumbnail"))
            #expect(stats.stdout.contains("GB_S"))
            await serve.stop()
        }

        @Test func aPictureRefusedByALimitGoesThroughItsReplayOnceTheLimitIsRaised() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-redrive")
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            // 160 x 120 is over a 10,000-pixel limit: refused, out of originals/ into failed/.
            let strict = try await ServeProcess(store: store, environment: ["PICPIPE_MAX_PIXELS": "10000"])
            try PicpipeCLI.ServeCommandTests.picture(1).write(
                to: store.appendingPathComponent("uploads").appendingPathComponent("wide.jpg"))
            try await ServeProcess.eventually("refused") {
                try await StoreView.events(store, state: "dead").contains { $0.sourceName == "wide.jpg" }
            }
            await strict.stop()
            #expect(FileManager.default.fileExists(atPath: store.appendingPathComponent("failed/wide.jpg").path))
            #expect(PicpipeProcess.files(under: store.appendingPathComponent("originals")).isEmpty)

            let replay = try await PicpipeProcess.run(["replay", "--failed", "--store", store.path])
            #expect(replay.status == 0)
            #expect(replay.stdout.contains("(wide.jpg): put its original back from failed/wide.jpg"))
            let serve = try await ServeProcess(store: store)
            try await ServeProcess.eventually("made at last") {
                try await StoreView.events(store).filter { $0.eventName == "ObjectCreated:Put" }.allSatisfy {
                    $0.state == "succeeded"
                }
            }
            await serve.stop()
            #expect(PicpipeProcess.files(under: store.appendingPathComponent("originals")).count == 1)
            #expect(PicpipeProcess.files(under: store.appendingPathComponent("thumbnails")).count == 3)
            #expect(try await StoreView.metadataRows(store) == 1)
            #expect(PicpipeProcess.files(under: store.appendingPathComponent("failed")).isEmpty)
            #expect(try await StoreView.events(store, state: "dead").isEmpty)
        }

        /// A failed synchronous (RequestResponse) call was answered to its caller: `replay --failed` passes it over
        /// (until session 28 it re-ran it as an Event, retried and dead-lettered it); `replay EVENT_ID` still runs it.
        @Test func replayFailedPassesOverAFailedSynchronousCall() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-replay-sync")
            defer { try? FileManager.default.removeItem(at: work) }
            let (store, _) = try await PicpipeCLI.InvokeCommandTests.storeWithOriginal(work)
            let payload = PicpipeCLI.InvokeCommandTests.event(
                key: "../../etc/passwd", name: "ObjectCreated:Put", eTags: [String(repeating: "a", count: 64)])
            let call = try await PicpipeProcess.run([
                "invoke", "thumbnail", "--payload", payload, "--store", store.path,
            ])
            #expect(call.status == 1)
            let failed = try await StoreView.events(store, state: "failed")
            #expect(failed.count == 1)

            let replay = try await PicpipeProcess.run(["replay", "--failed", "--store", store.path])
            #expect(replay.status == 0, "\(replay.stderr)")
            #expect(replay.stdout.hasSuffix("re-queued 0 invocations\n"), "\(replay.stdout)")
            #expect(replay.stdout.contains("passed over 1 failed RequestResponse invocation"), "\(replay.stdout)")
            #expect(try await StoreView.events(store, state: "queued").isEmpty)
            #expect(try await StoreView.events(store, state: "failed").count == 1)

            // Named by its event, it runs again (as an Event: nobody waits for it).
            let one = try await PicpipeProcess.run([
                "replay", String(try #require(failed.first).eventID), "--store", store.path,
            ])
            #expect(one.stdout == "re-queued 1 invocation\n")
            #expect(try await StoreView.events(store, state: "queued").count == 1)
        }

        @Test func configPrintsTheEffectiveConfiguration() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-config")
            defer { try? FileManager.default.removeItem(at: work) }
            let file = work.appendingPathComponent("picpipe.yaml")
            try Data("thumbnails:\n  sizes: [64]\nfunctions:\n  metadata:\n    timeout: 5\n".utf8).write(to: file)
            let output = try await PicpipeProcess.run(
                ["config", "--config", file.path, "--store", "/tmp/somewhere"],
                environment: ["PICPIPE_LISTEN": "0.0.0.0:9000"])
            #expect(output.status == 0)
            #expect(output.stdout.contains("store: /tmp/somewhere"))
            #expect(output.stdout.contains("  - 64"))
            #expect(output.stdout.contains("listen: 0.0.0.0:9000"))
            #expect(output.stdout.contains("timeout: 5\n"))
            let bad = try await PicpipeProcess.run(
                ["config"], environment: ["PICPIPE_FUNCTIONS_THUMBNAIL_MAX_RETRIES": "9"])
            #expect(bad.status == 2)
            #expect(bad.stderr.contains("max_retries"))
        }
    }
}
