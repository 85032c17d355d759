// Slips on the command line that must be refused with a clear word instead of silently doing something else:
// a missing output folder, a folder that is not a store, an unknown function, options that do nothing.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PicpipeCLI {
    @Suite(.serialized) struct CommandSlipsTests {
        /// As for `cp`, the output's folder must exist: a typo in `-o` grew a tree of folders (until session 27).
        @Test func thumbnailRefusesAnOutputFolderThatDoesNotExist() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let input = work.appendingPathComponent("a.jpg")
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 1).write(to: input)
            let folder = work.appendingPathComponent("nonexist/dir")
            let output = folder.appendingPathComponent("x.jpg").path
            let run = try await PicpipeProcess.run(["thumbnail", input.path, "-o", output])
            #expect(run.status == 2)
            #expect(
                run.stderr.contains("picpipe: -o \(output): the folder \(folder.path) does not exist"), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("nonexist").path))

            // In an existing folder, the thumbnail is written (and a store still makes its hash-prefix folders).
            let here = try await PicpipeProcess.run([
                "thumbnail", input.path, "-o", work.appendingPathComponent("t.jpg").path,
            ])
            #expect(here.status == 0, "\(here.stderr)")
            let store = work.appendingPathComponent("store")
            let batch = try await PicpipeProcess.run(["batch", input.path, "--store", store.path, "-q"])
            #expect(batch.status == 0, "\(batch.stderr)")
            #expect(PicpipeProcess.files(under: store).contains { $0.hasPrefix("thumbnails/128/") })
        }

        /// A one-letter output name is a file in the current folder, in the configured format (README: no extension
        /// means the configured format): `-o x` crashed in Foundation's path code (until session 28).
        @Test func aOneLetterOutputNameIsWrittenHere() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let input = work.appendingPathComponent("a.jpg")
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 1).write(to: input)
            let run = try await PicpipeProcess.run(
                ["thumbnail", input.path, "-o", "x", "--size", "64"], currentDirectory: work)
            #expect(run.status == 0, "\(run.stderr)")
            let written = try Data(contentsOf: work.appendingPathComponent("x"))
            #expect(Array(written.prefix(3)) == [0xFF, 0xD8, 0xFF], "a JPEG")
        }

        /// Reading commands never create a store: `events`, `stats` and `replay` made `db/events.sqlite` in any
        /// folder given to `--store` (until session 27).
        @Test func journalCommandsRefuseAFolderThatIsNotAStore() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let folder = work.appendingPathComponent("photos")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for arguments in [["events"], ["stats"], ["replay", "--failed"]] {
                let run = try await PicpipeProcess.run(arguments + ["--store", folder.path])
                #expect(run.status == 2, "\(arguments): \(run.stderr)")
                #expect(run.stderr.contains("is not a picpipe store"), "\(arguments): \(run.stderr)")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        }

        /// `invoke` (every invocation type), `import` and `query` check the folder as `events` does: invoke made
        /// db/, originals/, failed/, thumbnails/ and uploads/ in any folder, query printed an empty table (until
        /// session 36).
        @Test func invokeImportAndQueryRefuseAFolderThatIsNotAStore() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let folder = work.appendingPathComponent("empty")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let events = try await PicpipeProcess.run(["events", "--store", folder.path])
            #expect(events.status == 2)
            let key = "originals/ab/" + String(repeating: "ab", count: 32) + ".jpg"
            var commands = ["RequestResponse", "Event", "DryRun"].map {
                ["invoke", "metadata", "--key", key, "--invocation-type", $0]
            }
            commands.append(["import", "http://127.0.0.1:9/a.jpg"])
            commands.append(["query"])
            for arguments in commands {
                let run = try await PicpipeProcess.run(arguments + ["--store", folder.path])
                #expect(run.status == 2, "\(arguments): \(run.stderr)")
                #expect(run.stderr.split(separator: "\n").first == events.stderr.split(separator: "\n").first)
                #expect(run.stderr.contains("is not a picpipe store"), "\(arguments): \(run.stderr)")
                #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty, "\(arguments)")
            }
        }

        @Test func unknownFunctionsAndMissingArgumentsAreNamed() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let store = work.appendingPathComponent("store")
            let input = work.appendingPathComponent("a.jpg")
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 2).write(to: input)
            #expect(try await PicpipeProcess.run(["batch", input.path, "--store", store.path, "-q"]).status == 0)
            let bogus = try await PicpipeProcess.run(["events", "--store", store.path, "--function", "bogus"])
            #expect(bogus.status == 2)
            #expect(bogus.stderr.contains("'bogus' is not a function"), "\(bogus.stderr)")
            let known = try await PicpipeProcess.run(["events", "--store", store.path, "--function", "fetch"])
            #expect(known.status == 0, "\(known.stderr)")
            let replay = try await PicpipeProcess.run(["replay", "--store", store.path])
            #expect(replay.status == 2)
            #expect(replay.stderr.contains("give an EVENT_ID or --failed") && !replay.stderr.contains("not both"))
        }

        /// `--format`'s help listed gif and heic, then refused them; `--lossless` and `--speed` did nothing for JPEG.
        @Test func recipeOptionsSayWhatTheyApplyTo() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            for command in ["thumbnail", "batch"] {
                let help = try await PicpipeProcess.run([command, "--help"])
                let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                #expect(text.contains("(values: jpeg, png, webp, avif)"), "\(help.stdout)")
                #expect(!text.contains("gif, heic"), "\(help.stdout)")
                if command == "thumbnail" {
                    // Without --size the box is 256 px; until session 36 the help did not say so.
                    #expect(text.contains("(default: 256, without --width and --height)"), "\(help.stdout)")
                }
            }
            let input = work.appendingPathComponent("a.jpg")
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 3).write(to: input)
            let output = work.appendingPathComponent("o.jpg").path
            let lossless = try await PicpipeProcess.run(["thumbnail", input.path, "-o", output, "--lossless"])
            #expect(lossless.status == 2)
            #expect(lossless.stderr.contains("--lossless applies to WebP output only"), "\(lossless.stderr)")
            let speed = try await PicpipeProcess.run([
                "batch", input.path, "--store", work.appendingPathComponent("s").path, "--speed", "4",
            ])
            #expect(speed.status == 2)
            #expect(speed.stderr.contains("--speed applies to AVIF output only"), "\(speed.stderr)")
            #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("s").path))
            let webp = try await PicpipeProcess.run([
                "thumbnail", input.path, "-o", work.appendingPathComponent("o.webp").path, "--lossless",
            ])
            #expect(webp.status == 0, "\(webp.stderr)")
            let progressive = try await PicpipeProcess.run([
                "thumbnail", input.path, "-o", work.appendingPathComponent("o.png").path, "--progressive",
            ])
            #expect(progressive.status == 2)
            #expect(
                progressive.stderr.contains("--progressive applies to JPEG output only"), "\(progressive.stderr)")
        }

        /// `--quality` for PNG (or lossless WebP) output and `--background` for any output but JPEG (the others keep
        /// alpha) changed nothing and were taken without a word until session 31; now they are refused like
        /// `--lossless` or `--speed` for the wrong format, and taken wherever they apply.
        @Test func qualityAndBackgroundAreRefusedWhereTheyChangeNothing() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let input = work.appendingPathComponent("a.png")
            try PicpipeCLI.BatchCommandTests.picture(.png, seed: 4).write(to: input)
            let quality = "--quality applies to JPEG, lossy WebP and AVIF output"
            let background = "--background applies to JPEG output only"
            for (output, options, refusal) in [
                ("o.png", ["--quality", "50"], quality), ("o.webp", ["--lossless", "--quality", "50"], quality),
                ("o.png", ["--background", "00ff00"], background), ("o.webp", ["--background", "00ff00"], background),
                ("o.avif", ["--background", "00ff00"], background),
            ] {
                let path = work.appendingPathComponent(output).path
                let run = try await PicpipeProcess.run(["thumbnail", input.path, "-o", path] + options)
                #expect(run.status == 2, "\(output) \(options)")
                #expect(run.stderr.contains(refusal), "\(output) \(options): \(run.stderr)")
                #expect(!FileManager.default.fileExists(atPath: path))
            }
            for (output, options) in [
                ("o.jpg", ["--quality", "90", "--background", "000000"]), ("o.webp", ["--quality", "80"]),
                ("o.avif", ["--quality", "60"]),
            ] {
                let run = try await PicpipeProcess.run(
                    ["thumbnail", input.path, "-o", work.appendingPathComponent(output).path] + options)
                #expect(run.status == 0, "\(output) \(options): \(run.stderr)")
            }
            let store = work.appendingPathComponent("store")
            let png = try await PicpipeProcess.run([
                "batch", input.path, "--store", store.path, "--format", "png", "--quality", "50",
            ])
            #expect(png.status == 2)
            #expect(png.stderr.contains(quality), "\(png.stderr)")
            #expect(!FileManager.default.fileExists(atPath: store.path))
            // With JPEG among the formats written, both are taken (--quality with --format png is JPEG's setting).
            let alsoJPEG = try await PicpipeProcess.run([
                "batch", input.path, "--store", store.path, "--format", "png", "--also-formats", "jpeg", "--quality",
                "50", "--background", "000000", "--sizes", "64", "-q",
            ])
            #expect(alsoJPEG.status == 0, "\(alsoJPEG.stderr)")
            #expect(PicpipeProcess.files(under: store).contains { $0.hasSuffix("-inside-q50-bg000000-srgb.jpg") })
        }
    }
}
