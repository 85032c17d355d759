// The sentences users read when a file is refused: the path once, no word twice, and the knob behind a limit.
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct MessageTests {
        @Test func aMissingInputIsNamedOnce() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let missing = work.appendingPathComponent("missing.jpg").path
            let run = try await PicpipeProcess.run([
                "thumbnail", missing, "-o", work.appendingPathComponent("o.jpg").path,
            ])
            #expect(run.status == 1)
            #expect(run.stderr.components(separatedBy: missing).count == 2, "\(run.stderr)")  // the path once
            #expect(run.stderr.contains("no such file"))
        }

        @Test func libjpegsMessageIsNotRepeated() async throws {
            let file = PicpipeProcess.corpus.appendingPathComponent("jpeg-odd/extraneous-bytes-before-eoi.jpg")
            guard FileManager.default.fileExists(atPath: file.path) else { return }
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let run = try await PicpipeProcess.run([
                "thumbnail", file.path, "-o", work.appendingPathComponent("o.jpg").path,
            ])
            #expect(run.status == 1)
            #expect(run.stderr.lowercased().components(separatedBy: "corrupt jpeg data").count == 2, "\(run.stderr)")
        }

        @Test func limitsNameTheirKnob() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let input = work.appendingPathComponent("a.jpg")
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 1).write(to: input)
            let output = work.appendingPathComponent("o.jpg").path

            let pixels = try await PicpipeProcess.run(["thumbnail", input.path, "-o", output, "--max-pixels", "1000"])
            #expect(pixels.status == 1)
            #expect(pixels.stderr.contains("--max-pixels") && pixels.stderr.contains("limits.max_pixels"))
            let bytes = try await PicpipeProcess.run(["thumbnail", input.path, "-o", output, "--max-file-bytes", "100"])
            #expect(bytes.status == 1)
            #expect(bytes.stderr.contains("--max-file-bytes") && bytes.stderr.contains("limits.max_file_bytes"))

            let store = work.appendingPathComponent("store")
            let batch = try await PicpipeProcess.run([
                "batch", input.path, "--store", store.path, "--max-file-bytes", "100", "-q",
            ])
            #expect(batch.status == 1)
            #expect(batch.stderr.contains("--max-file-bytes"))

            // Under the runtime (serve, batch, invoke), a function's memory_mb can be the tighter bound: say so.
            // 1 MiB at 8 bytes a pixel is 131072 pixels: an 800x600 picture is over it, and under limits.max_pixels.
            let config = work.appendingPathComponent("tight.yaml")
            try Data("functions:\n  thumbnail:\n    memory_mb: 1\n".utf8).write(to: config)
            let big = work.appendingPathComponent("big.jpg")
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 9, width: 800, height: 600).write(to: big)
            let tight = try await PicpipeProcess.run([
                "batch", big.path, "--store", store.path, "--config", config.path, "-q",
            ])
            #expect(tight.status == 1)
            #expect(tight.stderr.contains("functions.thumbnail.memory_mb"), "\(tight.stderr)")
        }
    }
}
