// `query` lists only pictures the store holds: an original removed by hand from originals/ is not listed (until
// session 27 its metadata row was, with a file path that no longer existed).
import Foundation
import Testing

extension PicpipeCLI {
    @Suite(.serialized) struct QueryGoneOriginalTests {
        /// A store made by `batch` of `count` distinct pictures.
        static func store(of count: Int, seed: Int, in work: URL) async throws -> URL {
            let inputs = work.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            for n in 0..<count {
                try PicpipeCLI.BatchCommandTests.picture(.jpeg, seed: seed + n)
                    .write(to: inputs.appendingPathComponent("p\(n).jpg"))
            }
            let store = work.appendingPathComponent("store")
            let batch = try await PicpipeProcess.run(["batch", inputs.path, "--store", store.path, "-q"])
            #expect(batch.status == 0, "\(batch.stderr)")
            return store
        }

        @Test func anOriginalRemovedByHandIsNotListed() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let store = try await Self.store(of: 2, seed: 10, in: work)
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

        /// A gone original does not take a place under `--limit`: with the first row's original removed, `--limit 1`
        /// printed nothing (until session 28 the limit was applied before the rows of gone originals were left out).
        @Test func aGoneOriginalTakesNoPlaceUnderTheLimit() async throws {
            let work = try PicpipeProcess.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: work) }
            let store = try await Self.store(of: 3, seed: 20, in: work)
            // The first two rows in the query's order lose their originals.
            let all = try await PicpipeProcess.run(["query", "--store", store.path, "--json"])
            let files = all.stdout.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["file"] as? String
            }
            try #require(files.count == 3, "\(all.stdout)")
            for file in files.prefix(2) { try FileManager.default.removeItem(at: store.appendingPathComponent(file)) }
            let limited = try await PicpipeProcess.run(["query", "--store", store.path, "--json", "--limit", "1"])
            #expect(limited.status == 0, "\(limited.stderr)")
            let left = limited.stdout.split(separator: "\n")
            #expect(left.count == 1 && left.allSatisfy { $0.contains(files[2]) }, "\(limited.stdout)")
        }
    }
}
