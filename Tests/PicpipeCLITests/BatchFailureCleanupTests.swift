// A file batch cannot finish keeps nothing in the store: not its original, not the thumbnails written before the one
// that failed (until session 27 a 128 px thumbnail stayed when the 256 px write failed on a full disk).
import Foundation
import ImageCore
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct BatchFailureCleanupTests {
        @Test func aFailedFileLeavesNoneOfItsThumbnails() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let input = work.appendingPathComponent("a.jpg")
            try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 4, width: 640, height: 480).write(to: input)
            let store = work.appendingPathComponent("store")
            // The 256 px folder's place is taken by a file: that write fails after the 128 px one succeeded (a
            // write failure as a full disk gives one, without needing one).
            try FileManager.default.createDirectory(
                at: store.appendingPathComponent("thumbnails"), withIntermediateDirectories: true)
            try Data("in the way".utf8).write(to: store.appendingPathComponent("thumbnails/256"))
            let run = try await PicpipeProcess.run(["batch", input.path, "--store", store.path, "-q"])
            #expect(run.status == 1, "\(run.stderr)")
            let files = PicpipeProcess.files(under: store)
            #expect(!files.contains { $0.hasPrefix("originals/") }, "\(files)")
            #expect(!files.contains { $0.hasPrefix("thumbnails/128/") || $0.hasPrefix("thumbnails/1024/") }, "\(files)")
            #expect(files.contains { $0.hasPrefix("failed/") && $0.hasSuffix(".error.json") }, "\(files)")

            // Once the way is clear, a second run does the file, and its dead letter, stale now, goes.
            try FileManager.default.removeItem(at: store.appendingPathComponent("thumbnails/256"))
            let again = try await PicpipeProcess.run(["batch", input.path, "--store", store.path, "-q"])
            #expect(again.status == 0, "\(again.stderr)")
            let after = PicpipeProcess.files(under: store)
            #expect(!after.contains { $0.hasPrefix("failed/") }, "\(after)")
            #expect(after.contains { $0.hasPrefix("thumbnails/256/") }, "\(after)")
        }

        /// A file that fails for lack of space keeps nothing in the store, no dead letter either: its input is still
        /// where it was. Until session 31 it was copied into failed/, into the very room its roll-back had freed (on
        /// a 3 MB disk, 2.5 MB of copies of inputs that had failed only for space, and every file after them failed).
        @Test func aFileThatFailedForLackOfSpaceLeavesNoCopyInFailed() async throws {
            guard getuid() == 0 else {
                print("skipped: mounting a small tmpfs for the full-disk test needs root (CI runs as root)")
                return
            }
            let work = try PicpipeProcess.temporaryFolder()
            let store = try ServeHardeningTests.smallDisk(work)
            defer {
                ServeHardeningTests.unmount(store)
                try? FileManager.default.removeItem(at: work)
            }
            let first = try BatchCommandTests.folderWithOnePicture(in: work)
            let made = try await PicpipeProcess.run(["batch", first.path, "--store", store.path, "-q"])
            try #require(made.status == 0, "\(made.stderr)")
            let inputs = work.appendingPathComponent("big")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            let photo = try Self.noise(width: 1600, height: 1200)
            try photo.write(to: inputs.appendingPathComponent("big.jpg"))
            // Full, then room for the original and 96 KB more: its 1024 px thumbnail (noise: hundreds of KB) does
            // not fit, and the roll-back frees the original's room again.
            let filler = try ServeHardeningTests.fill(store)
            let page = 4096
            let filled = try #require(try FileManager.default.attributesOfItem(atPath: filler.path)[.size] as? Int)
            let pages = (photo.count + page - 1) / page + 24
            try #require(truncate(filler.path, off_t((filled / page - pages) * page)) == 0)
            let run = try await PicpipeProcess.run([
                "batch", inputs.path, "--store", store.path, "--sizes", "1024", "--json", "-q",
            ])
            #expect(run.status == 1, "\(run.stderr)")
            let summary = try JSONDecoder().decode(BatchCommandTests.Summary.self, from: Data(run.stdout.utf8))
            #expect(summary.failed == 1)
            #expect(summary.failures.first?.error.hasSuffix("No space left on device") == true, "\(run.stdout)")
            #expect(run.stderr.components(separatedBy: "disk is full").count - 1 == 1, "said once: \(run.stderr)")
            let files = PicpipeProcess.files(under: store)
            #expect(!files.contains { $0.hasPrefix("failed/") }, "\(files)")
            #expect(files.filter { $0.hasPrefix("originals/") }.count == 1, "\(files)")

            // Room again: the same command stores it.
            try FileManager.default.removeItem(at: filler)
            let again = try await PicpipeProcess.run(["batch", inputs.path, "--store", store.path, "--sizes", "1024"])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(PicpipeProcess.files(under: store).filter { $0.hasPrefix("originals/") }.count == 2)
        }

        /// A JPEG of noise, which compresses badly: its thumbnails are large.
        static func noise(width: Int, height: Int) throws -> Data {
            var state: UInt32 = 12345
            let bytes = (0..<width * height * 3).map { _ -> UInt8 in
                state = state &* 1_664_525 &+ 1_013_904_223
                return UInt8(truncatingIfNeeded: state >> 24)
            }
            let pixels = PixelBuffer(width: width, height: height, channels: 3, bytes: bytes)
            return Data(try ImageEncoder.encode(pixels, format: .jpeg))
        }
    }
}
