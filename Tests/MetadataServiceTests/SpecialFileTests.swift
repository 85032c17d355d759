// What the readers of input files do with a path that is not a regular file: `InputFile.read` (batch, uploads,
// `picpipe thumbnail`) and `MetadataReader` (`picpipe metadata`). A named pipe is refused at once instead of blocking
// the reader until something writes to it; a device, a folder, and a link where links are not to be followed, are
// refused with their kind.
import Foundation
import MetadataService
import PipelineCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

struct SpecialFileTests {
    /// A fresh folder holding a named pipe, removed after `body`. Without the refusal a read would wait for a
    /// writer: one opens the pipe after 3 s and closes it, so that such a read ends (empty) and the test fails
    /// instead of hanging.
    static func withPipe(_ body: (_ folder: URL, _ pipe: String) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("picpipe-pipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let pipe = folder.appendingPathComponent("pipe.jpg").path
        try #require(mkfifo(pipe, 0o644) == 0)
        let unblocker = Thread {
            Thread.sleep(forTimeInterval: 3)
            let fd = open(pipe, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        unblocker.start()
        try body(folder, pipe)
    }

    /// The kind `InputFile.read` refuses the path as; nil when it reads it.
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

    @Test func anInputFileThatIsNotAFileIsRefusedWithItsKind() throws {
        try Self.withPipe { folder, pipe in
            #expect(Self.kind(of: pipe) == "a named pipe (FIFO)")
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

    @Test func theMetadataReaderRefusesAPipeOrDeviceWithItsKind() throws {
        try Self.withPipe { _, pipe in
            for (path, kind) in [(pipe, "a named pipe (FIFO)"), ("/dev/zero", "a character device")] {
                #expect(throws: MetadataError.unreadableFile(path: path, reason: "\(kind), not a regular file")) {
                    try MetadataReader.read(fileAt: path, hash: false, includeRaw: false)
                }
            }
        }
    }
}
