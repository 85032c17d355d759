// A dead letter goes when the same work later succeeds; other work's letters stay.
import Foundation
import Testing

@testable import PipelineCore

@Suite struct DeadLetterClearTests {
    @Test func onlyTheSucceededWorksLetterGoes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("deadletter-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let failed = StoreHandle(area: .failed, access: .write, location: folder, function: "test")
        try DeadLetter(file: "a.jpg", error: "timed out", stage: "thumbnail", sha256: "aa")
            .store(bytes: nil, name: "a.jpg.thumbnail", in: failed)
        try DeadLetter(file: "a.jpg", error: "broken", stage: "metadata", sha256: "aa")
            .store(bytes: nil, name: "a.jpg.metadata", in: failed)
        try DeadLetter(file: "b.jpg", error: "disk full", stage: "batch", sha256: "bb")
            .store(bytes: Data("bytes".utf8), name: "in/b.jpg", in: failed)

        #expect(
            DeadLetter.clear(file: "a.jpg", name: "a.jpg.thumbnail", stage: "thumbnail", sha256: "aa", in: failed) == 1)
        #expect(!failed.exists("a.jpg.thumbnail.error.json"))
        #expect(failed.exists("a.jpg.metadata.error.json"))
        // Other content under the same name is not this work.
        #expect(DeadLetter.clear(file: "b.jpg", name: "in/b.jpg", stage: "batch", sha256: "cc", in: failed) == 0)
        #expect(failed.exists("b.jpg.error.json"))
        #expect(DeadLetter.clear(file: "b.jpg", name: "in/b.jpg", stage: "batch", sha256: "bb", in: failed) == 1)
        #expect(!failed.exists("b.jpg.error.json") && !failed.exists("b.jpg"))
    }
}
