// A DELETE whose original cannot be removed (a read-only store) is refused with the store's error and changes
// nothing: until session 37 it answered 204, journaled the removal and left the picture fully served.
import FetchService
import Foundation
import PipelineCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.serialized)
struct UnremovableOriginalTests {
    /// Makes `folder` read-only by bind-mounting it onto itself read-only (root only). - Returns: false when it
    /// could not (not root): the test then checks nothing.
    static func makeReadOnly(_ folder: URL) -> Bool {
        guard mount(folder.path, folder.path, nil, UInt(MS_BIND), nil) == 0 else { return false }
        guard mount(nil, folder.path, nil, UInt(MS_REMOUNT | MS_BIND | MS_RDONLY), nil) == 0 else {
            umount2(folder.path, Int32(MNT_DETACH))
            return false
        }
        return true
    }

    /// The folder of the original of `sha256` (a JPEG) in `layout`.
    static func shardFolder(_ sha256: String, _ layout: StoreLayout) throws -> URL {
        let hash = try #require(ContentHash(hex: sha256))
        return layout.originals.appendingPathComponent(OriginalName.relativePath(hash: hash, format: .jpeg))
            .deletingLastPathComponent()
    }

    @Test func aDeleteThatCannotRemoveTheOriginalIsRefusedAndChangesNothing() async throws {
        try await FetchServer.with { client, layout in
            let journal = try SQLiteInvocationJournal(layout: layout)
            let bytes = try FetchServer.picture(seed: 93)
            let hash = bytes.withUnsafeBytes { ContentHash(of: $0) }.hex
            let put = try await client.send(
                "PUT", "/images/harbour", headers: [("Content-Type", "image/jpeg")], body: bytes)
            #expect(put.status == 201, "\(put.text)")
            try await RemovalEventTests.processed(hash, journal)
            let folder = try Self.shardFolder(hash, layout)
            guard Self.makeReadOnly(folder) else { return }
            let refused: HTTPAnswer
            do {
                defer { umount2(folder.path, Int32(MNT_DETACH)) }
                refused = try await client.send("DELETE", "/images/harbour")
            }
            #expect(refused.status == 503, "\(refused.text)")
            let code = (refused.json?["error"] as? [String: Any])?["code"] as? String
            #expect(code == "store_read_only", "\(refused.text)")

            // Nothing changed: the id, its original, thumbnail, metadata and listing, and no removal journaled.
            #expect(try await client.send("GET", "/images/harbour").status == 200)
            #expect(try await client.send("GET", "/images/harbour/thumbnails/64").status == 200)
            #expect(try await client.send("GET", "/images/harbour/metadata").status == 200)
            #expect(try await client.send("GET", "/images").text.contains("harbour"))
            #expect(try RemovalEventTests.removals(journal).isEmpty)

            // Once writable, the same DELETE removes it.
            #expect(try await client.send("DELETE", "/images/harbour").status == 204)
            #expect(try await client.send("GET", "/images/harbour").status == 404)
        }
    }
}
