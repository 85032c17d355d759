// What `InputFile.read` (batch, uploads, `picpipe thumbnail`) does with a path that is not a regular file: a named
// pipe is refused at once instead of blocking the reader until something writes to it; a device, a folder, and a
// link where links are not to be followed, are refused with their kind.
import Foundation
import Testing

@testable import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

struct InputFileTests {
    static func kind(of path: String, followLinks: Bool = true) -> String? {
        do {
            _ = try InputFile.read(path, maxBytes: nil, hashing: true, followLinks: followLinks)
            return nil
        } catch IngestError.notAFile(let file, let kind) {
            #expect(file == path)
            return kind
        } catch {
            Issue.record("\(path): \(error)")
            return nil
        }
    }

    /// Without the refusal the read would wait for a writer: one opens the pipe after 3 s and closes it, so that
    /// such a read ends (empty) and the test fails instead of hanging.
    @Test func aNamedPipeIsRefusedWithoutWaitingForAWriter() throws {
        let folder = try InputBuffersTests.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let pipe = folder.appendingPathComponent("pipe.jpg").path
        try #require(mkfifo(pipe, 0o644) == 0)
        let unblocker = Thread {
            Thread.sleep(forTimeInterval: 3)
            let fd = open(pipe, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        unblocker.start()
        #expect(Self.kind(of: pipe) == "a named pipe (FIFO)")
    }

    @Test func aDeviceAFolderAndAnUnfollowedLinkAreRefusedWithTheirKind() throws {
        let folder = try InputBuffersTests.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(Self.kind(of: "/dev/zero") == "a character device")
        #expect(Self.kind(of: folder.path) == "a folder")
        let picture = folder.appendingPathComponent("real.png").path
        try Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]).write(to: URL(fileURLWithPath: picture))
        let link = folder.appendingPathComponent("link.png").path
        try #require(symlink(picture, link) == 0)
        #expect(Self.kind(of: link, followLinks: false) == "a symbolic link")
        // Followed where links are (batch), to the file's own bytes.
        let read = try InputFile.read(link, maxBytes: nil, hashing: false, followLinks: true).data
        #expect(read == Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]))
    }
}
