// The sentences users read when a file is refused: the path once, no word twice, and the knob behind a limit.
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

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

        /// A file named with a line break printed it as is: the failure read as two lines, the second looking like
        /// a message of its own; a terminal escape in a name recoloured the terminal. Names are shown escaped.
        @Test func aFileNameShowsOnOneLineEscaped() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let inputs = work.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            let bad = inputs.appendingPathComponent("bad\npicpipe: all fine.png")
            try Data("not a picture".utf8).write(to: bad)
            try Data("nor this".utf8).write(to: inputs.appendingPathComponent("esc\u{1B}[31m.jpg"))
            let batch = try await PicpipeProcess.run([
                "batch", inputs.path, "--store", work.appendingPathComponent("store").path, "--quiet",
            ])
            #expect(batch.status == 1)
            let failures = batch.stderr.split(separator: "\n").filter { $0.hasPrefix("picpipe: failed: ") }
            #expect(failures.count == 2, "\(batch.stderr)")
            #expect(failures.contains { $0.contains("bad\\npicpipe: all fine.png: not a JPEG") }, "\(batch.stderr)")
            #expect(!batch.stderr.contains("\u{1B}") && !batch.stderr.contains("\npicpipe: all fine"))
            for command in [
                ["metadata", bad.path], ["thumbnail", bad.path, "-o", work.appendingPathComponent("o.jpg").path],
            ] {
                let run = try await PicpipeProcess.run(command)
                #expect(run.status == 1)
                #expect(run.stderr.split(separator: "\n").count == 1, "\(command[0]): \(run.stderr)")
                #expect(run.stderr.contains("bad\\npicpipe: all fine.png"), "\(run.stderr)")
            }
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

        /// A valid picture in a variant picpipe does not decode (a 12-bit JPEG) is unsupported, not corrupt, in every
        /// way a file comes in: `thumbnail`, `batch` (its line, `--json`, the dead letter) and serve's upload folder
        /// (the dead letter). Until session 34 all of them said "corrupt JPEG data: Unsupported JPEG data precision
        /// 12", telling the user that an intact file was damaged.
        @Test func aValidPictureInAnUnsupportedVariantIsNotCalledCorrupt() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            var bytes = [UInt8](try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 3))
            var at = 2
            while at + 4 < bytes.count, bytes[at + 1] != 0xC0 {
                at += 2 + (Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]))
            }
            try #require(at + 4 < bytes.count && bytes[at + 1] == 0xC0)
            bytes[at + 1] = 0xC1  // extended sequential with 12-bit samples, as such files are
            bytes[at + 4] = 12
            let inputs = work.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            let file = inputs.appendingPathComponent("scan12.jpg")
            try Data(bytes).write(to: file)
            let reason = "unsupported JPEG: 12-bit samples (picpipe decodes 8-bit JPEG)"

            let thumbnail = try await PicpipeProcess.run([
                "thumbnail", file.path, "-o", work.appendingPathComponent("o.jpg").path,
            ])
            #expect(thumbnail.status == 1)
            #expect(thumbnail.stderr == "picpipe: \(file.path): \(reason)\n", "\(thumbnail.stderr)")

            let store = work.appendingPathComponent("store")
            let batch = try await PicpipeProcess.run(["batch", inputs.path, "--store", store.path, "--json", "-q"])
            #expect(batch.status == 1)
            #expect(batch.stderr.contains("picpipe: failed: \(file.path): \(reason)\n"), "\(batch.stderr)")
            let summary = try JSONDecoder().decode(BatchCommandTests.Summary.self, from: Data(batch.stdout.utf8))
            #expect(summary.failures.map(\.error) == [reason])
            #expect(try Self.deadLetterErrors(store) == [reason])
            #expect(ServeProcess.files(store, "originals").isEmpty)

            let served = work.appendingPathComponent("served")
            try FileManager.default.createDirectory(
                at: served.appendingPathComponent("uploads"), withIntermediateDirectories: true)
            let serve = try await ServeProcess(store: served)
            try Data(bytes).write(to: work.appendingPathComponent("staged.jpg"))
            try FileManager.default.moveItem(
                at: work.appendingPathComponent("staged.jpg"), to: served.appendingPathComponent("uploads/scan12.jpg"))
            try await ServeProcess.eventually("the dead letter") {
                let letters = ServeProcess.files(served, "failed").filter { $0.hasSuffix(".error.json") }
                return !letters.isEmpty || !serve.process.isRunning
            }
            await serve.stop()
            // The thumbnail function's refusal names the file it read: `FILE: reason`.
            let errors = try Self.deadLetterErrors(served)
            #expect(!errors.isEmpty && errors.allSatisfy { $0.hasSuffix(": " + reason) }, "\(errors)")
            #expect(!errors.contains { $0.contains("corrupt") }, "\(errors)")
        }

        /// The `error` of each dead letter of `store`.
        static func deadLetterErrors(_ store: URL) throws -> [String] {
            try ServeProcess.files(store, "failed").filter { $0.hasSuffix(".error.json") }.map { path in
                let data = try Data(contentsOf: store.appendingPathComponent("failed").appendingPathComponent(path))
                let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
                return object?["error"] as? String ?? ""
            }
        }

        /// `-o` naming the input itself (by its name, another path, or a link) would have replaced the picture with
        /// its thumbnail, and did; a folder, or a typo'd extension written as a JPEG under a name nothing opens as
        /// one, are refused before any work too. Nothing is written in each case.
        @Test func anOutputThatWouldDestroyTheInputOrIsNoFileIsRefused() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let input = work.appendingPathComponent("a.jpg")
            let picture = try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 1)
            try picture.write(to: input)
            let link = work.appendingPathComponent("link.jpg")
            try #require(symlink(input.path, link.path) == 0)
            let cases: [(String, String)] = [
                (input.path, "is the input itself: the thumbnail would replace the picture"),
                (work.path + "/./a.jpg", "is the input itself"),
                (link.path, "is the input itself"),
                (work.path, "is a folder: give the thumbnail's file name, e.g. \(work.path)/thumb.jpg"),
                (work.path + "/none/", "names a folder"),
                (work.appendingPathComponent("t.jgp").path, ".jgp names no format picpipe writes"),
            ]
            for (output, message) in cases {
                let run = try await PicpipeProcess.run(["thumbnail", input.path, "-o", output, "--size", "32"])
                #expect(run.status == 2, "\(output): \(run.stderr)")
                #expect(run.stderr.contains(message), "\(output): \(run.stderr)")
            }
            #expect(try Data(contentsOf: input) == picture)
            #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).sorted() == ["a.jpg", "link.jpg"])
            // With --format the name is the user's choice.
            let named = work.appendingPathComponent("t.jgp").path
            let run = try await PicpipeProcess.run(["thumbnail", input.path, "-o", named, "--format", "jpeg"])
            #expect(run.status == 0, "\(run.stderr)")
        }

        /// `-o -` writes the thumbnail to standard output; an output that is a pipe, a terminal or a device
        /// (`-o /dev/stdout`, a named pipe) is written into, never renamed over: as root the atomic write replaced
        /// the /dev/stdout link with a regular file. Tried here with a named pipe, which stays one.
        @Test func aThumbnailGoesToStandardOutputOrIntoAPipe() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let input = work.appendingPathComponent("a.jpg")
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 1).write(to: input)
            let shell = URL(fileURLWithPath: "/bin/sh")
            let environment = ProcessInfo.processInfo.environment
            let binary = PicpipeProcess.binary.path
            let piped = work.appendingPathComponent("piped.jpg").path
            let toStdout = try await PicpipeProcess.run(
                executable: shell, ["-c", "'\(binary)' thumbnail '\(input.path)' -o - --size 40 > '\(piped)'"],
                environment: environment)
            #expect(toStdout.status == 0, "\(toStdout.stderr)")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: piped))
            #expect(bytes.prefix(2) == Data([0xFF, 0xD8]) && bytes.suffix(2) == Data([0xFF, 0xD9]))

            let fifo = work.appendingPathComponent("fifo.jpg").path
            try #require(mkfifo(fifo, 0o644) == 0)
            let received = work.appendingPathComponent("received.jpg").path
            let reader = Task {
                try await PicpipeProcess.run(
                    executable: shell, ["-c", "cat '\(fifo)' > '\(received)'"], environment: environment, timeout: 60)
            }
            let intoFIFO = try await PicpipeProcess.run(
                ["thumbnail", input.path, "-o", fifo, "--size", "40"], timeout: 60)
            #expect(intoFIFO.status == 0, "\(intoFIFO.stderr)")
            #expect(try await reader.value.status == 0)
            #expect(try Data(contentsOf: URL(fileURLWithPath: received)) == bytes)
            var info = stat()
            #expect(lstat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO, "the pipe is still a pipe")

            // `-` reads standard input: a pipe in, a pipe out, the same thumbnail; a stream past the file size
            // limit stops there and says so.
            let fromStdin = try await PicpipeProcess.run(
                executable: shell,
                ["-c", "cat '\(input.path)' | '\(binary)' thumbnail - -o - --size 40 > '\(piped).2'"],
                environment: environment)
            #expect(fromStdin.status == 0, "\(fromStdin.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: piped + ".2")) == bytes)
            let endless = try await PicpipeProcess.run(
                executable: shell,
                ["-c", "'\(binary)' thumbnail - -o '\(piped).3.jpg' --max-file-bytes 100000 < /dev/zero"],
                environment: environment, timeout: 60)
            #expect(endless.status == 1)
            #expect(endless.stderr.contains("standard input: more than 100000 bytes"), "\(endless.stderr)")
            #expect(!FileManager.default.fileExists(atPath: piped + ".3.jpg"))

            // `-o /dev/stdout` as root, in a mount namespace of its own whose /dev is a fresh tmpfs (the machine's
            // /dev/stdout is never at stake): the bytes come out and /dev/stdout stays a link.
            guard getuid() == 0 else { return }
            let script = """
                mount -t tmpfs none /dev && ln -s /proc/self/fd/1 /dev/stdout && \
                '\(binary)' thumbnail '\(input.path)' -o /dev/stdout --size 40 > '\(piped)' && \
                test -L /dev/stdout
                """
            let isolated = try await PicpipeProcess.run(
                executable: URL(fileURLWithPath: "/usr/bin/unshare"), ["--mount", "/bin/sh", "-c", script],
                environment: environment, timeout: 60)
            #expect(isolated.status == 0, "\(isolated.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: piped)) == bytes)
        }

        @Test func limitsNameTheirKnob() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let input = work.appendingPathComponent("a.jpg")
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 1).write(to: input)
            let output = work.appendingPathComponent("o.jpg").path

            let pixels = try await PicpipeProcess.run(["thumbnail", input.path, "-o", output, "--max-pixels", "1000"])
            #expect(pixels.status == 1)
            // The limit is named by what set it: the option, the variable, else the configuration's key.
            #expect(pixels.stderr.contains("set by --max-pixels") && !pixels.stderr.contains("limits.max_pixels"))
            let variable = try await PicpipeProcess.run(
                ["thumbnail", input.path, "-o", output], environment: ["PICPIPE_MAX_PIXELS": "1000"])
            #expect(variable.status == 1)
            #expect(variable.stderr.contains("set by PICPIPE_MAX_PIXELS"), "\(variable.stderr)")
            let batchPixels = try await PicpipeProcess.run([
                "batch", input.path, "--store", work.appendingPathComponent("pixels").path, "--max-pixels", "1000",
                "-q",
            ])
            #expect(batchPixels.status == 1)
            #expect(batchPixels.stderr.contains("set by --max-pixels"), "\(batchPixels.stderr)")
            let bytes = try await PicpipeProcess.run(["thumbnail", input.path, "-o", output, "--max-file-bytes", "100"])
            #expect(bytes.status == 1)
            // As for pixels (until session 28 the file size refusal named the configuration's key whatever set it).
            #expect(
                bytes.stderr.contains("(set by --max-file-bytes)") && !bytes.stderr.contains("limits.max_file_bytes"),
                "\(bytes.stderr)")
            let bytesVariable = try await PicpipeProcess.run(
                ["thumbnail", input.path, "-o", output], environment: ["PICPIPE_MAX_FILE_BYTES": "100"])
            #expect(bytesVariable.status == 1)
            #expect(
                bytesVariable.stderr.contains("(set by PICPIPE_MAX_FILE_BYTES in the environment)"),
                "\(bytesVariable.stderr)")

            let store = work.appendingPathComponent("store")
            let batch = try await PicpipeProcess.run([
                "batch", input.path, "--store", store.path, "--max-file-bytes", "100", "-q",
            ])
            #expect(batch.status == 1)
            #expect(batch.stderr.contains("(set by --max-file-bytes)"), "\(batch.stderr)")

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
