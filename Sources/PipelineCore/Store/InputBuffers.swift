// Anonymous mappings that input files are read into, kept for the next file when a file's bytes are let go. A fresh
// mapping costs a page fault per 4 KiB on first touch (the kernel zeroes each page) and a TLB shoot-down on every core
// when it is unmapped: `perf` of `batch jpeg12 -j 2` put 80 % of its 17,000 page faults, about 6 % of its CPU, in
// reading the inputs into new mappings. A batch reuses a few of them instead: at most as many as it has files in
// flight, so its peak memory is what it was, and none made for an unusually large file.
import Foundation
import Locking

#if canImport(Glibc)
import Glibc
#endif

/// A small set of page-aligned mappings to read input files into, reused from one file to the next.
public final class InputBuffers: Sendable {
    /// A mapping not in use: its address and its length.
    private struct Mapping {
        var address: UInt
        var capacity: Int
    }

    private let free = Locked<[Mapping]>([])
    /// The most mappings kept when not in use (the rest are unmapped).
    public let keeping: Int
    /// The largest mapping kept: one made for an unusually large file is unmapped when that file's bytes go, rather
    /// than held for the rest of the batch.
    public let largestKept: Int

    /// - Parameters:
    ///   - keeping: how many unused mappings are kept for later files (a batch: its files in flight).
    ///   - largestKept: mappings larger than this are never kept.
    public init(keeping: Int, largestKept: Int = 64 << 20) {
        self.keeping = max(0, keeping)
        self.largestKept = largestKept
    }

    deinit {
        for mapping in free.withLock({ $0 }) { Self.unmap(mapping) }
    }

    /// Mappings are made in steps of this many bytes, so that files of about the same size share them.
    static let step = 1 << 20

    /// A buffer of `count` bytes (its contents undefined) that goes back to this set when the last copy of the `Data`
    /// goes. Reuses the smallest kept mapping that is large enough; when none is, maps a new one (in whole steps).
    func data(count: Int, path: String) throws -> Data {
        let taken = free.withLock { free -> Mapping? in
            let fitting = free.indices.filter { free[$0].capacity >= count }
            guard let index = fitting.min(by: { free[$0].capacity < free[$1].capacity }) else { return nil }
            return free.remove(at: index)
        }
        let mapping = try taken ?? Self.map(capacity: (count + Self.step - 1) / Self.step * Self.step, path: path)
        return Data(
            bytesNoCopy: UnsafeMutableRawPointer(bitPattern: mapping.address)!, count: count,
            // The mapping's own length, not the count Data passes (it shrinks when the read came up short).
            deallocator: .custom { [self] _, _ in giveBack(mapping) })
    }

    /// How many unused mappings are kept now (for tests).
    var keptCount: Int { free.withLock { $0.count } }

    private func giveBack(_ mapping: Mapping) {
        // Past `keeping`, the largest kept one is unmapped (the one most likely to be more than later files need).
        guard mapping.capacity <= largestKept else { return Self.unmap(mapping) }
        let dropped = free.withLock { free -> Mapping? in
            free.append(mapping)
            guard free.count > keeping else { return nil }
            let largest = free.indices.max { free[$0].capacity < free[$1].capacity }!
            return free.remove(at: largest)
        }
        if let dropped { Self.unmap(dropped) }
    }

    private static func map(capacity: Int, path: String) throws -> Mapping {
        guard let pointer = mmap(nil, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            pointer != MAP_FAILED
        else { throw StoreError.io(path: path, operation: "mmap", errno: errno) }
        return Mapping(address: UInt(bitPattern: pointer), capacity: capacity)
    }

    private static func unmap(_ mapping: Mapping) {
        munmap(UnsafeMutableRawPointer(bitPattern: mapping.address), mapping.capacity)
    }
}
