// Sweeping temporary files: only what a dead writer left, never a live writer's file (a `batch` beside `serve`).
import Foundation
import Testing

@testable import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

struct TemporarySweepTests {
    @Test func temporaryNamesCarryTheirWriter() throws {
        let name = AtomicFile.temporaryName()
        let owner = try #require(TemporaryOwner.parse(name))
        #expect(owner == TemporaryOwner.current)
        let spool = try #require(TemporaryOwner.parse(AtomicFile.temporaryName(kind: "http-")))
        #expect(spool == TemporaryOwner.current)
        #expect(TemporaryOwner.parse(".picpipe-tmp-" + UUID().uuidString) == nil)
        #expect(TemporaryOwner.parse("photo.jpg") == nil)
    }

    @Test func aSweepKeepsLiveWritersFilesAndRemovesDeadOnes() throws {
        try StoreTests.withStore { layout in
            let folder = layout.thumbnails.appendingPathComponent("256/ab")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let host = TemporaryOwner.current.host
            // This process: alive. A pid no process has (beyond pid_max): dead. A parent process: alive.
            let mine = folder.appendingPathComponent(AtomicFile.temporaryName())
            let dead = folder.appendingPathComponent(".picpipe-tmp-\(host)-99999999-\(UUID().uuidString)")
            let parent = folder.appendingPathComponent(".picpipe-tmp-\(host)-\(getppid())-\(UUID().uuidString)")
            // Another host's fresh file stays (its writer may be alive over there); an old one goes.
            let foreignFresh = folder.appendingPathComponent(".picpipe-tmp-0badf00d-12-\(UUID().uuidString)")
            let foreignOld = folder.appendingPathComponent(".picpipe-tmp-0badf00d-13-\(UUID().uuidString)")
            let legacyOld = folder.appendingPathComponent(".picpipe-tmp-\(UUID().uuidString)")
            for url in [mine, dead, parent, foreignFresh, foreignOld, legacyOld] {
                try Data([1, 2, 3]).write(to: url)
            }
            let old = Date().addingTimeInterval(-2 * TemporaryOwner.foreignAge)
            for url in [foreignOld, legacyOld] {
                try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: url.path)
            }
            // A link to a folder outside the store is not followed: a dead writer's file there stays.
            let outside = FileManager.default.temporaryDirectory.appendingPathComponent("outside-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: outside) }
            let outsideDead = outside.appendingPathComponent(".picpipe-tmp-\(host)-99999999-\(UUID().uuidString)")
            try Data([4]).write(to: outsideDead)
            #expect(symlink(outside.path, layout.thumbnails.appendingPathComponent("link").path) == 0)
            #expect(AtomicFile.sweepTemporaries(in: layout.thumbnails) == 3)
            let left = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
            #expect(left == Set([mine, parent, foreignFresh].map(\.lastPathComponent)))
            #expect(FileManager.default.fileExists(atPath: outsideDead.path))
        }
    }

    @Test func migrationsRunOnceWhenManyOpenAFreshDatabaseTogether() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("migrate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("events.sqlite")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let failures = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    do {
                        _ = try SQLiteInvocationJournal(path: path)
                        return nil
                    } catch {
                        return "\(error)"
                    }
                }
            }
            var failures: [String] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        #expect(failures == [])
        let journal = try SQLiteInvocationJournal(path: path)
        _ = try journal.append(JournalTests.record(1), functions: ["a"], type: .event, deduplicate: false)
        #expect(try journal.invocations(state: .queued, function: nil, limit: 10).count == 1)
    }
}
