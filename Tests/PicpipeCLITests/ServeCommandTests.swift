// `picpipe serve` end to end: files dropped every way a user drops them are processed once, after their writer closes.
import Foundation
import ImageCore
import PipelineCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct ServeCommandTests {
        static func picture(_ seed: Int) throws -> Data {
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: seed, width: 160, height: 120)
        }

        /// Writes a file with a separate writer process: part one, a pause, part two, then close.
        static func slowWriter(_ data: Data, to target: URL, pause: Double, scratch: URL) throws -> Process {
            let half = data.count / 2
            let first = scratch.appendingPathComponent("part1-\(UUID().uuidString)")
            let second = scratch.appendingPathComponent("part2-\(UUID().uuidString)")
            try data.prefix(half).write(to: first)
            try data.suffix(from: half).write(to: second)
            let writer = Process()
            writer.executableURL = URL(fileURLWithPath: "/bin/sh")
            writer.arguments = [
                "-c", "exec 3>\"$0\"; cat \"$1\" >&3; sleep \(pause); cat \"$2\" >&3", target.path, first.path,
                second.path,
            ]
            try writer.run()
            return writer
        }

        @Test func filesDroppedByCopyRenameSlowWriterAndIntoNewSubfoldersAreProcessedOnce() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-serve")
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            let serve = try await ServeProcess(store: store)
            let uploads = store.appendingPathComponent("uploads")

            // cp: open, write, close in place.
            let copy = Process()
            copy.executableURL = URL(fileURLWithPath: "/bin/cp")
            let source = work.appendingPathComponent("copied.jpg")
            try Self.picture(1).write(to: source)
            copy.arguments = [source.path, uploads.appendingPathComponent("copied.jpg").path]
            try await copy.runToExit()

            // write-then-rename: the temp name is ignored, the rename is taken.
            try Self.picture(2).write(to: uploads.appendingPathComponent("renamed.jpg.part"))
            #expect(
                rename(
                    uploads.appendingPathComponent("renamed.jpg.part").path,
                    uploads.appendingPathComponent("renamed.jpg").path) == 0)

            // New subfolders, nested, created just before the file lands.
            let deep = uploads.appendingPathComponent("2024/trip/day1")
            try FileManager.default.createDirectory(at: deep, withIntermediateDirectories: true)
            try Self.picture(3).write(to: deep.appendingPathComponent("deep.jpg"))

            // A slow writer that pauses mid-file: nothing happens before it closes.
            let slowTarget = uploads.appendingPathComponent("slow.jpg")
            let writer = try Self.slowWriter(try Self.picture(4), to: slowTarget, pause: 6, scratch: work)
            try await ServeProcess.eventually("the other three processed") {
                // A superset: on a loaded machine the slow file may be done too before a look sees the three.
                try await StoreView.processed(store).isSuperset(of: [
                    "copied.jpg", "renamed.jpg", "2024/trip/day1/deep.jpg",
                ])
            }
            let stillThere = FileManager.default.fileExists(atPath: slowTarget.path)
            let journaled = try await StoreView.events(store).contains { $0.sourceName == "slow.jpg" }
            if writer.isRunning {
                // Both looks happened while the writer still had the file open.
                #expect(stillThere, "taken while its writer had it open")
                #expect(!journaled, "journaled while its writer had it open")
            }
            await writer.exited()
            try await ServeProcess.eventually("slow file processed") {
                try await StoreView.processed(store).contains("slow.jpg")
            }

            let events = try await StoreView.events(store)
            #expect(events.count == 8, "one thumbnail and one metadata invocation per file")
            #expect(
                events.allSatisfy { $0.state == "succeeded" && $0.attempt == 1 && $0.eventName == "ObjectCreated:Put" })
            #expect(Set(events.map(\.eventID)).count == 4)
            #expect(StoreView.files(store, "uploads").isEmpty)
            #expect(StoreView.files(store, "originals").count == 4)
            for size in ["128", "256", "1024"] { #expect(StoreView.files(store, "thumbnails/\(size)").count == 4) }
            #expect(try await StoreView.metadataRows(store) == 4)

            // Graceful shutdown: SIGTERM, exit 0; the log says when the grace began, before "stopped" (until
            // session 33 "stopped" at the end was the only line).
            serve.signal(SIGTERM)
            #expect(await serve.waitForExit() == 0)
            let log = serve.log
            let stopping = try #require(log.range(of: "stopping: finishing the work in flight"), "\(log)")
            let stopped = try #require(log.range(of: "stopped", range: stopping.upperBound..<log.endIndex))
            #expect(stopping.upperBound <= stopped.lowerBound)
            #expect(log.contains("shutdown_grace_s="))
            await serve.stop()
        }

        @Test func aCorruptDropIsRefusedOnceAsBatchRefusesItWhileOthersAreServed() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-serve")
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            let serve = try await ServeProcess(store: store)
            let uploads = store.appendingPathComponent("uploads")
            let poisonBytes = try Self.picture(10).prefix(600)
            try poisonBytes.write(to: uploads.appendingPathComponent("poison.jpg"))
            try Data("just text".utf8).write(to: uploads.appendingPathComponent("notes.txt"))
            try Self.picture(11).write(to: uploads.appendingPathComponent("fine.jpg"))

            try await ServeProcess.eventually("poison refused, fine processed") {
                let events = try await StoreView.events(store)
                let processed = try await StoreView.processed(store)
                return events.contains {
                    $0.sourceName == "poison.jpg" && $0.function == "thumbnail" && $0.state == "dead"
                }
                    && processed.contains("fine.jpg")
                    && events.contains { $0.sourceName == "poison.jpg" && $0.eventName == "ObjectRemoved:Delete" }
                    && events.filter { $0.sourceName == "poison.jpg" }.allSatisfy {
                        $0.state != "queued" && $0.state != "running"
                    }
            }
            let poison = try #require(
                try await StoreView.events(store, state: "dead").first { $0.function == "thumbnail" })
            #expect(poison.attempt == 1, "a picture that cannot be decoded fails the same way every time: no retry")
            #expect(poison.error?.contains("truncated") == true)
            // Refused as batch and the HTTP API refuse it: its bytes in failed/ with the reason, nothing in the store.
            let kept = try Data(contentsOf: store.appendingPathComponent("failed/poison.jpg"))
            #expect(kept == poisonBytes)
            let letter = store.appendingPathComponent("failed/poison.jpg.error.json")
            let record = try JSONSerialization.jsonObject(with: Data(contentsOf: letter)) as? [String: Any]
            #expect(record?["stage"] as? String == "thumbnail")
            #expect((record?["error"] as? String)?.contains("truncated") == true)
            let poisonHash = Array(poisonBytes).withUnsafeBytes { ContentHash(of: $0) }
            #expect(!ServeProcess.files(store, "originals").contains { $0.contains(poisonHash.hex) })
            #expect(!ServeProcess.files(store, "thumbnails").contains { $0.contains(poisonHash.hex) })
            let rows = try await PicpipeProcess.run(["query", "--store", store.path, "--json"]).stdout
            #expect(!rows.contains(poisonHash.hex))
            // Not an image at all: never an event, straight to failed/ with its reason.
            #expect(FileManager.default.fileExists(atPath: store.appendingPathComponent("failed/notes.txt").path))
            #expect(
                FileManager.default.fileExists(atPath: store.appendingPathComponent("failed/notes.txt.error.json").path)
            )

            // Still serving after the poison.
            try Self.picture(12).write(to: uploads.appendingPathComponent("after.jpg"))
            try await ServeProcess.eventually("served after the poison") {
                try await StoreView.processed(store).contains("after.jpg")
            }

            let stats = try await PicpipeProcess.run(["stats", "--store", store.path, "--json"])
            let functions = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [[String: Any]]
            let thumbnail = functions?.first { $0["function"] as? String == "thumbnail" }
            #expect(thumbnail?["dead_lettered"] as? Int == 1)
            #expect(thumbnail?["retries"] as? Int == 0)
            #expect(thumbnail?["errors"] as? Int == 1)
            await serve.stop()
        }

        @Test func droppedWatcherEventsAreRecoveredByARescan() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-serve")
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            // A one-event queue: a burst overflows it, as inotify's own queue overflows, and only rescans recover.
            let serve = try await ServeProcess(store: store, environment: ["PICPIPE_WATCHER_MAX_QUEUED_EVENTS": "1"])
            let uploads = store.appendingPathComponent("uploads")
            // More files than the ingest lanes hold (up to 4 lanes of 4) plus the queue of one.
            let names = (0..<50).map { "burst-\($0).jpg" }
            // Every file is written first and then all are renamed in one tight loop: renames take microseconds and
            // an ingest milliseconds, so the queue overflows (written and renamed in turn, a fast machine kept up).
            for (n, name) in names.enumerated() {
                try Self.picture(100 + n).write(to: work.appendingPathComponent(name))
            }
            for name in names {
                #expect(rename(work.appendingPathComponent(name).path, uploads.appendingPathComponent(name).path) == 0)
            }
            try await ServeProcess.eventually("every burst file processed") {
                try await StoreView.processed(store) == Set(names)
            }
            #expect(try await StoreView.events(store).count == 2 * names.count)
            #expect(StoreView.files(store, "uploads").isEmpty)
            #expect(serve.log.contains("rescan"))
            await serve.stop()
        }

        @Test func aDeadWritersTemporaryFileIsSweptOnceServeListensAndALiveOnesIsKept() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-serve")
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            let folder = store.appendingPathComponent("thumbnails/256/ab")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let host = TemporaryOwner.current.host
            // A pid beyond pid_max: its writer is dead. This test process: alive.
            let dead = folder.appendingPathComponent(".picpipe-tmp-\(host)-99999999-\(UUID().uuidString)")
            let live = folder.appendingPathComponent(".picpipe-tmp-\(TemporaryOwner.current.tag)-\(UUID().uuidString)")
            // An upload ingested, renamed aside for its removal, and not yet removed when its process died.
            let uploads = store.appendingPathComponent("uploads/trip")
            try FileManager.default.createDirectory(at: uploads, withIntermediateDirectories: true)
            let ingested = uploads.appendingPathComponent(".picpipe-tmp-ingested-\(host)-99999999-\(UUID().uuidString)")
            for file in [dead, live, ingested] { try Data([1, 2, 3]).write(to: file) }
            let serve = try await ServeProcess(store: store)
            try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
            try await ServeProcess.eventually("the dead writers' files swept") {
                !FileManager.default.fileExists(atPath: dead.path)
                    && !FileManager.default.fileExists(atPath: ingested.path)
            }
            #expect(FileManager.default.fileExists(atPath: live.path))
            await serve.stop()
        }

        /// `watcher.enabled: false`: the start line and `/metrics` name the roles the process runs, without the
        /// watcher, and the log says once that uploads/ is not watched (until session 34 both said
        /// `watcher,worker,api`, and nothing told why dropped files stayed in uploads/).
        @Test func aServeWithoutTheWatcherSaysSoAndLeavesItOutOfItsRoles() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-serve")
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            let serve = try await ServeProcess(store: store, environment: ["PICPIPE_WATCHER_ENABLED": "false"])
            try await ServeProcess.eventually("http listening") { serve.log.contains("http listening") }
            let lines = serve.log.split(separator: "\n")
            let start = try #require(lines.first { $0.contains("serving") })
            #expect(start.contains("roles=worker,api"), "\(start)")
            #expect(start.contains("workers=thumbnail,metadata,fetch "), "\(start)")
            let notices = lines.filter { $0.contains("uploads/ is not watched by this process") }
            #expect(notices.count == 1, "\(serve.log)")
            #expect(notices.first?.contains(store.appendingPathComponent("uploads").path) == true)
            let port = try #require(ServeHTTPTests.port(in: serve.log))
            let metrics = try await HTTPCall.send("GET", "http://127.0.0.1:\(port)/metrics").text
            #expect(metrics.contains("picpipe_process_roles{roles=\"worker,api\"} 1"), "\(metrics)")
            #expect(!metrics.contains("roles=\"watcher"))
            serve.signal(SIGTERM)
            #expect(await serve.waitForExit() == 0)
            await serve.stop()
            // With the watcher (the default) the start line names it and nothing is said about uploads/.
            let watching = try await ServeProcess(store: store)
            try await ServeProcess.eventually("http listening") { watching.log.contains("http listening") }
            #expect(watching.log.contains("roles=watcher,worker,api"))
            #expect(!watching.log.contains("is not watched"))
            await watching.stop()
        }

        @Test func oneServePerStore() async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-serve")
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            let serve = try await ServeProcess(store: store)
            let second = try await PicpipeProcess.run(["serve", "--store", store.path], timeout: 60)
            #expect(second.status == 1)
            #expect(second.stderr.contains("another serve"))
            serve.signal(SIGINT)
            #expect(await serve.waitForExit() == 0)
            await serve.stop()
        }
    }
}
