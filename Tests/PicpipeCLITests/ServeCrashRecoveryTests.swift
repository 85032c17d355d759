// kill -9 of serve in the middle of a 200-file drop, then a restart: everything processed once, nothing partial.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct ServeCrashRecoveryTests {
        @Test func killMinusNineMidDropThenRestartProcessesEveryFileOnce() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-crash")
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            let uploads = store.appendingPathComponent("uploads")
            let staging = work.appendingPathComponent("staging")
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
            // picture(seed) repeats every 256 seeds: 200 consecutive seeds give 200 different files.
            let names = (0..<200).map { String(format: "drop-%03d.jpg", $0) }
            for (n, name) in names.enumerated() {
                try PicpipeCLI.ServeCommandTests.picture(1000 + n).write(to: staging.appendingPathComponent(name))
            }

            let first = try await ServeProcess(store: store)
            // A writer that is still writing across the crash and the restart.
            let inflight = uploads.appendingPathComponent("inflight.jpg")
            let writer = try PicpipeCLI.ServeCommandTests.slowWriter(
                try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 1, width: 170, height: 120), to: inflight,
                pause: 10,
                scratch: work)
            var dropped = 0
            for name in names.prefix(120) {
                #expect(
                    rename(staging.appendingPathComponent(name).path, uploads.appendingPathComponent(name).path) == 0)
                dropped += 1
            }
            try await ServeProcess.eventually("some processed before the crash") {
                try await StoreView.processed(store).count >= 5
            }
            first.signal(SIGKILL)
            _ = await first.waitForExit()
            await first.stop()
            // The rest lands while nobody watches.
            for name in names.dropFirst(dropped) {
                #expect(
                    rename(staging.appendingPathComponent(name).path, uploads.appendingPathComponent(name).path) == 0)
            }
            let second = try await ServeProcess(store: store)
            try await ServeProcess.eventually("all 200 processed after the restart") {
                try await StoreView.processed(store).isSuperset(of: names)
            }
            #expect(
                Set(StoreView.files(store, "uploads")).isSubset(of: ["inflight.jpg"]),
                "only what is still being written")
            await writer.exited()
            try await ServeProcess.eventually("the in-flight file processed after its writer closed") {
                try await StoreView.processed(store).contains("inflight.jpg")
            }

            let events = try await StoreView.events(store)
            let bySource = Dictionary(grouping: events, by: { $0.sourceName ?? "" })
            #expect(bySource.count == 201)
            for (source, lines) in bySource {
                #expect(Set(lines.map(\.eventID)).count == 1, "\(source) has one event")
                #expect(
                    lines.map(\.function).sorted() == ["metadata", "thumbnail"], "\(source) ran each function once")
                #expect(lines.allSatisfy { $0.state == "succeeded" })
            }
            #expect(StoreView.files(store, "uploads").isEmpty)
            #expect(StoreView.files(store, "originals").count == 201)
            for size in ["128", "256", "1024"] { #expect(StoreView.files(store, "thumbnails/\(size)").count == 201) }
            #expect(try await StoreView.metadataRows(store) == 201)
            let everything = PicpipeProcess.files(under: store)
            #expect(!everything.contains { $0.contains(".picpipe-tmp-") }, "no partial file left")
            #expect(StoreView.files(store, "failed").isEmpty)
            await second.stop()
        }
    }
}
