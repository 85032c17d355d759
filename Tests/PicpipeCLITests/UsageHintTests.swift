// The slips a new user makes on the command line, each answered with what to type instead.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct UsageHintTests {
        @Test func aNegativeValueGetsTheEqualsHint() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let run = try await PicpipeProcess.run(["query", "--store", work.path, "--bbox", "-34,150,-33,152"])
            #expect(run.status == 2)
            #expect(run.stderr.contains("--bbox=-34,150,-33,152"))
        }

        @Test func aNegativeSizeHasItsOwnMessage() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let input = work.appendingPathComponent("a.jpg")
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 1).write(to: input)
            let run = try await PicpipeProcess.run([
                "thumbnail", input.path, "-o", work.appendingPathComponent("o.jpg").path, "--size=-5",
            ])
            #expect(run.status == 2)
            #expect(run.stderr.contains("--size must be a positive number"))
            let spaced = try await PicpipeProcess.run(["thumbnail", input.path, "-o", "o.jpg", "--size", "-5"])
            #expect(spaced.status == 2)
            #expect(spaced.stderr.contains("--size=-5"))
        }

        /// A nested command's usage error names its whole path (it said `picpipe migrate --help`, no such command).
        @Test func aNestedCommandsUsageErrorNamesItsWholePath() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            try FileManager.default.createDirectory(
                at: work.appendingPathComponent("db"), withIntermediateDirectories: true)
            let run = try await PicpipeProcess.run(["db", "migrate", "--store", work.path, "--to", "not-a-url"])
            #expect(run.status == 2)
            #expect(run.stderr.contains("See 'picpipe db migrate --help'"), "\(run.stderr)")
        }

        @Test func aMistypedCommandGetsADidYouMean() async throws {
            let run = try await PicpipeProcess.run(["thumbnial", "a.jpg", "-o", "b.jpg"])
            #expect(run.status == 2)
            #expect(run.stderr.contains("'thumbnial'"))
            #expect(run.stderr.contains("did you mean 'thumbnail'"))
        }

        @Test func batchHelpSaysEachDefaultOnceAndFormatIsAboutBatch() async throws {
            let run = try await PicpipeProcess.run(["batch", "--help"])
            #expect(run.status == 0)
            #expect(!run.stdout.contains("cores). (default:"))
            let format = run.stdout.components(separatedBy: "--format <format>").last ?? ""
            #expect(!format.prefix(150).contains("`thumbnail`"))
        }
    }
}
