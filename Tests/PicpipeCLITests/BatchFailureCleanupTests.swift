// A file batch cannot finish keeps nothing in the store: not its original, not the thumbnails written before the one
// that failed (until session 27 a 128 px thumbnail stayed when the 256 px write failed on a full disk).
import Foundation
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
    }
}
