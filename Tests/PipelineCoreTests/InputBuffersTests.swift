// batch reads its large inputs into mappings it reuses (`InputBuffers`): a reused mapping must hold exactly the new
// file's bytes (none of the file read into it before), the set must keep no more mappings than it was told, and a
// file read through it must be the same bytes and hash as one read on its own.
import Foundation
import Testing

@testable import PipelineCore

struct InputBuffersTests {
    /// A file of `count` pseudo-random bytes (seeded) in a fresh folder.
    static func file(_ count: Int, seed: UInt64, in folder: URL, name: String) throws -> String {
        var state = seed
        let bytes = (0..<count).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        let path = folder.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The bytes of a new file of `count` bytes, read through `buffers`.
    static func read(_ count: Int, seed: UInt64, in folder: URL, through buffers: InputBuffers) throws -> Data {
        let path = try file(count, seed: seed, in: folder, name: "\(seed).bin")
        return try InputFile.read(path, maxBytes: nil, hashing: false, buffers: buffers).data
    }

    static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "picpipe-buffers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func aReusedMappingHoldsOnlyTheNextFilesBytes() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let large = try Self.file(3_000_000, seed: 1, in: folder, name: "large.bin")
        let smaller = try Self.file(2_500_001, seed: 2, in: folder, name: "smaller.bin")
        let buffers = InputBuffers(keeping: 1)
        var first: UnsafeRawPointer?
        do {
            let (data, hash) = try InputFile.read(large, maxBytes: nil, hashing: true, buffers: buffers)
            first = data.withUnsafeBytes { $0.baseAddress }
            #expect(data == (try Data(contentsOf: URL(fileURLWithPath: large))))
            #expect(hash == data.withUnsafeBytes { ContentHash(of: $0) })
        }
        #expect(buffers.keptCount == 1)
        let (data, hash) = try InputFile.read(smaller, maxBytes: nil, hashing: true, buffers: buffers)
        // The same mapping, taken from the set again (none kept meanwhile), holding the smaller file and no more.
        #expect(data.withUnsafeBytes { $0.baseAddress } == first)
        #expect(buffers.keptCount == 0)
        #expect(data.count == 2_500_001)
        #expect(data == (try Data(contentsOf: URL(fileURLWithPath: smaller))))
        #expect(hash == data.withUnsafeBytes { ContentHash(of: $0) })
    }

    @Test func theSetKeepsNoMoreThanItWasTold() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let buffers = InputBuffers(keeping: 2)
        do {
            // Five files held at once: five mappings; when they go, two are kept, three unmapped.
            let held = try (0..<5).map { index in
                try Self.read(2_100_000 + index * 1_100_000, seed: UInt64(index), in: folder, through: buffers)
            }
            #expect(Set(held.map { $0.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) } }).count == 5)
            #expect(buffers.keptCount == 0)
        }
        #expect(buffers.keptCount == 2)
        // The smallest ones stay (the largest go first): a 2.2 MB file fits the smallest kept one (3 MiB).
        let again = try Self.read(2_200_000, seed: 9, in: folder, through: buffers)
        #expect(again.count == 2_200_000)
        #expect(buffers.keptCount == 1)
    }

    @Test func aMappingForAnUnusuallyLargeFileIsNotKept() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Mappings up to 3 MiB are kept: the 2.5 MB file's is, the 3.5 MB file's (4 MiB) is not.
        let buffers = InputBuffers(keeping: 4, largestKept: 3 << 20)
        do {
            let usual = try Self.read(2_500_000, seed: 4, in: folder, through: buffers)
            let large = try Self.read(3_500_000, seed: 5, in: folder, through: buffers)
            #expect(usual.count + large.count == 6_000_000)
        }
        #expect(buffers.keptCount == 1)
        // The one kept is the 3 MiB one: a 3.2 MB file does not fit it and gets a new mapping.
        let next = try Self.read(3_200_000, seed: 6, in: folder, through: buffers)
        #expect(next.count == 3_200_000)
        #expect(buffers.keptCount == 1)
    }

    @Test func smallFilesDoNotTakeAMapping() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let buffers = InputBuffers(keeping: 2)
        let path = try Self.file(InputFile.mappedBufferThreshold - 1, seed: 3, in: folder, name: "small.bin")
        do {
            let (data, _) = try InputFile.read(path, maxBytes: nil, hashing: false, buffers: buffers)
            #expect(data == (try Data(contentsOf: URL(fileURLWithPath: path))))
        }
        #expect(buffers.keptCount == 0)
    }
}
