// `picpipe thumbnails --missing | --prune`: a size added to the configuration is made for every stored picture, once;
// the files of sizes and recipes no longer configured are removed, and nothing else.
import Foundation
import PostgresBackend
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct ThumbnailsCommandTests {
        /// `thumbnails --json`'s summary.
        struct Report: Decodable {
            var dryRun: Bool
            var interrupted: Bool
            var missing: Missing?
            var pruned: Pruned?
            var wouldMake: Int?

            struct Missing: Decodable {
                var checked: Int
                var complete: Int
                var made: Int
                var thumbnails: Int
                var failed: Int
                var gone: Int
                var notStarted: Int
                var interrupted: Bool
                var failures: [Failure]
                struct Failure: Decodable {
                    var key: String
                    var error: String
                }
            }

            struct Pruned: Decodable {
                var files: Int
                var bytes: Int
                var failed: Int
                var groups: [Group]
                var keptFiles: Int?
                var keptPictures: Int?
                struct Group: Decodable {
                    var size: String
                    var recipe: String
                    var configuredAs: String?
                    var files: Int
                    var bytes: Int
                }
            }
        }

        static func report(_ output: PicpipeProcess.Output) throws -> Report {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(Report.self, from: Data(output.stdout.utf8))
        }

        /// The store's thumbnail files (paths inside `thumbnails/`) whose name ends with `suffix`, under `size`.
        static func thumbnails(_ store: URL, size: String, ending suffix: String = "") -> [String] {
            ServeProcess.files(store, "thumbnails/\(size)").filter { $0.hasSuffix(suffix) }
        }

        /// The backends here: SQLite, and PostgreSQL when its test server is given.
        static var backends: [String] { ScratchDatabase.enabled ? ["sqlite", "postgres"] : ["sqlite"] }

        /// A size added to the configuration: `--missing` makes it for every stored picture through the thumbnail
        /// function, once (a second run makes nothing), names a picture it cannot make (a pixel limit lowered since)
        /// and keeps that picture; `--prune` removes the files of sizes and recipes no longer configured, with their
        /// bytes, and nothing else (the other formats of a configured size, foreign and temporary files stay). Until
        /// session 34 there was no way but a GET or a `replay` per picture, and old sizes stayed for good.
        @Test(arguments: backends)
        func missingMakesWhatPicturesLackOnceAndPruneRemovesOnlyWhatNoRecipeMakes(_ backend: String) async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-thumbnails")
            defer { try? FileManager.default.removeItem(at: work) }
            var database: [String] = []
            var dropDatabase: (@Sendable () -> Void)?
            if backend == "postgres" {
                let (url, drop) = try ScratchDatabase.create()
                database = ["--database", url]
                dropDatabase = drop
            }
            defer { dropDatabase?() }
            let inputs = work.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            for seed in 1...3 {
                try BatchCommandTests.picture(.jpeg, seed: seed, width: 160, height: 120)
                    .write(to: inputs.appendingPathComponent("small\(seed).jpg"))
            }
            try BatchCommandTests.picture(.jpeg, seed: 4, width: 400, height: 300)
                .write(to: inputs.appendingPathComponent("big.jpg"))
            let store = work.appendingPathComponent("store")
            let batch = try await PicpipeProcess.run(
                ["batch", inputs.path, "--store", store.path, "--sizes", "128,256", "-q"] + database)
            try #require(batch.status == 0, "\(batch.stderr)")
            let command = ["thumbnails", "--store", store.path, "--json", "-q"] + database
            func run(_ arguments: [String], _ environment: [String: String]) async throws -> (Int32, Report) {
                let output = try await PicpipeProcess.run(command + arguments, environment: environment)
                return (output.status, try Self.report(output))
            }

            // A size added: made for each of the four, once.
            let added = ["PICPIPE_THUMBNAIL_SIZES": "128,256,512"]
            let (status, first) = try await run(["--missing"], added)
            #expect(status == 0)
            #expect(first.missing?.checked == 4 && first.missing?.made == 4 && first.missing?.thumbnails == 4)
            #expect(first.missing?.complete == 0 && first.missing?.failed == 0)
            #expect(Self.thumbnails(store, size: "512").count == 4)
            let (againStatus, again) = try await run(["--missing"], added)
            #expect(againStatus == 0)
            #expect(again.missing?.complete == 4 && again.missing?.made == 0 && again.missing?.thumbnails == 0)

            // A picture the function refuses now (a pixel limit lowered since) is named, and stays in the store.
            let originals = ServeProcess.files(store, "originals")
            let refusing = ["PICPIPE_THUMBNAIL_SIZES": "128,256,512,300", "PICPIPE_MAX_PIXELS": "20000"]
            let (refusedStatus, refused) = try await run(["--missing"], refusing)
            #expect(refusedStatus == 1)
            #expect(refused.missing?.made == 3 && refused.missing?.failed == 1)
            let failure = try #require(refused.missing?.failures.first)
            #expect(failure.error.contains("over the limit of 20000 pixels"), "\(failure.error)")
            #expect(originals.contains { failure.key == "originals/" + $0 })
            #expect(ServeProcess.files(store, "originals") == originals)
            #expect(ServeProcess.files(store, "failed").isEmpty)

            // Beside the files to go: another format of a configured size (served on request), a file picpipe did
            // not name and a temporary file; they stay.
            let some = try #require(Self.thumbnails(store, size: "256").first)
            let webp = store.appendingPathComponent(
                "thumbnails/256/" + some.replacingOccurrences(of: "-inside-q82-srgb.jpg", with: "-inside-q85-srgb.webp")
            )
            let foreign = store.appendingPathComponent("thumbnails/256/notes.txt")
            let temporary = store.appendingPathComponent("thumbnails/128/.picpipe-tmp-elsewhere-1-x")
            for file in [webp, foreign, temporary] { try Data("x".utf8).write(to: file) }

            // Sizes 128 and 300 taken out: a dry run says what would go and removes nothing.
            let kept = ["PICPIPE_THUMBNAIL_SIZES": "256,512"]
            let goingBytes = ["128", "300"].flatMap { size in
                Self.thumbnails(store, size: size, ending: ".jpg").map { "thumbnails/\(size)/\($0)" }
            }.reduce(0) { total, path in
                total
                    + ((try? FileManager.default.attributesOfItem(atPath: store.appendingPathComponent(path).path))?[
                        .size] as? Int ?? 0)
            }
            let (dryStatus, dry) = try await run(["--prune", "--dry-run"], kept)
            #expect(dryStatus == 0 && dry.dryRun)
            #expect(dry.pruned?.files == 7 && dry.pruned?.bytes == goingBytes)
            #expect(Self.thumbnails(store, size: "128", ending: ".jpg").count == 4)
            let (prunedStatus, pruned) = try await run(["--prune"], kept)
            #expect(prunedStatus == 0)
            #expect(pruned.pruned?.files == 7 && pruned.pruned?.bytes == goingBytes && pruned.pruned?.failed == 0)
            #expect(
                pruned.pruned?.groups.map { "\($0.size) \($0.recipe) \($0.files) \($0.configuredAs ?? "-")" }
                    == ["128 inside-q82-srgb.jpg 4 -", "300 inside-q82-srgb.jpg 3 -"])
            #expect(!FileManager.default.fileExists(atPath: store.appendingPathComponent("thumbnails/300").path))
            #expect(Self.thumbnails(store, size: "128") == [".picpipe-tmp-elsewhere-1-x"])
            #expect(Self.thumbnails(store, size: "256", ending: ".jpg").count == 4)
            #expect(Self.thumbnails(store, size: "512").count == 4)
            for file in [webp, foreign, temporary] { #expect(FileManager.default.fileExists(atPath: file.path)) }

            // The quality changed: the old recipe's files go, the new one's are made, and no other is left.
            let lower = ["PICPIPE_THUMBNAIL_SIZES": "256,512", "PICPIPE_THUMBNAIL_QUALITY": "60"]
            let (changedStatus, changed) = try await run(["--prune", "--missing"], lower)
            #expect(changedStatus == 0)
            #expect(changed.pruned?.files == 8)
            #expect(changed.pruned?.groups.allSatisfy { $0.configuredAs == "inside-q60-srgb.jpg" } == true)
            #expect(changed.missing?.made == 4 && changed.missing?.thumbnails == 8)
            for size in ["256", "512"] {
                #expect(Self.thumbnails(store, size: size, ending: ".jpg").count == 4)
                #expect(Self.thumbnails(store, size: size, ending: "-inside-q60-srgb.jpg").count == 4)
            }
            #expect(FileManager.default.fileExists(atPath: webp.path))

            // The recipe changes again while the pixel limit refuses the big picture: the three others get the new
            // files and lose the old; the big one keeps its old files, all it has (until session 36 --prune removed
            // them before --missing ran, and it was left with no thumbnail at all).
            let big = URL(fileURLWithPath: failure.key).deletingPathExtension().lastPathComponent
            let refusingBig = [
                "PICPIPE_THUMBNAIL_SIZES": "256,512", "PICPIPE_THUMBNAIL_QUALITY": "50", "PICPIPE_MAX_PIXELS": "20000",
            ]
            let (partlyStatus, partly) = try await run(["--prune", "--missing"], refusingBig)
            #expect(partlyStatus == 1)
            #expect(partly.missing?.made == 3 && partly.missing?.failed == 1)
            #expect(partly.pruned?.files == 6 && partly.pruned?.keptFiles == 2 && partly.pruned?.keptPictures == 1)
            for size in ["256", "512"] {
                let files = Self.thumbnails(store, size: size, ending: ".jpg")
                #expect(files.filter { $0.contains(big) }.map { $0.hasSuffix("-inside-q60-srgb.jpg") } == [true])
                #expect(files.filter { !$0.contains(big) && $0.hasSuffix("-inside-q50-srgb.jpg") }.count == 3)
                #expect(files.count == 4, "\(files)")
            }
            // --prune alone keeps them too, and says so.
            let alone = try await PicpipeProcess.run(
                ["thumbnails", "--store", store.path, "--prune"] + database, environment: refusingBig)
            #expect(alone.status == 0)
            #expect(alone.stdout.contains("prune: kept 2 files of 1 pictures that lack a configured thumbnail"))
            #expect(Self.thumbnails(store, size: "256", ending: "-inside-q60-srgb.jpg").count == 1)
        }

        /// Ctrl-C (or SIGTERM) stops starting pictures, lets the running ones finish, prints the partial summary and
        /// exits 130 (143), as `batch` does; nothing half-written is left, and the same command finishes the rest.
        @Test(arguments: [SIGINT, SIGTERM])
        func anInterruptedRunStopsCleanlyAndTheNextOneFinishes(signal: Int32) async throws {
            let work = try PicpipeProcess.temporaryFolder("picpipe-thumbnails")
            defer { try? FileManager.default.removeItem(at: work) }
            let inputs = work.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            let count = 30
            for seed in 0..<count {
                try BatchCommandTests.picture(.jpeg, seed: seed, width: 1024, height: 768)
                    .write(to: inputs.appendingPathComponent(String(format: "p%03d.jpg", seed)))
            }
            let store = work.appendingPathComponent("store")
            let batch = try await PicpipeProcess.run([
                "batch", inputs.path, "--store", store.path, "--sizes", "128", "-q",
            ])
            try #require(batch.status == 0, "\(batch.stderr)")

            let (process, out, err) = try PicpipeProcess.launch(
                ["thumbnails", "--missing", "--store", store.path, "-j", "1", "--json", "-q"],
                environment: ["PICPIPE_THUMBNAIL_SIZES": "128,1024"], outputIn: work)
            try await ServeProcess.eventually("the first thumbnails made") {
                Self.thumbnails(store, size: "1024").count >= 2 || !process.isRunning
            }
            kill(process.processIdentifier, signal)
            await process.exited()
            let stderr = String(decoding: try Data(contentsOf: err), as: UTF8.self)
            try #require(process.terminationReason == .exit, "killed by the signal instead of stopping: \(stderr)")
            #expect(process.terminationStatus == 128 + signal)
            #expect(stderr.contains("run the same command again"))
            let first = try Self.report(
                PicpipeProcess.Output(
                    status: 0, stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self), stderr: ""))
            let made = try #require(first.missing?.made)
            #expect(first.interrupted && first.missing?.interrupted == true)
            #expect(made < count && made + (first.missing?.notStarted ?? 0) == count)
            #expect(Self.thumbnails(store, size: "1024").count == made)
            #expect(!PicpipeProcess.files(under: store).contains { $0.contains(".picpipe-tmp-") })

            let again = try await PicpipeProcess.run(
                ["thumbnails", "--missing", "--store", store.path, "--json", "-q"],
                environment: ["PICPIPE_THUMBNAIL_SIZES": "128,1024"])
            #expect(again.status == 0, "\(again.stderr)")
            let rest = try Self.report(again)
            #expect(rest.missing?.made == count - made && rest.missing?.complete == made)
            #expect(Self.thumbnails(store, size: "1024").count == count)
        }
    }
}
