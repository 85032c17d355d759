// The read lease an upload is ingested under: a writer who comes meanwhile is seen, and the upload is left for it.
import Foundation
import Testing

@testable import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct LeasedUploadTests {
    static let first = Data([UInt8](repeating: 1, count: 4096))
    static let second = Data([UInt8](repeating: 2, count: 8192))

    /// A folder with one upload, `first`'s bytes, removed after `body`.
    static func withUpload(_ body: (String) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("picpipe-lease-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("x.jpg").path
        try first.write(to: URL(fileURLWithPath: path))
        settle(path)
        try body(path)
    }

    /// Dates `path`'s last change 10 s back: settled, as an upload taken without a lease must be.
    static func settle(_ path: String) {
        let past = timespec(tv_sec: time(nil) - 10, tv_nsec: 0)
        _ = [past, past].withUnsafeBufferPointer { utimensat(AT_FDCWD, path, $0.baseAddress, 0) }
    }

    /// Rewrites `path` as `cp` over it does (open with O_TRUNC, write, close) on a thread of its own: its open
    /// waits while a lease is held. Signals `done` once closed.
    static func rewrite(_ path: String, done: DispatchSemaphore) {
        let thread = Thread {
            let fd = open(path, O_WRONLY | O_TRUNC)
            if fd >= 0 {
                _ = second.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
            }
            done.signal()
        }
        thread.start()
    }

    /// With the lease (this process owns the file): the writer's open waits, the ingest sees it coming, does not
    /// remove the upload, and once the lease goes the writer's bytes land under the upload's name.
    @Test func aWriterWhoComesDuringTheIngestIsSeenAndTheUploadLeftForIt() throws {
        try Self.withUpload { path in
            let upload = try LeasedUpload(path: path)
            #expect(try upload.read(hashing: false).data == Self.first)
            #expect(!upload.writerCame)
            let done = DispatchSemaphore(value: 0)
            Self.rewrite(path, done: done)
            var seen = false
            for _ in 0..<400 where !seen {
                seen = upload.writerCame
                if !seen { usleep(25_000) }
            }
            #expect(seen, "the writer's open is seen")
            #expect(done.wait(timeout: .now() + 0.2) == .timedOut, "the writer waits while the lease is held")
            #expect(upload.remove() == nil)
            #expect(FileManager.default.fileExists(atPath: path), "left for the writer")
            upload.release()
            #expect(done.wait(timeout: .now() + 30) == .success)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Self.second)
        }
    }

    /// Unwritten, the upload is removed; a file open for writing is not taken at all.
    @Test(arguments: [true, false])
    func anUnwrittenUploadIsRemovedAndAnOpenOneNotTaken(lease: Bool) throws {
        try Self.withUpload { path in
            let upload = try LeasedUpload(path: path, lease: lease)
            #expect(try upload.read(hashing: false).data == Self.first)
            #expect(!upload.writerCame)
            #expect(upload.remove() == nil)
            #expect(!FileManager.default.fileExists(atPath: path))
            upload.release()
            let folder = (path as NSString).deletingLastPathComponent
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty, "nothing left aside")

            try Self.first.write(to: URL(fileURLWithPath: path))
            Self.settle(path)
            let fd = open(path, O_WRONLY)
            try #require(fd >= 0)
            defer { close(fd) }
            #expect(throws: LeasedUpload.BeingWritten.self) { _ = try LeasedUpload(path: path, lease: lease) }
        }
    }

    /// Without a lease (picpipe's user neither owns the file nor has CAP_LEASE; NFS): a rewrite during the ingest
    /// is seen by the file's changed size and time, and the upload is left.
    @Test func withoutALeaseARewriteIsSeenByItsChange() throws {
        try Self.withUpload { path in
            let upload = try LeasedUpload(path: path, lease: false)
            #expect(try upload.read(hashing: false).data == Self.first)
            let done = DispatchSemaphore(value: 0)
            Self.rewrite(path, done: done)
            #expect(done.wait(timeout: .now() + 30) == .success, "no lease: the writer does not wait")
            #expect(upload.writerCame)
            #expect(upload.remove() == nil)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Self.second)
        }
    }

    /// Without a lease, an upload changed less than `settleTime` ago is not read yet (a writer paused between two
    /// writes would not be seen): the ingest says so, and its lane looks at it again after that time.
    @Test func withoutALeaseAFreshlyChangedUploadIsLookedAtAgainLater() throws {
        try Self.withUpload { path in
            try Self.first.write(to: URL(fileURLWithPath: path))
            #expect(throws: LeasedUpload.Unsettled.self) { _ = try LeasedUpload(path: path, lease: false) }
            Self.settle(path)
            #expect(try LeasedUpload(path: path, lease: false).read(hashing: false).data == Self.first)
            // With a lease a writer cannot go unseen: a fresh file is read at once.
            try Self.first.write(to: URL(fileURLWithPath: path))
            #expect(try LeasedUpload(path: path).read(hashing: false).data == Self.first)
        }
    }
}
