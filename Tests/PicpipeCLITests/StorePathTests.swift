// Where the store is: reading commands refuse a store that does not exist, writing commands create only its last
// level, and every failure is one line naming the path and the cause (never a Foundation error dump).
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct StorePathTests {
        @Test(arguments: [
            ["query"], ["events"], ["stats"], ["replay", "--failed"],
            ["invoke", "thumbnail", "--key", "originals/ab/x.jpg"],
        ])
        func readingCommandsRefuseAMissingStore(_ command: [String]) async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let typo = work.appendingPathComponent("pcistore")
            let run = try await PicpipeProcess.run(command + ["--store", typo.path])
            #expect(run.status == 2, "\(run.stderr)")
            #expect(run.stderr.contains(typo.path))
            #expect(run.stderr.contains("no store"))
            #expect(run.stdout.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: typo.path))  // nothing created
        }

        @Test func batchChecksItsInputsBeforeCreatingTheStore() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            let missing = work.appendingPathComponent("nonexistent").path
            let run = try await PicpipeProcess.run(["batch", missing, "--store", store.path])
            #expect(run.status == 2)
            #expect(run.stderr.contains(missing))
            #expect(!FileManager.default.fileExists(atPath: store.path))
        }

        @Test func writingCommandsCreateOnlyTheLastLevel() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let inputs = work.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 1).write(to: inputs.appendingPathComponent("a.jpg"))

            let deep = work.appendingPathComponent("typo/deeper/store")
            let refused = try await PicpipeProcess.run(["batch", inputs.path, "--store", deep.path, "-q"])
            #expect(refused.status == 2)
            #expect(refused.stderr.contains(deep.path))
            #expect(refused.stderr.contains("does not exist"))
            #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("typo").path))

            let store = work.appendingPathComponent("store")
            let created = try await PicpipeProcess.run(["batch", inputs.path, "--store", store.path, "-q"])
            #expect(created.status == 0, "\(created.stderr)")
            #expect(PicpipeProcess.files(under: store).contains { $0.hasPrefix("originals/") })
        }

        @Test func storeFolderProblemsAreOneLineWithPathAndCause() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let inputs = work.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 1).write(to: inputs.appendingPathComponent("a.jpg"))

            // A store path that cannot be made (the kernel's /proc refuses new folders).
            let proc = try await PicpipeProcess.run(["batch", inputs.path, "--store", "/proc/picpipe-store", "-q"])
            #expect(proc.status != 0)
            #expect(proc.stderr.contains("/proc/picpipe-store"))
            #expect(proc.stderr.contains("No such file or directory"))
            #expect(!proc.stderr.contains("NSCocoaErrorDomain"))
            #expect(proc.stderr.split(separator: "\n").count == 1, "\(proc.stderr)")

            // A store path that is a file.
            let file = work.appendingPathComponent("a-file")
            try Data("x".utf8).write(to: file)
            for command in [["batch", inputs.path, "-q"], ["query"], ["events"]] {
                let run = try await PicpipeProcess.run(command + ["--store", file.path])
                #expect(run.status == 2, "\(command): \(run.stderr)")
                #expect(run.stderr.contains(file.path))
                #expect(run.stderr.contains("not a folder"))
                #expect(!run.stderr.contains("NSCocoaErrorDomain"))
            }
        }

        @Test func thumbnailOutputFolderProblemIsOneLine() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let input = work.appendingPathComponent("a.jpg")
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 1).write(to: input)
            // The output's folder must exist (since session 27; it was made before): a usage error, one line.
            let run = try await PicpipeProcess.run(["thumbnail", input.path, "-o", "/proc/x/o.jpg"])
            #expect(run.status == 2)
            #expect(run.stderr.contains("the folder /proc/x does not exist"))
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
            // A folder that exists but takes no file: one line naming the output, not its temporary file.
            let proc = try await PicpipeProcess.run(["thumbnail", input.path, "-o", "/proc/o.jpg"])
            #expect(proc.status == 1)
            #expect(proc.stderr.contains("/proc/o.jpg") && !proc.stderr.contains(".picpipe-tmp-"), "\(proc.stderr)")
            #expect(!proc.stderr.contains("NSCocoaErrorDomain"))
            #expect(proc.stderr.split(separator: "\n").count == 1, "\(proc.stderr)")
        }

        /// A store on a read-only mount (a bind mount remounted read-only; needs root, else the test returns).
        @Test func aReadOnlyStoreIsOneLineNamingThePath() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let source = work.appendingPathComponent("source")
            let input = work.appendingPathComponent("a.jpg")
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 1).write(to: input)
            let filled = try await PicpipeProcess.run(["batch", input.path, "--store", source.path, "-q"])
            try #require(filled.status == 0, "\(filled.stderr)")
            let store = work.appendingPathComponent("readonly")
            try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
            guard
                Self.shell("mount --bind '\(source.path)' '\(store.path)' && mount -o remount,bind,ro '\(store.path)'")
            else { return }
            defer { _ = Self.shell("umount '\(store.path)'") }

            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 2).write(to: input)
            let batch = try await PicpipeProcess.run(["batch", input.path, "--store", store.path, "-q"])
            #expect(batch.status == 1)
            #expect(batch.stderr.contains("\(store.path) is not writable: Read-only file system"), "\(batch.stderr)")
            #expect(batch.stderr.split(separator: "\n").count == 1, "\(batch.stderr)")
            for command in [["query"], ["events"], ["stats"]] {
                let run = try await PicpipeProcess.run(command + ["--store", store.path])
                #expect(run.status == 1, "\(command)")
                #expect(run.stderr.contains(store.appendingPathComponent("db").path), "\(command): \(run.stderr)")
                #expect(run.stderr.contains("not writable"), "\(command): \(run.stderr)")
            }
        }

        /// Runs a shell command; whether it succeeded.
        static func shell(_ command: String) -> Bool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", command + " 2>/dev/null"]
            guard (try? process.run()) != nil else { return false }
            process.waitUntilExit()
            return process.terminationStatus == 0
        }
    }
}
