// The store's id: made once, kept, the same for every process that opens the store, refused when damaged.
import Foundation
import Locking
import Testing

@testable import PipelineCore

struct StoreIdentityTests {
    @Test func theIdIsMadeOnceAndKept() throws {
        try StoreTests.withStore { layout in
            let file = StoreIdentity.file(in: layout)
            #expect(!FileManager.default.fileExists(atPath: file.path))
            let first = try StoreIdentity.of(layout)
            #expect(UUID(uuidString: first.id) != nil)
            #expect(try String(contentsOf: file, encoding: .utf8) == first.id + "\n")
            #expect(try StoreIdentity.of(layout) == first)
            // Another layout value naming the same folder (another process, another mount point) reads it too.
            #expect(try StoreIdentity.of(StoreLayout(root: layout.root.appendingPathComponent("."))) == first)
        }
    }

    @Test func processesStartingTogetherAgreeOnOneId() throws {
        try StoreTests.withStore { layout in
            let ids = Locked<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 16) { _ in
                let id = (try? StoreIdentity.of(layout).id) ?? "failed"
                ids.withLock { $0.append(id) }
            }
            #expect(Set(ids.withLock { $0 }).count == 1)
            #expect(try StoreIdentity.of(layout).id == ids.withLock { $0 }.first)
            let names = try FileManager.default.contentsOfDirectory(atPath: layout.databases.path)
            #expect(names == ["store-id"], "no temporary file left: \(names)")
        }
    }

    @Test func aDamagedIdIsAnErrorNamingTheFile() throws {
        try StoreTests.withStore { layout in
            let file = StoreIdentity.file(in: layout)
            try Data("not an id".utf8).write(to: file)
            let error = #expect(throws: StoreError.self) { try StoreIdentity.of(layout) }
            #expect(error?.description.contains(file.path) == true)
            #expect(error?.description.contains("UUID") == true)
            #expect(try String(contentsOf: file, encoding: .utf8) == "not an id", "the file is left for the user")
        }
    }
}
