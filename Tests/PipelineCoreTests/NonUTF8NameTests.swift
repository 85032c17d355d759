// Names that are not UTF-8 (a Latin-1 `café.jpg` from an old archive or share): the watcher renames such an upload
// to a UTF-8 name and takes it; a batch names it and passes over it. Before, both went by without a word (the
// watcher) or with a wrong reason (batch), because no Swift string names such a file.
import Foundation
import Testing

@testable import PipelineCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct NonUTF8NameTests {
    static let latin1Cafe: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".jpg".utf8)

    /// Makes a file or folder by the bytes of its name.
    static func make(_ name: [UInt8], in folder: URL, folder isFolder: Bool = false, bytes: [UInt8] = [1, 2, 3]) {
        let path = Array(folder.path.utf8) + [UInt8(ascii: "/")] + name + [0]
        path.withUnsafeBufferPointer { raw in
            let cPath = UnsafeRawPointer(raw.baseAddress!).assumingMemoryBound(to: CChar.self)
            if isFolder {
                #expect(mkdir(cPath, 0o755) == 0)
            } else {
                let fd = open(cPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                #expect(fd >= 0)
                _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
            }
        }
    }

    /// Sets the time a folder (or file) last changed, in seconds since 1970.
    static func date(_ name: [UInt8], in folder: URL, to seconds: Int) {
        let path = Array(folder.path.utf8) + [UInt8(ascii: "/")] + name + [0]
        path.withUnsafeBufferPointer { raw in
            let cPath = UnsafeRawPointer(raw.baseAddress!).assumingMemoryBound(to: CChar.self)
            var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, cPath, &times, 0) == 0)
        }
    }

    @Test func repairedNamesEscapeOnlyTheBytesThatAreNotUTF8() {
        #expect(UploadName.utf8Repaired(Array("café.jpg".utf8)) == nil)
        #expect(UploadName.utf8Repaired(Self.latin1Cafe) == "caf%E9.jpg")
        // A valid two-byte character beside a stray byte; a cut sequence; an overlong "/"; a UTF-16 surrogate.
        #expect(UploadName.utf8Repaired(Array("é".utf8) + [0xFF]) == "é%FF")
        #expect(UploadName.utf8Repaired([0x61, 0xC3]) == "a%C3")
        #expect(UploadName.utf8Repaired([0xC0, 0xAF]) == "%C0%AF")
        #expect(UploadName.utf8Repaired([0xED, 0xA0, 0x80, 0x41]) == "%ED%A0%80A")
        #expect(UploadName.utf8Repaired([0x0F, 0xFE]) == "\u{0F}%FE")
    }

    /// A complete file is renamed and yielded under its new name, whether it was there at start (the first rescan)
    /// or closed by its writer while watched; a second file whose repaired name is taken gets a number. The bytes
    /// are the file's own.
    @Test func theWatcherRenamesAnUploadAndYieldsIt() async throws {
        let there = { (root: URL) in Self.make(Self.latin1Cafe, in: root, bytes: [7]) }
        try await UploadWatcherTests.watching(prepare: there) { root, _, yielded in
            let renamed = root.appendingPathComponent("caf%E9.jpg").path
            try await FunctionRuntimeTests.eventually("the file there at start") { yielded.count(renamed) >= 1 }
            #expect(try Data(contentsOf: URL(fileURLWithPath: renamed)) == Data([7]))
            // The same name again, while watched: the repaired name is taken now.
            Self.make(Self.latin1Cafe, in: root, bytes: [8])
            let numbered = root.appendingPathComponent("caf%E9.2.jpg").path
            try await FunctionRuntimeTests.eventually("the file closed while watched") { yielded.count(numbered) >= 1 }
            #expect(try Data(contentsOf: URL(fileURLWithPath: numbered)) == Data([8]))
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() == [
                    "caf%E9.2.jpg", "caf%E9.jpg",
                ])
        }
    }

    /// A folder is renamed by a rescan once nothing changed in it for a while (a copy may still be filling it by its
    /// old name), then its files are yielded under the new folder's name.
    @Test func aFolderIsRenamedByARescanOnceSettled() async throws {
        try await UploadWatcherTests.watching { root, watcher, yielded in
            let folderName: [UInt8] = Array("r".utf8) + [0xE9] + Array("sum".utf8)
            Self.make(folderName, in: root, folder: true)
            Self.make(folderName + Array("/a.jpg".utf8), in: root, bytes: [1])
            // Changed an hour from now (however slow this test runs, it is "just changed"): left alone.
            Self.date(folderName, in: root, to: Int(Date().timeIntervalSince1970) + 3600)
            try await UploadWatcherTests.settle()
            #expect(yielded.all.isEmpty, "nothing taken while it may still be filling")
            watcher.requestRescan()
            try await UploadWatcherTests.settle()
            #expect(yielded.all.isEmpty, "taken while it may still be filling")
            // Changed in 2001: settled.
            Self.date(folderName, in: root, to: 1_000_000_000)
            watcher.requestRescan()
            let file = root.appendingPathComponent("r%E9sum/a.jpg").path
            try await FunctionRuntimeTests.eventually("the folder's file") { yielded.count(file) >= 1 }
        }
    }

    /// Without rescans (`rescan_interval` 0, the default), a folder made while watched is looked at again once it
    /// may have settled: renamed and its files yielded, without a restart or a rescan asked for. Before, it waited
    /// for one.
    @Test func aFolderMadeWhileWatchedIsTakenOnceSettledWithoutARescan() async throws {
        try await UploadWatcherTests.watching { root, _, yielded in
            let folderName: [UInt8] = Array("d".utf8) + [0xE9] + Array("j".utf8) + [0xE0]
            Self.make(folderName, in: root, folder: true)
            Self.make(folderName + Array("/b.jpg".utf8), in: root, bytes: [2])
            let file = root.appendingPathComponent("d%E9j%E0/b.jpg").path
            try await FunctionRuntimeTests.eventually("the folder's file", within: 20) { yielded.count(file) >= 1 }
            #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == Data([2]))
        }
    }

    /// A batch leaves its inputs' names alone: the file is named, with why, and passed over.
    @Test func aBatchNamesTheFileAndPassesOverIt() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("picpipe-names-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        Self.make(Self.latin1Cafe, in: folder)
        try Data([1]).write(to: folder.appendingPathComponent("ok.jpg"))
        let discovery = BatchInput.discover([folder.path])
        #expect(discovery.inputs.map(\.path) == [folder.appendingPathComponent("ok.jpg").path])
        #expect(
            discovery.passedOver == [
                "\(folder.path)/caf%E9.jpg: its name is not UTF-8 (the bytes shown as %XX); rename it to take it in"
            ])
    }

    /// One name spelt in NFC and in NFD is two files on Linux, and a batch takes both, from a folder and named
    /// (until session 29 Swift's `String` equality made them one input: one picture dropped without a word).
    @Test func aBatchTakesBothSpellingsOfOneName() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("picpipe-names-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let composed = folder.path + "/Caf\u{E9}.jpg"
        let decomposed = folder.path + "/Cafe\u{301}.jpg"
        #expect(FileManager.default.createFile(atPath: composed, contents: Data([1])))
        #expect(FileManager.default.createFile(atPath: decomposed, contents: Data([2])))
        for inputs in [[folder.path], [composed, decomposed]] {
            let paths = BatchInput.discover(inputs).inputs.map { Array($0.path.utf8) }
            #expect(Set(paths) == [Array(composed.utf8), Array(decomposed.utf8)], "\(inputs)")
        }
    }

    /// One folder given twice under two spellings, or through a link, is searched once and each file taken once
    /// (until session 29 each input kept its own memory: `batch d ./d` counted and reported every file twice).
    @Test func aFolderGivenTwiceIsSearchedOnce() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("picpipe-names-\(UUID().uuidString)")
        let folder = work.appendingPathComponent("d")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        try Data([1]).write(to: folder.appendingPathComponent("a.jpg"))
        try Data([2]).write(to: folder.appendingPathComponent("b.jpg"))
        #expect(symlink(folder.path, work.appendingPathComponent("link").path) == 0)
        for second in [work.path + "/./d", work.appendingPathComponent("link").path, folder.path + "/a.jpg"] {
            let discovery = BatchInput.discover([folder.path, second])
            #expect(discovery.inputs.map(\.path) == [folder.path + "/a.jpg", folder.path + "/b.jpg"], "\(second)")
        }
        let twice = BatchInput.discover([folder.path, work.appendingPathComponent("link").path])
        #expect(twice.passedOver.count == 1 && twice.passedOver[0].contains("already searched"), "\(twice.passedOver)")
    }
}
