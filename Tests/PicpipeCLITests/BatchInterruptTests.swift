// Ctrl-C (or SIGTERM) during `picpipe batch`: the partial summary, "interrupted", exit 130 (143), nothing partial in
// the store, and a second run that finishes the rest.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct BatchInterruptTests {
        /// SIGTERM as Ctrl-C (until session 29 it ended the batch at once: exit 143 from the signal, no summary, and
        /// pictures with their original but not all their thumbnails until the next run).
        @Test(arguments: [SIGINT, SIGTERM])
        func interruptPrintsThePartialSummaryAndTheNextRunResumes(signal: Int32) async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let inputs = work.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            let count = 120
            for seed in 0..<count {
                try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: seed, width: 640, height: 480)
                    .write(to: inputs.appendingPathComponent(String(format: "p%03d.jpg", seed)))
            }
            let store = work.appendingPathComponent("store")

            let (process, out, err) = try PicpipeProcess.launch(
                ["batch", inputs.path, "--store", store.path, "-j", "1", "--json", "-q"], outputIn: work)
            // Interrupt once the first pictures are in: the batch is under way.
            try await ServeProcess.eventually("first originals") {
                ServeProcess.files(store, "originals").count >= 2 || !process.isRunning
            }
            kill(process.processIdentifier, signal)
            await process.exited()
            let stdout = String(decoding: try Data(contentsOf: out), as: UTF8.self)
            let stderr = String(decoding: try Data(contentsOf: err), as: UTF8.self)
            try #require(process.terminationReason == .exit, "killed by the signal instead of stopping: \(stderr)")
            #expect(process.terminationStatus == 128 + signal)
            #expect(stderr.contains("interrupted"))
            #expect(stderr.contains("run the same command again"))
            let summary = try JSONDecoder().decode(BatchCommandTests.Summary.self, from: Data(stdout.utf8))
            #expect(summary.total == count)
            #expect(summary.ok + summary.skipped + summary.failed < count)
            #expect(summary.failed == 0)
            #expect(!PicpipeProcess.files(under: store).contains { $0.contains(".picpipe-tmp-") })
            // Every original in the store has all its thumbnails: nothing half-done.
            let originals = ServeProcess.files(store, "originals").count
            for size in ["128", "256", "1024"] {
                #expect(ServeProcess.files(store, "thumbnails/\(size)").count == originals)
            }

            let again = try await PicpipeProcess.run(["batch", inputs.path, "--store", store.path, "--json", "-q"])
            #expect(again.status == 0, "\(again.stderr)")
            let rest = try JSONDecoder().decode(BatchCommandTests.Summary.self, from: Data(again.stdout.utf8))
            #expect(rest.ok == count - originals)
            #expect(rest.skipped == originals)
        }
        /// A second Ctrl-C exits at once, but first removes the originals the files in flight stored and did not
        /// finish (with what their functions made so far), as a failed file's are, and says so. Until session 34 it
        /// exited 130 without a word and left originals without thumbnails or metadata rows, which a later serve
        /// never completed.
        @Test func aSecondInterruptLeavesNoUnfinishedPicture() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let inputs = work.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            // Pictures big enough that several are in flight, their originals stored, when the signals come.
            let count = 16
            for seed in 0..<count {
                try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: seed, width: 2400, height: 1800)
                    .write(to: inputs.appendingPathComponent(String(format: "p%03d.jpg", seed)))
            }
            let store = work.appendingPathComponent("store")
            let (process, _, err) = try PicpipeProcess.launch(
                ["batch", inputs.path, "--store", store.path, "-j", "2", "-q"], outputIn: work)
            try await ServeProcess.eventually("first originals") {
                !ServeProcess.files(store, "originals").isEmpty || !process.isRunning
            }
            kill(process.processIdentifier, SIGINT)
            // The second only once the first is taken: two pending SIGINTs are one.
            try await Self.interruptTaken(process)
            kill(process.processIdentifier, SIGINT)
            await process.exited()
            let stderr = String(decoding: try Data(contentsOf: err), as: UTF8.self)
            try #require(process.terminationReason == .exit, "killed by the signal: \(stderr)")
            #expect(process.terminationStatus == 130, "\(stderr)")

            // Every original left has its three thumbnails and its metadata row; nothing is left of the others.
            let hashes = Set(ServeProcess.files(store, "originals").map { Self.hash(of: $0) })
            for size in ["128", "256", "1024"] {
                #expect(Set(ServeProcess.files(store, "thumbnails/\(size)").map { Self.hash(of: $0) }) == hashes)
            }
            let query = try await PicpipeProcess.run(["query", "--store", store.path, "--json", "--limit", "100"])
            let rows = query.stdout.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["sha256"] as? String
            }
            #expect(Set(rows) == hashes && rows.count == hashes.count, "\(query.stdout)")
            #expect(!PicpipeProcess.files(under: store).contains { $0.contains(".picpipe-tmp-") })

            let lines = stderr.split(separator: "\n")
            let line = lines.first { $0.hasPrefix("picpipe: interrupted at once after ") }
            #expect(line != nil, "\(stderr)")
            if let line {
                let counts = #/after (\d+) of 16 files; (\d+) unfinished pictures? removed/#
                let said = try #require(line.firstMatch(of: counts), "\(line)")
                #expect(Int(said.1)! < count)
                #expect(line.hasSuffix("; run the same command again to resume (what is done is skipped)"), "\(line)")
            }

            let again = try await PicpipeProcess.run(["batch", inputs.path, "--store", store.path, "--json", "-q"])
            #expect(again.status == 0, "\(again.stderr)")
            let rest = try JSONDecoder().decode(BatchCommandTests.Summary.self, from: Data(again.stdout.utf8))
            #expect(rest.ok == count - hashes.count && rest.skipped == hashes.count)
        }

        /// The content hash a store file's name starts with (`ab/<sha256>.jpg`, `ab/<sha256>-inside-….jpg`).
        static func hash(of path: String) -> String {
            String((path.split(separator: "/").last ?? "").prefix(64))
        }

        /// Waits until `process` has taken the SIGINT sent to it (none pending any more).
        static func interruptTaken(_ process: Process) async throws {
            let status = "/proc/\(process.processIdentifier)/status"
            try await ServeProcess.eventually("the interrupt taken") {
                guard let text = try? String(contentsOfFile: status, encoding: .utf8) else { return true }
                return !text.split(separator: "\n").contains { line in
                    guard line.hasPrefix("SigPnd:") || line.hasPrefix("ShdPnd:"),
                        let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16)
                    else { return false }
                    return mask & (1 << (UInt64(SIGINT) - 1)) != 0
                }
            }
        }

        /// A Ctrl-C before batch has read its configuration, walked its inputs or made its store stops it too (until
        /// session 27 the handler came after all that, and one that came early was lost or killed the process).
        /// The configuration is a named pipe: batch waits on it, with its handler installed, until the test writes.
        @Test func anInterruptBeforeTheInputsAreWalkedStopsTheBatch() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let input = work.appendingPathComponent("a.jpg")
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 5).write(to: input)
            let config = work.appendingPathComponent("config.yaml")
            #expect(mkfifo(config.path, 0o600) == 0)
            let store = work.appendingPathComponent("store")
            let (process, _, err) = try PicpipeProcess.launch(
                ["batch", input.path, "--store", store.path, "--config", config.path, "-q"], outputIn: work)
            // The pipe opens for writing once batch has opened it for reading: it is waiting for its configuration.
            var writer: Int32 = -1
            try await ServeProcess.eventually("batch reads its configuration") {
                writer = open(config.path, O_WRONLY | O_NONBLOCK)
                return writer >= 0 || !process.isRunning
            }
            try #require(writer >= 0)
            kill(process.processIdentifier, SIGINT)
            // The configuration only once the signal is taken (no longer pending): a thread of a busy machine may
            // take it late, and the test is about a signal that comes first.
            let status = "/proc/\(process.processIdentifier)/status"
            try await ServeProcess.eventually("the interrupt taken") {
                guard let text = try? String(contentsOfFile: status, encoding: .utf8) else { return true }
                return !text.split(separator: "\n").contains { line in
                    guard line.hasPrefix("SigPnd:") || line.hasPrefix("ShdPnd:"),
                        let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16)
                    else { return false }
                    return mask & (1 << (UInt64(SIGINT) - 1)) != 0
                }
            }
            signal(SIGPIPE, SIG_IGN)  // a batch the signal killed has no reader left: EPIPE, not the test's end
            _ = write(writer, "\n", 1)
            close(writer)
            await process.exited()
            let stderr = String(decoding: try Data(contentsOf: err), as: UTF8.self)
            try #require(process.terminationReason == .exit, "killed by the signal instead of stopping: \(stderr)")
            #expect(process.terminationStatus == 130, "\(stderr)")
            #expect(stderr.contains("interrupted before any file was processed"), "\(stderr)")
            #expect(!FileManager.default.fileExists(atPath: store.path), "\(stderr)")
        }
    }
}
