import Foundation
import Logging
import Testing

@testable import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct IngestLanesTests {
    /// Writes `bytes` to `path` as `cp` does: truncating a file already there, then closing it.
    static func copy(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        try #require(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count)
    }

    /// The kernel announces a writer's close (`IN_CLOSE_WRITE`) before it drops that writer's write access, so the
    /// ingest the event starts may find the upload still open for writing, with no event to follow. Here the event
    /// (`submit`) comes while a writer still holds the file, which it then closes: the lane looks at the upload
    /// again and takes it. Until session 36 it was skipped, left for a close event that had already come.
    @Test func anUploadStillHeldForWritingWhenItsEventComesIsLookedAtAgain() async throws {
        let (ingest, runtime) = try UploadIngestTests.makeIngest()
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let upload = runtime.layout.uploads.appendingPathComponent("held.png")
        try Self.copy(UploadIngestTests.smallPNG, to: upload.path)
        let writer = open(upload.path, O_WRONLY)
        try #require(writer >= 0)
        let lanes = IngestLanes(ingest: ingest)
        // The writer lets go 0.2 s from now, on a thread of its own: only so the first look comes while it holds the
        // file (should it come later, it takes the file either way). Not a task: when the whole suite starts at once
        // the tasks may wait longer than all the lane's looks (seen in CI), and the writer would outlast them.
        let release = Thread {
            usleep(200_000)
            close(writer)
        }
        release.start()
        await lanes.submit(upload)
        await lanes.drain()
        #expect(!FileManager.default.fileExists(atPath: upload.path))
        #expect(try runtime.journal.events(after: 0, limit: 10).map(\.sourceName) == ["held.png"])
    }

    /// A picture copied twice quickly over one name (`cp a U/x.jpg; cp a U/x.jpg`): the second close's event comes
    /// a moment before the kernel drops that writer's write access (ext4 flushes a truncated-and-rewritten file on
    /// close, in between), so the lease is refused as if a writer were still at it. Until session 36 that upload was
    /// skipped, and with no rescan it stayed in uploads/ for good (3 in 30 in the tester's run).
    @Test func aPictureCopiedTwiceOverOneNameIsIngestedWithoutARescan() async throws {
        let (ingest, runtime) = try UploadIngestTests.makeIngest()
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let watcher = UploadWatcher(root: runtime.layout.uploads, rescanInterval: 0, logger: logger)
        try watcher.start()
        let lanes = IngestLanes(ingest: ingest)
        let consumer = Task {
            for await file in watcher.files { await lanes.submit(file) }
            await lanes.drain()
        }
        defer { watcher.stop() }
        // Let the start's rescan add its watches before the first copy.
        let marker = runtime.layout.uploads.appendingPathComponent("started.png").path
        try Self.copy(UploadIngestTests.smallPNG, to: marker)
        try await FunctionRuntimeTests.eventually("the watcher started") {
            !FileManager.default.fileExists(atPath: marker)
        }

        // One name at a time, each copied twice while the ingest is idle and taken at the first close event: as in
        // the tester's run, where a few in 30 stayed.
        let copies = 30
        for number in 0..<copies {
            let picture =
                UploadIngestTests.pngSignature + [UInt8](repeating: UInt8(number), count: 900 * 1024)
                + UploadIngestTests.iend
            let path = runtime.layout.uploads.appendingPathComponent("twice-\(number).png").path
            try Self.copy(picture, to: path)
            try Self.copy(picture, to: path)
            try await FunctionRuntimeTests.eventually("twice-\(number).png ingested", within: 10) {
                !FileManager.default.fileExists(atPath: path)
            }
        }
        let names = try runtime.journal.events(after: 0, limit: 1000).count
        #expect(names == copies + 1)
        watcher.stop()
        await consumer.value
    }
}
