// The store: atomic writes, content addresses, role-scoped handles, ingest, dead letters.
import Foundation
import ImageCore
import Locking
import Testing

@testable import PipelineCore

struct StoreTests {
    static func withStore(_ body: (StoreLayout) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let layout = StoreLayout(root: root)
        try layout.createFolders()
        try body(layout)
    }

    /// Runs `body` on `count` threads of its own, released together once all of them have started (a thread pool
    /// would run them two by two on two cores, one after the other's end).
    static func together(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let arrived = Locked(0)
        let done = DispatchGroup()
        for index in 0..<count {
            done.enter()
            Thread {
                arrived.withLock { $0 += 1 }
                while arrived.withLock({ $0 }) < count { sched_yield() }
                body(index)
                done.leave()
            }.start()
        }
        done.wait()
    }

    static let pngBytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]

    @Test func contentHashIsSHA256() {
        let hash = Array("abc".utf8).withUnsafeBytes { ContentHash(of: $0) }
        #expect(hash.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hash.shard == "ba")
        #expect(ContentHash(hex: hash.hex.uppercased()) == hash)
        #expect(ContentHash(hex: "../etc/passwd") == nil)
    }

    @Test func atomicWriteLeavesNoTemporaries() throws {
        try Self.withStore { layout in
            let target = layout.thumbnails.appendingPathComponent("256/ab/file.jpg")
            #expect(try AtomicFile.write([1, 2, 3], to: target))
            #expect(try Data(contentsOf: target) == Data([1, 2, 3]))
            #expect(try AtomicFile.write([4, 5], to: target))
            #expect(try Data(contentsOf: target) == Data([4, 5]))
            #expect(try AtomicFile.write([9], to: target, overwrite: false) == false)
            #expect(try Data(contentsOf: target) == Data([4, 5]))
            let names = try FileManager.default.contentsOfDirectory(atPath: target.deletingLastPathComponent().path)
            #expect(names == ["file.jpg"])
        }
    }

    @Test func sweepRemovesCrashLeftovers() throws {
        try Self.withStore { layout in
            let folder = layout.originals.appendingPathComponent("ab")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            // Written by a process of this host that no longer runs (a pid above any pid_max).
            let name = AtomicFile.temporaryPrefix + "\(TemporaryOwner.current.host)-99999999-\(UUID().uuidString)"
            let leftover = folder.appendingPathComponent(name)
            try Data([1]).write(to: leftover)
            #expect(AtomicFile.sweepTemporaries(in: layout.originals) == 1)
            #expect(!FileManager.default.fileExists(atPath: leftover.path))
        }
    }

    @Test func handlesGrantOnlyTheRole() throws {
        try Self.withStore { layout in
            let handles = layout.handles(
                for: FunctionRole(read: [.originals], write: [.thumbnails]), function: "thumbnail")
            #expect(throws: StoreError.accessDenied(area: .metadata, access: .read, function: "thumbnail")) {
                try handles.handle(.metadata)
            }
            #expect(throws: StoreError.accessDenied(area: .originals, access: .write, function: "thumbnail")) {
                try handles.handle(.originals, .write)
            }
            let originals = try handles.handle(.originals)
            #expect(throws: StoreError.accessDenied(area: .originals, access: .write, function: "thumbnail")) {
                try originals.write([1], to: "ab/x.jpg")
            }
            let thumbnails = try handles.handle(.thumbnails, .write)
            try thumbnails.write([7], to: "256/ab/x.jpg")
            #expect(try thumbnails.read("256/ab/x.jpg") == Data([7]))
        }
    }

    @Test(arguments: ["../x", "a/../../x", "/etc/passwd", "a//b", "", "a/\0b", "./a"])
    func handlesRefusePathsOutsideTheArea(path: String) throws {
        try Self.withStore { layout in
            let thumbnails = try layout.handles(for: FunctionRole(write: [.thumbnails]), function: "t").handle(
                .thumbnails, .write)
            #expect(throws: StoreError.pathOutsideArea(path: path, area: .thumbnails)) { try thumbnails.url(path) }
        }
    }

    @Test func ingestIsContentAddressedAndIdempotent() throws {
        try Self.withStore { layout in
            let originals = try layout.handles(for: FunctionRole(write: [.originals]), function: "ingest")
                .handle(.originals, .write)
            let first = try OriginalIngest.ingest(Data(Self.pngBytes), name: "a.jpg", maxBytes: 100, into: originals)
            #expect(first.format == .png)  // sniffed from the bytes, not the name
            #expect(first.relativePath == "\(first.hash.shard)/\(first.hash.hex).png")
            #expect(first.alreadyStored == false)
            let second = try OriginalIngest.ingest(Data(Self.pngBytes), name: "b.png", maxBytes: 100, into: originals)
            #expect(second.alreadyStored)
            #expect(second.hash == first.hash)
            #expect(throws: IngestError.notAnImage(file: "x.jpg")) {
                try OriginalIngest.ingest(Data("<html>".utf8), name: "x.jpg", maxBytes: 100, into: originals)
            }
            #expect(throws: IngestError.tooLarge(file: "big.png", bytes: 11, limit: 10)) {
                try OriginalIngest.ingest(Data(Self.pngBytes), name: "big.png", maxBytes: 10, into: originals)
            }
        }
    }

    @Test func deadLetterKeepsFileAndReason() throws {
        try Self.withStore { layout in
            let failed = try layout.handles(for: FunctionRole(write: [.failed]), function: "batch").handle(
                .failed, .write)
            let letter = DeadLetter(file: "in/a.jpg", error: "corrupt JPEG data", stage: "batch")
            #expect(try letter.store(bytes: Data([1, 2]), name: "in/a.jpg", in: failed) == "a.jpg")
            // The same bytes again reuse the slot; other bytes under the same name get a numbered one.
            #expect(try letter.store(bytes: Data([1, 2]), name: "in/a.jpg", in: failed) == "a.jpg")
            #expect(try letter.store(bytes: Data([3]), name: "other/a.jpg", in: failed) == "a.1.jpg")
            let json = try JSONDecoder().decode(DeadLetter.self, from: failed.read("a.jpg.error.json"))
            #expect(json.error == "corrupt JPEG data")
            #expect(json.file == "in/a.jpg")
            #expect(try failed.list().sorted() == ["a.1.jpg", "a.1.jpg.error.json", "a.jpg", "a.jpg.error.json"])
        }
    }

    /// A name too long for `failed/` once `.error.json` is added (file names have 255 bytes) is shortened before
    /// its extension, at a character's boundary; the record keeps the whole name. Before, such a rejected upload
    /// could not be moved to `failed/` and stayed in `uploads/`, refused again at every rescan.
    @Test func aLongNameIsShortenedToFitBesideItsRecord() throws {
        try Self.withStore { layout in
            let failed = try layout.handles(for: FunctionRole(write: [.failed]), function: "ingest").handle(
                .failed, .write)
            let long = "trip/" + String(repeating: "é", count: 123) + ".jpeg"  // 251 bytes
            let letter = DeadLetter(file: long, error: "not a picture", stage: "ingest")
            let first = try letter.store(bytes: Data([1]), name: long, in: failed)
            #expect(first.utf8.count == 199 && first.hasSuffix("é.jpeg"))  // 97 é (194 bytes) + ".jpeg"
            let second = try DeadLetter(file: long + "x", error: "not a picture", stage: "ingest")
                .store(bytes: Data([2]), name: long, in: failed)
            #expect(second == String(first.dropLast(5)) + ".1.jpeg")
            #expect(try failed.read(second) == Data([2]))
            let record = try JSONDecoder().decode(DeadLetter.self, from: failed.read(first + ".error.json"))
            #expect(record.file == long)
            #expect(DeadLetter.safeName(String(repeating: "a", count: 300)).utf8.count == DeadLetter.maxNameBytes)
        }
    }

    /// Failures of the same name at the same time (two folders' IMG_0001.JPG, batched or ingested side by side) each
    /// keep their own slot: bytes and record of one never overwrite the other's. With and without bytes (an upload
    /// is renamed into its slot after its record).
    @Test(arguments: [true, false]) func simultaneousFailuresOfOneNameKeepASlotEach(withBytes: Bool) throws {
        try Self.withStore { layout in
            let failed = try layout.handles(for: FunctionRole(write: [.failed]), function: "batch").handle(
                .failed, .write)
            let count = 8
            for round in 0..<20 {
                let chosen = Locked([String?](repeating: nil, count: count))
                Self.together(count) { index in
                    let letter = DeadLetter(file: "r\(round)/folder\(index)/IMG_0001.JPG", error: "bad", stage: "batch")
                    let name = try? letter.store(
                        bytes: withBytes ? Data("round \(round) file \(index)".utf8) : nil,
                        name: "folder\(index)/IMG_0001.JPG", in: failed)
                    chosen.withLock { $0[index] = name }
                }
                let slots = chosen.withLock { $0 }
                #expect(Set(slots.compactMap { $0 }).count == count, "round \(round): \(slots)")
                for (index, slot) in slots.enumerated() {
                    guard let name = slot else { continue }
                    let record = try JSONDecoder().decode(DeadLetter.self, from: failed.read(name + ".error.json"))
                    #expect(record.file == "r\(round)/folder\(index)/IMG_0001.JPG")
                    if withBytes { #expect(try failed.read(name) == Data("round \(round) file \(index)".utf8)) }
                }
            }
        }
    }
}

struct TimestampTests {
    /// The shared formatter writes what `ISO8601DateFormatter` wrote before it (S3's shape), in UTC.
    @Test(arguments: [0.0, 1_764_185_742.123, 1_764_185_742.9996, 951_782_400.5])
    func matchesISO8601DateFormatter(seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        let reference = ISO8601DateFormatter()
        #expect(Timestamp.string(date, fractional: false) == reference.string(from: date))
        reference.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(Timestamp.string(date) == reference.string(from: date))
    }
}

struct FolderParentTests {
    /// `dirname`'s answers, less its "." for a bare name; one-character paths too (Foundation traps on them).
    @Test(arguments: [
        ("x", ""), ("ab", ""), ("x/", ""), ("./x", "."), ("/x", "/"), ("/", "/"), ("a/b", "a"), ("a//b", "a"),
        ("/tmp/s/x.jpg", "/tmp/s"), ("/tmp/s/", "/tmp"),
    ])
    func parent(path: String, folder: String) {
        #expect(Folder.parent(of: path) == folder)
    }
}
