// An id index that cannot be read (a PostgreSQL outage) is not an index without the id: until session 31 every PUT id
// answered 404 "no image with id" while the database was away, a DELETE of it 404 (the picture stayed), and a
// content's original could be removed while another id still named it.
import FetchService
import Foundation
import PipelineCore
import Synchronization
import Testing

/// An index that can be switched out of reach.
final class OutageIndex: ImageIndex {
    struct Unreachable: TransientFailure, CustomStringConvertible {
        var mayPassIfRetried: Bool { true }
        var description: String { "cannot connect to the database" }
    }
    let wrapped: any ImageIndex
    let down = Atomic<Bool>(false)
    init(_ wrapped: any ImageIndex) { self.wrapped = wrapped }

    private func reachable() throws {
        if down.load(ordering: .sequentiallyConsistent) { throw Unreachable() }
    }
    func entry(for id: String) throws -> IndexedImage? {
        try reachable()
        return try wrapped.entry(for: id)
    }
    func ids(using hash: ContentHash) throws -> [String] {
        try reachable()
        return try wrapped.ids(using: hash)
    }
    func namedContents() throws -> [ContentHash: Int] {
        try reachable()
        return try wrapped.namedContents()
    }
    func upsert(_ entry: IndexedImage) throws -> IndexedImage? {
        try reachable()
        return try wrapped.upsert(entry)
    }
    func remove(id: String) throws -> IndexedImage? {
        try reachable()
        return try wrapped.remove(id: id)
    }
    func upsert(_ entry: IndexedImage, ifNaming expected: ContentHash?) throws -> IndexChange {
        try reachable()
        return try wrapped.upsert(entry, ifNaming: expected)
    }
    func remove(id: String, ifNaming expected: ContentHash) throws -> IndexChange {
        try reachable()
        return try wrapped.remove(id: id, ifNaming: expected)
    }
}

@Suite struct IndexOutageTests {
    @Test func idsWhileTheIndexIsOutOfReachAre503AndNothingIsRemoved() async throws {
        let picture = try FetchServer.picture(seed: 44)
        let hash = picture.withUnsafeBytes { ContentHash(of: $0) }.hex
        let held = Mutex<OutageIndex?>(nil)
        let makeIndex: (StoreLayout) throws -> any ImageIndex = { layout in
            let index = OutageIndex(try SQLiteImageIndex(url: SQLiteImageIndex.location(in: layout)))
            held.withLock { $0 = index }
            return index
        }
        try await FetchServer.with(imageIndex: makeIndex) { client, layout in
            let index = try #require(held.withLock { $0 })
            for id in ["cat", "cat-copy"] {
                let put = try await client.send(
                    "PUT", "/images/\(id)", headers: [("Content-Type", "image/jpeg")], body: picture)
                #expect(put.status == 201)
            }
            #expect(try await client.send("GET", "/images/cat/thumbnails/64").status == 200)
            let originals = FetchServer.files(under: layout.originals)

            index.down.store(true, ordering: .sequentiallyConsistent)
            for (method, path) in [
                ("GET", "/images/cat"), ("HEAD", "/images/cat"), ("GET", "/images/cat/thumbnails/256"),
                ("GET", "/images/cat/metadata"), ("DELETE", "/images/cat"), ("DELETE", "/images/\(hash)"),
                ("GET", "/images"), ("GET", "/cameras"),
            ] {
                let answer = try await client.send(method, path)
                #expect(answer.status == 503, "\(method) \(path): \(answer.status) \(answer.text)")
                #expect(answer.header("Retry-After") == "5", "\(method) \(path)")
            }
            #expect(FetchServer.files(under: layout.originals) == originals, "nothing removed while unreadable")

            index.down.store(false, ordering: .sequentiallyConsistent)
            for id in ["cat", "cat-copy"] {
                let answer = try await client.send("GET", "/images/\(id)")
                #expect(answer.status == 200 && answer.body == picture, "\(id) is still there")
            }
        }
    }
}
