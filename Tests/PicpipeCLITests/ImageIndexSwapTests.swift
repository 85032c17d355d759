// The id index's conditional changes (a conditional PUT or DELETE of the HTTP API): made only while the id names the
// content expected, checked and written in one step, on SQLite and on PostgreSQL.
import FetchService
import Foundation
import ImageCore
import Locking
import PipelineCore
import PostgresBackend
import Testing

extension PicpipeCLI {
    @Suite struct ImageIndexSwapTests {
        static let (a, b, c) = (
            ContentHash(hex: String(repeating: "a", count: 64))!, ContentHash(hex: String(repeating: "b", count: 64))!,
            ContentHash(hex: String(repeating: "c", count: 64))!
        )

        static func entry(_ id: String, _ hash: ContentHash) -> IndexedImage {
            IndexedImage(id: id, hash: hash, format: .jpeg, size: 1, name: nil, updatedAt: Date())
        }

        /// The backends here: SQLite, and PostgreSQL when its test server is given.
        static var backends: [String] { ScratchDatabase.enabled ? ["sqlite", "postgres"] : ["sqlite"] }

        static func withIndex(_ backend: String, _ body: (any ImageIndex) throws -> Void) throws {
            if backend == "postgres" {
                try ScratchDatabase.with { url in
                    try body(
                        PostgresImageIndex(
                            pool: PostgresConnectionPool(url: DatabaseURL(parsing: url), maxConnections: 4)))
                }
                return
            }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("index-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            try body(SQLiteImageIndex(url: folder.appendingPathComponent("fetch.sqlite")))
        }

        @Test(arguments: backends)
        func aChangeIsMadeOnlyWhileTheIdNamesWhatWasExpected(_ backend: String) throws {
            try Self.withIndex(backend) { index in
                // Create only: made while the id has no entry, then stale.
                #expect(try index.upsert(Self.entry("doc", Self.a), ifNaming: nil) == .made(previous: nil))
                #expect(try index.upsert(Self.entry("doc", Self.b), ifNaming: nil) == .stale)
                #expect(try index.entry(for: "doc")?.hash == Self.a)
                // Replace: made while it names the expected content, stale once it names another.
                guard case .made(let previous?) = try index.upsert(Self.entry("doc", Self.b), ifNaming: Self.a) else {
                    Issue.record("not replaced")
                    return
                }
                #expect(previous.hash == Self.a)
                #expect(try index.upsert(Self.entry("doc", Self.c), ifNaming: Self.a) == .stale)
                #expect(try index.upsert(Self.entry("new", Self.c), ifNaming: Self.a) == .stale)
                #expect(try index.entry(for: "new") == nil && index.entry(for: "doc")?.hash == Self.b)
                // Remove: only while it names the expected content.
                #expect(try index.remove(id: "doc", ifNaming: Self.a) == .stale)
                #expect(try index.entry(for: "doc")?.hash == Self.b)
                guard case .made(let removed?) = try index.remove(id: "doc", ifNaming: Self.b) else {
                    Issue.record("not removed")
                    return
                }
                #expect(
                    try removed.hash == Self.b && index.entry(for: "doc") == nil && index.ids(using: Self.b).isEmpty)
                #expect(try index.remove(id: "doc", ifNaming: Self.b) == .stale)
            }
        }

        /// Many writers of one id at once, each expecting the content it read: each change is made against exactly
        /// the state it replaces, so the ones made form one chain from the first content (none is lost).
        @Test(arguments: backends)
        func concurrentConditionalWritersFormOneChain(_ backend: String) throws {
            try Self.withIndex(backend) { index in
                _ = try index.upsert(Self.entry("doc", Self.a))
                let hashes = (0..<16).map { ContentHash(hex: String(format: "%064x", $0 + 1))! }
                let made = Locked<[(expected: ContentHash, previous: ContentHash)]>([])
                DispatchQueue.concurrentPerform(iterations: hashes.count) { slot in
                    let hash = hashes[slot]
                    for _ in 0..<20 {
                        guard let expected = (try? index.entry(for: "doc"))??.hash else { continue }
                        if case .made(let previous?)? = try? index.upsert(Self.entry("doc", hash), ifNaming: expected) {
                            made.withLock { $0.append((expected, previous.hash)) }
                            return
                        }
                    }
                }
                let changes = made.withLock { $0 }
                #expect(!changes.isEmpty)
                // What each change replaced is what it expected, and no two replaced the same state.
                #expect(changes.allSatisfy { $0.expected == $0.previous })
                #expect(Set(changes.map(\.previous.hex)).count == changes.count)
            }
        }
    }
}
