import Foundation
import Testing

@testable import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct UploadIngestTests {
    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// A PNG's last chunk: an upload that does not end with it was closed half-written, or is not whole.
    static let iend: [UInt8] = [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]
    /// Bytes that pass for a whole PNG where only the ends are looked at.
    static let smallPNG = pngSignature + [1, 2, 3] + iend

    static func makeIngest() throws -> (UploadIngest, FunctionRuntime) {
        let runtime = try FunctionRuntimeTests.makeRuntime([
            RegisteredFunction(RecordingFunction(tally: Tally()), configuration: FunctionConfiguration())
        ])
        let ingest = UploadIngest(
            layout: runtime.layout, runtime: runtime, maxFileBytes: 1 << 20, logger: .init(label: "test"))
        return (ingest, runtime)
    }

    @Test func anUploadBecomesAnOriginalAndOneQueuedEventThenLeavesUploads() throws {
        let (ingest, runtime) = try Self.makeIngest()
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let folder = runtime.layout.uploads.appendingPathComponent("trip")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let upload = folder.appendingPathComponent("a.png")
        try Data(Self.smallPNG).write(to: upload)
        guard case .ingested(let eventID, let key, let duplicate) = ingest.ingest(upload) else {
            Issue.record("not ingested")
            return
        }
        #expect(!duplicate)
        #expect(!FileManager.default.fileExists(atPath: upload.path))
        #expect(FileManager.default.fileExists(atPath: runtime.layout.root.appendingPathComponent(key).path))
        let event = try #require(try runtime.journal.event(id: eventID))
        #expect(event.record.eventName == .objectCreatedPut)
        #expect(event.record.s3.object.sourceName == "trip/a.png")
        #expect(event.record.s3.bucket.name == runtime.layout.root.lastPathComponent)
        #expect(try runtime.journal.invocations(state: .queued, function: "recorder", limit: 10).count == 1)

        // The same upload again (a crash before its removal, then a rescan) journals nothing new.
        try Data(Self.smallPNG).write(to: upload)
        #expect(ingest.ingest(upload) == .ingested(eventID: eventID, key: key, duplicate: true))
        #expect(try runtime.journal.invocations(state: nil, function: nil, limit: 10).count == 1)
        #expect(ingest.ingest(upload) == .skipped)
    }

    @Test func aFileThatIsNotAnImageGoesToFailedWithItsReason() throws {
        let (ingest, runtime) = try Self.makeIngest()
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let upload = runtime.layout.uploads.appendingPathComponent("notes.txt")
        try Data("hello".utf8).write(to: upload)
        guard case .rejected(let name, let reason) = ingest.ingest(upload) else {
            Issue.record("not rejected")
            return
        }
        #expect(name == "notes.txt")
        #expect(reason.contains("not a JPEG, PNG, WebP, GIF, HEIC or AVIF"))
        #expect(!FileManager.default.fileExists(atPath: upload.path))
        let failed = runtime.layout.failed
        #expect(try Data(contentsOf: failed.appendingPathComponent("notes.txt")) == Data("hello".utf8))
        let letter = try JSONDecoder().decode(
            DeadLetter.self, from: try Data(contentsOf: failed.appendingPathComponent("notes.txt.error.json")))
        #expect(letter.stage == "ingest")
        #expect(try runtime.journal.invocations(state: nil, function: nil, limit: 10).isEmpty)
    }

    /// A symbolic link is not followed, whatever it names (a picture, a secret, a device that never ends): it is
    /// refused with its target named in failed/, removed from uploads/, and nothing else is touched. Before, it was
    /// passed over without a word and stayed in uploads/.
    @Test func aSymbolicLinkIsRefusedNotFollowed() throws {
        let (ingest, runtime) = try Self.makeIngest()
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let picture = runtime.layout.root.appendingPathComponent("elsewhere.png")
        try Data(Self.smallPNG).write(to: picture)
        for (name, target) in [("picture.png", picture.path), ("zero.jpg", "/dev/zero"), ("gone.jpg", "/nonexistent")] {
            let link = runtime.layout.uploads.appendingPathComponent(name)
            #expect(symlink(target, link.path) == 0)
            guard case .rejected(let failedName, let reason) = ingest.ingest(link) else {
                Issue.record("\(name) not rejected")
                continue
            }
            #expect(
                reason
                    == "\(name): a symbolic link (to \(target)); only files themselves are taken from uploads/: copy the file there"
            )
            var info = stat()
            #expect(lstat(link.path, &info) != 0, "the link is removed")
            let failed = runtime.layout.failed
            #expect(!FileManager.default.fileExists(atPath: failed.appendingPathComponent(failedName).path))
            let letter = try JSONDecoder().decode(
                DeadLetter.self, from: Data(contentsOf: failed.appendingPathComponent(failedName + ".error.json")))
            #expect(letter.error == reason && letter.file == name)
        }
        #expect(try Data(contentsOf: picture) == Data(Self.smallPNG))
        #expect(try FileManager.default.contentsOfDirectory(atPath: runtime.layout.originals.path).isEmpty)
        #expect(try runtime.journal.invocations(state: nil, function: nil, limit: 10).isEmpty)
    }

    /// A named pipe, a socket or a device node holds no bytes of its own: it is refused with its kind named in
    /// failed/ and removed from uploads/, never opened for a read that would wait for a writer (before, it was
    /// passed over without a word and stayed). A regular file whose place a link took after it was seen is not read
    /// through the link.
    @Test func aPipeOrSocketIsRefusedWithItsKind() throws {
        let (ingest, runtime) = try Self.makeIngest()
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let pipe = runtime.layout.uploads.appendingPathComponent("pipe.jpg")
        #expect(mkfifo(pipe.path, 0o644) == 0)
        let socketPath = runtime.layout.uploads.appendingPathComponent("socket.png")
        let server = try Self.boundSocket(at: socketPath.path)
        defer { close(server) }
        for (upload, kind) in [(pipe, "a named pipe (FIFO)"), (socketPath, "a socket")] {
            let name = upload.lastPathComponent
            guard case .rejected(let failedName, let reason) = ingest.ingest(upload) else {
                Issue.record("\(name) not rejected")
                continue
            }
            #expect(reason == "\(name): \(kind), not a regular file; only files are taken from uploads/")
            var info = stat()
            #expect(lstat(upload.path, &info) != 0, "\(name) is removed")
            let failed = runtime.layout.failed
            let node = failed.appendingPathComponent(failedName).path
            #expect(lstat(node, &info) != 0, "nothing but the letter in failed/")
            let letter = try JSONDecoder().decode(
                DeadLetter.self, from: Data(contentsOf: failed.appendingPathComponent(failedName + ".error.json")))
            #expect(letter.error == reason && letter.file == name)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: runtime.layout.originals.path).isEmpty)
        #expect(try runtime.journal.invocations(state: nil, function: nil, limit: 10).isEmpty)
    }

    /// A copy over an upload still waiting (`cp` again, an editor saving twice) truncates and rewrites it in place.
    /// While its writer has it open it is not read: before, it was read then, and half a picture was stored (dead
    /// letters), or an emptied one refused as empty and moved to failed/ under its writer. Once the writer closed
    /// it, the whole new version is ingested.
    @Test func anUploadStillOpenForWritingIsLeftForItsWritersClose() throws {
        let (ingest, runtime) = try Self.makeIngest()
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let upload = runtime.layout.uploads.appendingPathComponent("again.png")
        try Data(Self.smallPNG).write(to: upload)
        let second = Data(Self.pngSignature + [UInt8](repeating: 7, count: 1000) + Self.iend)
        let fd = open(upload.path, O_WRONLY | O_TRUNC)
        try #require(fd >= 0)
        var closed = false
        defer { if !closed { close(fd) } }
        // Emptied, then half written: left alone both times (to be looked at again).
        #expect(ingest.ingest(upload) == .beingWritten)
        let half = second.prefix(500)
        #expect(half.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == half.count)
        #expect(ingest.ingest(upload) == .beingWritten)
        #expect(try Data(contentsOf: upload) == half)
        #expect(try FileManager.default.contentsOfDirectory(atPath: runtime.layout.failed.path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: runtime.layout.originals.path).isEmpty)
        #expect(try runtime.journal.invocations(state: nil, function: nil, limit: 10).isEmpty)
        // Closed: the whole of it.
        let rest = second.dropFirst(500)
        #expect(rest.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == rest.count)
        close(fd)
        closed = true
        guard case .ingested(_, let key, _) = ingest.ingest(upload) else {
            Issue.record("not ingested once closed")
            return
        }
        #expect(try Data(contentsOf: runtime.layout.root.appendingPathComponent(key)) == second)
        #expect(!FileManager.default.fileExists(atPath: upload.path))
    }

    /// Some writers create a file, close it, and open it again to fill it: an empty upload is refused only once it
    /// stayed empty for `emptySettleTime` (until then it is looked at again); before, the first close refused it
    /// and moved it to failed/, where the second open then wrote.
    @Test func anEmptyUploadIsRefusedOnlyOnceItStayedEmpty() throws {
        let (ingest, runtime) = try Self.makeIngest()
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let upload = runtime.layout.uploads.appendingPathComponent("empty.jpg")
        try Data().write(to: upload)
        #expect(ingest.ingest(upload) == .unsettled)
        #expect(FileManager.default.fileExists(atPath: upload.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: runtime.layout.failed.path).isEmpty)
        let past = timespec(tv_sec: time(nil) - 3, tv_nsec: 0)
        _ = [past, past].withUnsafeBufferPointer { utimensat(AT_FDCWD, upload.path, $0.baseAddress, 0) }
        #expect(ingest.ingest(upload) == .rejected(failedName: "empty.jpg", reason: "empty.jpg: the file is empty"))
        #expect(!FileManager.default.fileExists(atPath: upload.path))
    }

    /// A picture closed half-written (its head, then the rest appended after another open) waits until it stayed
    /// unchanged for `incompleteSettleTime`; a whole one is taken at its close. Until session 29 the head was
    /// ingested and refused as truncated, and the rest became an upload of its own, refused as no picture.
    @Test(arguments: UploadIngestTests.partialPictures)
    func aPictureClosedHalfWrittenWaitsForTheRest(format: String, whole: [UInt8], cut: Int) throws {
        let (ingest, runtime) = try Self.makeIngest()
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let upload = runtime.layout.uploads.appendingPathComponent("resumed.\(format)")
        try Data(whole[..<cut]).write(to: upload)
        #expect(ingest.ingest(upload) == .unsettled, "\(format) cut at \(cut)")
        #expect(FileManager.default.fileExists(atPath: upload.path))
        let handle = try FileHandle(forWritingTo: upload)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(whole[cut...]))
        try handle.close()
        guard case .ingested(_, let key, _) = ingest.ingest(upload) else {
            Issue.record("the whole \(format) was not taken at its close")
            return
        }
        #expect(try Data(contentsOf: runtime.layout.root.appendingPathComponent(key)) == Data(whole))
        #expect(try FileManager.default.contentsOfDirectory(atPath: runtime.layout.failed.path).isEmpty)
    }

    /// A picture that stays cut (a copy that died) is taken once unchanged for `incompleteSettleTime`: its refusal
    /// then says what is wrong with it, as before.
    @Test func aPictureThatStaysCutIsTakenOnceSettled() throws {
        let (ingest, runtime) = try Self.makeIngest()
        defer { try? FileManager.default.removeItem(at: runtime.layout.root) }
        let upload = runtime.layout.uploads.appendingPathComponent("cut.png")
        try Data(Self.pngSignature + [1, 2, 3]).write(to: upload)
        #expect(ingest.ingest(upload) == .unsettled)
        let past = timespec(tv_sec: time(nil) - 3, tv_nsec: 0)
        _ = [past, past].withUnsafeBufferPointer { utimensat(AT_FDCWD, upload.path, $0.baseAddress, 0) }
        guard case .ingested = ingest.ingest(upload) else {
            Issue.record("a settled cut picture is not taken")
            return
        }
    }

    /// Whole pictures of every format (only their structure matters here) and where each is cut: a JPEG inside its
    /// scan, after an EXIF thumbnail's end-of-image marker; a PNG before `IEND`; a GIF before its trailer; a WebP
    /// short of its RIFF length; a HEIF inside its `mdat`.
    static let partialPictures: [(String, [UInt8], Int)] = {
        let thumbnail: [UInt8] = [0xFF, 0xD8, 0xFF, 0xD9]
        let app1: [UInt8] = [0xFF, 0xE1, 0x00, UInt8(2 + 6 + thumbnail.count)] + Array("Exif\0\0".utf8) + thumbnail
        let scan: [UInt8] = [0xFF, 0xDA, 0x00, 0x02] + [UInt8](repeating: 0x55, count: 6000)
        let jpeg: [UInt8] = [0xFF, 0xD8] + app1 + scan + [0xFF, 0xD9]
        let png = pngSignature + [UInt8](repeating: 9, count: 5000) + iend
        let gif = Array("GIF89a".utf8) + [UInt8](repeating: 1, count: 300) + [0x3B]
        let body = Array("WEBP".utf8) + [UInt8](repeating: 2, count: 400)
        let length = UInt32(body.count)
        let webp = Array("RIFF".utf8) + withUnsafeBytes(of: length.littleEndian, Array.init) + body
        let ftyp: [UInt8] = [0, 0, 0, 16] + Array("ftypheic".utf8) + [0, 0, 0, 0]
        let mdat: [UInt8] = [0, 0, 0x10, 8] + Array("mdat".utf8) + [UInt8](repeating: 3, count: 0x1000)
        return [
            ("jpg", jpeg, app1.count + 2 + 3000), ("png", png, 2000), ("gif", gif, 200), ("webp", webp, 300),
            ("heic", ftyp + mdat, 1000),
        ]
    }()

    /// A Unix socket bound at `path` (its file-system entry is the socket).
    static func boundSocket(at path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(bound == 0, "bind \(path): errno \(errno)")
        return fd
    }
}
