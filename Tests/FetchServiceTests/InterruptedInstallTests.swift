// An HTTP or S3 upload whose process was killed (kill -9) after its original was linked into originals/ but before
// its event was journaled: the next start finishes it. Until session 37 the original stayed for ever without an
// event, thumbnails or metadata, served by its hash yet missing from the listing.
import FetchService
import Foundation
import PipelineCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.serialized)
struct InterruptedInstallTests {
    /// Writes what a process killed inside `ContentLifecycle.install` leaves: its spool file in uploads/, named by a
    /// writer that is gone, linked as the content's original, and no event.
    static func leaveKilledInstall(of bytes: [UInt8], in layout: StoreLayout, spoolName: String) throws {
        let hash = bytes.withUnsafeBytes { ContentHash(of: $0) }
        let spool = layout.uploads.appendingPathComponent(spoolName).path
        try Data(bytes).write(to: URL(fileURLWithPath: spool))
        let original = layout.originals.appendingPathComponent(OriginalName.relativePath(hash: hash, format: .jpeg))
        try Folder.create(original.deletingLastPathComponent())
        #expect(link(spool, original.path) == 0)
    }

    /// A spool file's name as a process on this host that is gone wrote it (a process id above Linux's largest).
    static func deadWritersSpoolName() -> String {
        AtomicFile.temporaryPrefix + "http-" + "\(TemporaryOwner.current.host)-\(Int32.max - 1)-" + UUID().uuidString
    }

    /// The `ObjectCreated` invocations journaled for `sha256`.
    static func creations(_ sha256: String, _ journal: SQLiteInvocationJournal) throws -> [InvocationSummary] {
        try journal.invocations(state: nil, function: nil, limit: 100).filter {
            $0.key.contains(sha256) && $0.eventName.hasPrefix("ObjectCreated")
        }
    }

    @Test func aKilledInstallIsFinishedAtTheNextStart() async throws {
        let bytes = try FetchServer.picture(seed: 91)
        let id = bytes.withUnsafeBytes { ContentHash(of: $0) }.hex
        let spoolName = Self.deadWritersSpoolName()
        let killed: (StoreLayout) throws -> Void = { layout in
            try Self.leaveKilledInstall(of: bytes, in: layout, spoolName: spoolName)
        }
        try await FetchServer.with(prepare: killed) { client, layout in
            let journal = try SQLiteInvocationJournal(layout: layout)
            try await RemovalEventTests.processed(id, journal)
            let creations = try Self.creations(id, journal)
            #expect(Set(creations.map(\.eventID)).count == 1, "one event")
            #expect(creations.allSatisfy { $0.sourceName == id })
            #expect(try await client.send("GET", "/images/\(id)/thumbnails/64").status == 200)
            let listing = try await client.send("GET", "/images")
            #expect(listing.text.contains(id), "listed: \(listing.text)")
            let path = layout.uploads.appendingPathComponent(spoolName).path
            #expect(access(path, F_OK) != 0, "the spool file is gone once the install is finished")
        }
    }

    @Test func aKilledInstallWhoseEventWasJournaledIsNotJournaledAgain() async throws {
        let bytes = try FetchServer.picture(seed: 92)
        let id = bytes.withUnsafeBytes { ContentHash(of: $0) }.hex
        let killedAfterTheCommit: (StoreLayout) throws -> Void = { layout in
            try Self.leaveKilledInstall(of: bytes, in: layout, spoolName: Self.deadWritersSpoolName())
            // Killed after the journal's commit, before the spool file went.
            let record = S3EventRecord(
                name: .objectCreatedPut, bucket: layout.root.lastPathComponent,
                key: "originals/" + OriginalName.relativePath(hash: ContentHash(hex: id)!, format: .jpeg),
                size: bytes.count, eTag: id, sequence: 0, sourceName: id)
            _ = try SQLiteInvocationJournal(layout: layout).append(
                record, functions: ["thumbnail", "metadata"], type: .event, deduplicate: false)
        }
        try await FetchServer.with(prepare: killedAfterTheCommit) { _, layout in
            let journal = try SQLiteInvocationJournal(layout: layout)
            try await ContentLockTests.until {
                let made = (try? Self.creations(id, journal)) ?? []
                return made.count >= 2 && made.allSatisfy { $0.state == "succeeded" }
            }
            #expect(Set(try Self.creations(id, journal).map(\.eventID)).count == 1, "one event")
        }
    }
}
