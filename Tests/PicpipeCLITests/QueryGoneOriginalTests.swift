// `query` lists only pictures the store holds: an original removed by hand from originals/ is not listed (until
// session 27 its metadata row was, with a file path that no longer existed).
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct QueryGoneOriginalTests {
        @Test func anOriginalRemovedByHandIsNotListed() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let inputs = work.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            for seed in 0..<2 {
                try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: 10 + seed)
                    .write(to: inputs.appendingPathComponent("p\(seed).jpg"))
            }
            let store = work.appendingPathComponent("store")
            let batch = try await PicpipeProcess.run(["batch", inputs.path, "--store", store.path, "-q"])
            #expect(batch.status == 0, "\(batch.stderr)")
            let before = try await PicpipeProcess.run(["query", "--store", store.path, "--json"])
            let lines = before.stdout.split(separator: "\n")
            try #require(lines.count == 2, "\(before.stdout)")
            let originals = PicpipeProcess.files(under: store).filter { $0.hasPrefix("originals/") }
            try #require(originals.count == 2)
            try FileManager.default.removeItem(at: store.appendingPathComponent(originals[0]))
            let after = try await PicpipeProcess.run(["query", "--store", store.path, "--json"])
            #expect(after.status == 0, "\(after.stderr)")
            let left = after.stdout.split(separator: "\n")
            #expect(left.count == 1, "\(after.stdout)")
            #expect(left.allSatisfy { $0.contains(originals[1]) }, "\(after.stdout)")
            #expect(!after.stdout.contains(originals[0]))
        }
    }
}
