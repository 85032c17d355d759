// What `picpipe batch` takes as input: symbolic links (followed, loops ended), named pipes (named, never read),
// nothing found (a warning), and duplicate content (counted the same way in every run).
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct BatchInputTests {
        @Test func followsSymbolicLinksToFoldersAndFilesAndEndsLoops() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let real = work.appendingPathComponent("real")
            let other = work.appendingPathComponent("other")
            try FileManager.default.createDirectory(at: real, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 1).write(to: real.appendingPathComponent("a.jpg"))
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 2).write(to: other.appendingPathComponent("b.jpg"))
            let fm = FileManager.default
            // A link to a file, a link to a folder, a loop back to the top and a broken link, inside the folder.
            try fm.createSymbolicLink(
                at: real.appendingPathComponent("b-link.jpg"), withDestinationURL: other.appendingPathComponent("b.jpg")
            )
            try fm.createSymbolicLink(at: real.appendingPathComponent("other-link"), withDestinationURL: other)
            try fm.createSymbolicLink(at: real.appendingPathComponent("loop"), withDestinationURL: real)
            try fm.createSymbolicLink(
                at: real.appendingPathComponent("gone.jpg"), withDestinationURL: work.appendingPathComponent("gone.jpg")
            )
            // The input itself is a link to the folder.
            let linked = work.appendingPathComponent("linked")
            try fm.createSymbolicLink(at: linked, withDestinationURL: real)

            let store = work.appendingPathComponent("store")
            let run = try await PicpipeProcess.run([
                "batch", linked.path, "--store", store.path, "--json", "-q", "-j", "1",
            ])
            #expect(run.status == 0, "\(run.stderr)")
            let summary = try JSONDecoder().decode(BatchCommandTests.Summary.self, from: Data(run.stdout.utf8))
            // a.jpg, and b-link.jpg and other-link/b.jpg, which are one file (the same device and inode): taken once
            // (until session 29 twice, the second counted skipped).
            #expect(summary.total == 2)
            #expect(summary.ok == 2)
            #expect(summary.skipped == 0)
            #expect(PicpipeProcess.files(under: store).filter { $0.hasPrefix("originals/") }.count == 2)
            #expect(run.stderr.contains("gone.jpg"))  // the broken link is named, not skipped silently
        }

        /// A named pipe under a folder is passed over with its kind; one named on the command line fails with it, at
        /// once: it is never opened for a read that would wait for a writer.
        @Test func aNamedPipeIsNamedNeverRead() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let inputs = try BatchCommandTests.folderWithOnePicture(in: work)
            let pipe = inputs.appendingPathComponent("pipe.jpg").path
            try #require(mkfifo(pipe, 0o644) == 0)
            let store = work.appendingPathComponent("store")
            let folderRun = try await PicpipeProcess.run(
                ["batch", inputs.path, "--store", store.path, "--json", "-q"], timeout: 60)
            #expect(folderRun.status == 0, "\(folderRun.stderr)")
            let summary = try JSONDecoder().decode(BatchCommandTests.Summary.self, from: Data(folderRun.stdout.utf8))
            #expect(summary.total == 1 && summary.ok == 1)
            #expect(folderRun.stderr.contains("passed over \(pipe): a named pipe (FIFO), not a regular file"))

            let namedRun = try await PicpipeProcess.run(
                ["batch", pipe, "--store", store.path, "--json", "-q"], timeout: 60)
            #expect(namedRun.status != 0)
            let named = try JSONDecoder().decode(BatchCommandTests.Summary.self, from: Data(namedRun.stdout.utf8))
            #expect(named.failed == 1)
            #expect(named.failures.first?.error == "a named pipe (FIFO), not a regular file; only files are read")
        }

        /// A store inside the folder a batch reads (`picpipe batch ~/Pictures --store ~/Pictures/store`) is not read
        /// back: before, the second run took the first run's thumbnails as new originals (and each run more), and
        /// a store folder named on the command line was taken whole. Now it is passed over with why, by any path.
        @Test func theStoreTheBatchWritesToIsNeverItsInput() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let pictures = try Self.twoPictures(in: work)
            let store = pictures.appendingPathComponent("store")
            try FileManager.default.createSymbolicLink(
                at: pictures.appendingPathComponent("shortcut"), withDestinationURL: store)
            let originals = { PicpipeProcess.files(under: store).filter { $0.hasPrefix("originals/") }.count }
            for run in 1...2 {
                let batch = try await PicpipeProcess.run([
                    "batch", pictures.path, "--store", store.path, "--json", "-q",
                ])
                #expect(batch.status == 0, "\(batch.stderr)")
                let summary = try JSONDecoder().decode(BatchCommandTests.Summary.self, from: Data(batch.stdout.utf8))
                #expect(summary.total == 2, "run \(run): \(batch.stdout)")
                #expect(originals() == 2)
                if run == 2 {
                    for entry in ["store", "shortcut"] {
                        #expect(
                            batch.stderr.contains(
                                "passed over \(pictures.path)/\(entry): in the store this batch writes to"),
                            "\(batch.stderr)")
                    }
                }
            }
            let thumbnails = store.appendingPathComponent("thumbnails").path
            let named = try await PicpipeProcess.run(["batch", thumbnails, "--store", store.path, "--json", "-q"])
            #expect(named.stderr.contains("passed over \(thumbnails): in the store this batch writes to"))
            #expect(originals() == 2)
        }

        /// A `pictures` folder in `work` holding two JPEGs, 1.jpg and 2.jpg.
        static func twoPictures(in work: URL) throws -> URL {
            let pictures = work.appendingPathComponent("pictures")
            try FileManager.default.createDirectory(at: pictures, withIntermediateDirectories: true)
            for seed in 1...2 {
                try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: seed)
                    .write(to: pictures.appendingPathComponent("\(seed).jpg"))
            }
            return pictures
        }

        /// A link in an input folder to a folder or file inside the store (the thumbnails, to browse them from the
        /// photo folder; one shard of originals; one original) is the store too: until session 31 only a link to the
        /// store's root was passed over, and `ln -s ../store/thumbnails in/thumbs` took the thumbnails as new
        /// originals, thumbnails of thumbnails at every run after.
        @Test func aLinkToAFolderOrFileInsideTheStoreIsNeverAnInput() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let pictures = try Self.twoPictures(in: work)
            let store = work.appendingPathComponent("store")
            let arguments = ["batch", pictures.path, "--store", store.path, "--json", "-q", "--sizes", "64"]
            let first = try await PicpipeProcess.run(arguments)
            #expect(first.status == 0, "\(first.stderr)")
            let originals = { PicpipeProcess.files(under: store).filter { $0.hasPrefix("originals/") } }
            let stored = originals()
            try #require(stored.count == 2)
            let shard = String(stored[0].split(separator: "/")[1])
            // Relative links, as `ln -s ../store/thumbnails` makes them; the real store path is where they lead.
            for (name, target) in [
                ("thumbs", "../store/thumbnails"), ("shard", "../store/originals/\(shard)"),
                ("first.jpg", "../store/\(stored[1])"),
            ] {
                try FileManager.default.createSymbolicLink(
                    atPath: pictures.appendingPathComponent(name).path, withDestinationPath: target)
            }
            let resolved = try #require(realpath(store.path, nil))
            defer { free(resolved) }
            let realStore = String(cString: resolved)
            for run in 1...2 {
                let batch = try await PicpipeProcess.run(arguments)
                #expect(batch.status == 0, "\(batch.stderr)")
                let summary = try JSONDecoder().decode(BatchCommandTests.Summary.self, from: Data(batch.stdout.utf8))
                #expect(summary.total == 2, "run \(run): \(batch.stdout)")
                #expect(summary.ok == 0 && summary.skipped == 2, "run \(run): \(batch.stdout)")
                #expect(originals() == stored, "run \(run)")
                for (entry, real) in [
                    ("thumbs", "thumbnails"), ("shard", "originals/\(shard)"), ("first.jpg", stored[1]),
                ] {
                    #expect(
                        batch.stderr.contains(
                            "passed over \(pictures.path)/\(entry): in the store this batch writes to (\(realStore); "
                                + "it is \(realStore)/\(real))"),
                        "\(batch.stderr)")
                }
            }
        }

        /// A folder the batch may not read (not listed: mode 700 of another user; listed but not entered: 744) is a
        /// failure, named in the summary with why, exit 1, as an unreadable file is; a picture behind it, named on
        /// the command line, is "permission denied". Until session 31 such a folder was passed over with exit 0 and
        /// "0 failed", and the picture was "no such file or folder" (exit 2). As `nobody`, which needs root.
        @Test func aFolderTheBatchMayNotReadIsAFailure() async throws {
            guard getuid() == 0 else {
                print("skipped: running batch as another user needs root (CI runs as root)")
                return
            }
            let nobody: UInt32 = 65534
            let user = String(cString: try #require(getpwuid(nobody)).pointee.pw_name)
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            try #require(chown(work.path, nobody, nobody) == 0)
            let inputs = try BatchCommandTests.folderWithOnePicture(in: work)
            for (folder, mode) in [("locked", 0o700), ("listed", 0o744)] {
                let path = inputs.appendingPathComponent(folder)
                try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true)
                try BatchCommandTests.picture(.jpeg, seed: 9).write(to: path.appendingPathComponent("b.jpg"))
                try #require(chmod(path.path, mode_t(mode)) == 0)
            }
            let store = work.appendingPathComponent("store").path
            func batch(_ input: String) async throws -> (PicpipeProcess.Output, BatchCommandTests.Summary?) {
                var environment = ProcessInfo.processInfo.environment
                environment.removeValue(forKey: "PICPIPE_STORE")
                environment.removeValue(forKey: "PICPIPE_CONFIG")
                let run = try await PicpipeProcess.run(
                    executable: URL(fileURLWithPath: "/usr/bin/setpriv"),
                    [
                        "--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups", PicpipeProcess.binary.path,
                        "batch", input, "--store", store, "--json", "-q",
                    ], environment: environment)
                return (run, try? JSONDecoder().decode(BatchCommandTests.Summary.self, from: Data(run.stdout.utf8)))
            }
            let folderReason =
                "cannot read the folder: permission denied; picpipe runs as \(user), who may not read or enter it: "
                + "the pictures in it are not taken; make it readable (chmod a+rx) or run picpipe as its owner"
            let (whole, summary) = try await batch(inputs.path)
            #expect(whole.status == 1, "\(whole.stderr)")
            #expect(summary?.ok == 1 && summary?.failed == 2 && summary?.total == 3, "\(whole.stdout)")
            let folders = ["listed", "locked"].map { inputs.appendingPathComponent($0).path }
            #expect(summary?.failures.map(\.file) == folders)
            #expect(summary?.failures.allSatisfy { $0.error == folderReason } == true, "\(whole.stdout)")
            #expect(whole.stderr.contains("picpipe: failed: \(inputs.path)/locked: \(folderReason)"), "\(whole.stderr)")

            let (named, namedSummary) = try await batch(inputs.appendingPathComponent("locked/b.jpg").path)
            #expect(named.status == 1, "\(named.stderr)")
            #expect(!named.stderr.contains("no such file"), "\(named.stderr)")
            #expect(
                namedSummary?.failures.first?.error
                    == "permission denied: picpipe runs as \(user), who may not enter a folder on its path; make the "
                    + "folders readable (chmod a+rx) or run picpipe as their owner", "\(named.stdout)")
        }

        @Test func findingNothingIsAWarning() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let empty = work.appendingPathComponent("empty")
            try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
            try Data("notes".utf8).write(to: empty.appendingPathComponent("notes.txt"))
            let run = try await PicpipeProcess.run([
                "batch", empty.path, "--store", work.appendingPathComponent("store").path,
            ])
            #expect(run.status == 0)
            #expect(run.stderr.contains("no image file found"))
            #expect(run.stderr.contains(empty.path))
        }

        @Test func duplicatesCountTheSameInEveryRun() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let inputs = work.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            // Eight files, three contents: 4 copies of one, 3 of another, and a corrupt one twice.
            let one = try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 1)
            let two = try PicpipeCLI.BatchCommandTests.picture(.png, seed: 2)
            let broken = try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 3).prefix(600)
            for index in 0..<4 { try one.write(to: inputs.appendingPathComponent("one-\(index).jpg")) }
            for index in 0..<2 { try two.write(to: inputs.appendingPathComponent("two-\(index).png")) }
            for index in 0..<2 { try broken.write(to: inputs.appendingPathComponent("broken-\(index).jpg")) }
            // -j 1 too: a copy waits for the first copy's outcome without holding the one lane the first needs.
            for attempt in 0..<4 {
                let store = work.appendingPathComponent("store-\(attempt)")
                let run = try await PicpipeProcess.run([
                    "batch", inputs.path, "--store", store.path, "--json", "-q", "-j", attempt == 0 ? "1" : "2",
                ])
                let summary = try JSONDecoder().decode(BatchCommandTests.Summary.self, from: Data(run.stdout.utf8))
                #expect(summary.ok == 2, "run \(attempt)")
                #expect(summary.skipped == 4, "run \(attempt)")
                #expect(summary.failed == 2, "run \(attempt)")
                #expect(Set(summary.failures.map(\.error)).count == 1)  // both copies fail for the same reason
                #expect(PicpipeProcess.files(under: store).filter { $0.hasPrefix("originals/") }.count == 2)
            }
        }
    }
}
