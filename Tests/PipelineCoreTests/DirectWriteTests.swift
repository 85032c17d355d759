// Large originals are written with O_DIRECT around the page cache: the bytes on disk must be the same as a buffered
// write's for every length (whole pages, a tail, under the threshold) and every buffer (page-aligned or not).
import Foundation
import Testing

@testable import PipelineCore

#if canImport(Glibc)
import Glibc
#endif

struct DirectWriteTests {
    /// A page-aligned buffer of `count` pseudo-random bytes (as batch's inputs of 2 MB and more are: their own
    /// anonymous mapping), released after `body`.
    static func withAlignedBytes<T>(_ count: Int, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        let pointer = try #require(mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        try #require(pointer != MAP_FAILED)
        defer { munmap(pointer, count) }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes = pointer.bindMemory(to: UInt8.self, capacity: count)
        for index in 0..<count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes[index] = UInt8(truncatingIfNeeded: state >> 33)
        }
        return try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Whether the file system of `folder` takes O_DIRECT (tmpfs before Linux 6.6 and some FUSE mounts do not).
    static func takesDirect(_ folder: URL) -> Bool {
        let probe = folder.appendingPathComponent("probe-\(UUID().uuidString)").path
        let (descriptor, direct) = DirectWrite.create(probe, direct: true)
        if descriptor >= 0 { close(descriptor) }
        unlink(probe)
        return direct
    }

    @Test(arguments: [
        DirectWrite.threshold - 1, DirectWrite.threshold, DirectWrite.threshold + 1, 5_666_320, 3 * 4096 * 256 + 4095,
    ])
    func theStoredBytesAreTheBufferWhateverTheLength(count: Int) throws {
        try StoreTests.withStore { layout in
            let direct = Self.takesDirect(layout.originals)
            try Self.withAlignedBytes(count) { bytes in
                #expect(DirectWrite.suits(bytes) == (count >= DirectWrite.threshold))
                let target = layout.originals.appendingPathComponent("ab/original-\(count)")
                #expect(try AtomicFile.write(bytes, to: target, overwrite: false))
                #expect(try Data(contentsOf: target) == Data(bytes), "\(count) bytes, direct: \(direct)")
                // The same bytes written directly by hand, to see the pages went around the cache when they could.
                let path = layout.originals.appendingPathComponent("ab/by-hand-\(count)").path
                let (descriptor, opened) = DirectWrite.create(path, direct: DirectWrite.suits(bytes))
                try #require(descriptor >= 0)
                defer { close(descriptor) }
                let written = try DirectWrite.writeAll(bytes, to: descriptor, direct: opened)
                let pages = count / DirectWrite.alignment * DirectWrite.alignment
                #expect(written == (direct && count >= DirectWrite.threshold ? pages : 0))
                #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))
            }
            let names = try FileManager.default.contentsOfDirectory(
                atPath: layout.originals.appendingPathComponent("ab").path)
            #expect(names.filter { $0.hasPrefix(AtomicFile.temporaryPrefix) }.isEmpty)
        }
    }

    /// A buffer that does not start on a page (a `Data` from the heap) is written through the page cache.
    @Test func aBufferOffAPageBoundaryIsWrittenBuffered() throws {
        try StoreTests.withStore { layout in
            try Self.withAlignedBytes(DirectWrite.threshold + 4096 + 1) { whole throws in
                let shifted = UnsafeRawBufferPointer(rebasing: whole[1...])
                #expect(!DirectWrite.suits(shifted))
                let target = layout.originals.appendingPathComponent("cd/shifted")
                #expect(try AtomicFile.write(shifted, to: target))
                #expect(try Data(contentsOf: target) == Data(shifted))
            }
        }
    }

    /// How many of a file's pages are in the page cache (`mincore` on a mapping of it).
    static func residentPages(_ url: URL) throws -> (resident: Int, pages: Int) {
        let descriptor = open(url.path, O_RDONLY)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        var info = stat()
        try #require(fstat(descriptor, &info) == 0)
        let size = Int(info.st_size)
        let mapping = try #require(mmap(nil, size, PROT_READ, MAP_SHARED, descriptor, 0))
        try #require(mapping != MAP_FAILED)
        defer { munmap(mapping, size) }
        let pages = (size + 4095) / 4096
        var vector = [UInt8](repeating: 0, count: pages)
        try #require(mincore(mapping, size, &vector) == 0)
        return (vector.filter { $0 & 1 == 1 }.count, pages)
    }

    /// An original the functions read at once (`serve`'s uploads: `direct: false`) stays in the page cache; one
    /// written past it (batch) does not, where the file system takes O_DIRECT.
    @Test func anOriginalReadSoonIsWrittenThroughThePageCache() throws {
        try StoreTests.withStore { layout in
            let direct = Self.takesDirect(layout.originals)
            try Self.withAlignedBytes(3 * DirectWrite.threshold) { bytes in
                let soon = layout.originals.appendingPathComponent("ef/read-soon")
                #expect(try AtomicFile.write(bytes, to: soon, direct: false))
                #expect(try Data(contentsOf: soon) == Data(bytes))
                let cached = try Self.residentPages(soon)
                #expect(cached.resident == cached.pages, "every page of the original is in the page cache")
                let later = layout.originals.appendingPathComponent("ef/read-later")
                #expect(try AtomicFile.write(bytes, to: later))
                let uncached = try Self.residentPages(later)
                if direct { #expect(uncached.resident == 0, "written past the page cache") }
                #expect(try Data(contentsOf: later) == Data(bytes))
            }
        }
    }
}
