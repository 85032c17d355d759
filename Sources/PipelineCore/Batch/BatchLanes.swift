// `batch -j N` keeps N cores busy, not N files: a file gives its core up while it waits for the disk.
import Foundation

/// The cores a batch keeps busy. A file holds a lane while it computes (read, hash, decode, encode, metadata) and
/// gives it up while it waits: for its outputs' writes and fsyncs, or for another copy of its content. Another
/// file computes meanwhile, so the disk's waits no longer leave a core idle; `BatchRunner` keeps twice as many
/// files in flight as lanes.
final class BatchLanes: Sendable {
    private let slots: AsyncSlots

    /// - Parameter count: the jobs (`-j`).
    init(_ count: Int) { slots = AsyncSlots(max(1, count)) }

    /// Runs `body` holding a lane.
    func holding<T: Sendable>(_ body: () async -> T) async -> T {
        await slots.acquire()
        let value = await body()
        slots.release()
        return value
    }

    /// Runs `body` with the caller's lane given up, then takes a lane again. Only for a caller inside `holding`.
    func away<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        slots.release()
        let result: Result<T, any Error>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        await slots.acquire()
        return try result.get()
    }
}

/// Where a batch file's function outputs are written: on `StoreWriteThreads`, only once the file's original
/// (written beside the functions' work) is durable, with the file's lane given to another file meanwhile, and never
/// once a second Ctrl-C stopped the run (`BatchHardStop`).
struct BatchOutputWriter: OutputWriter {
    /// The original's write; its value says whether it wrote (`false`: already stored).
    let original: Task<Bool, any Error>
    let lanes: BatchLanes
    let hardStop: BatchHardStop

    func write<T: Sendable>(_ write: @escaping @Sendable () throws -> T) async throws -> T {
        let hardStop = self.hardStop
        return try await lanes.away {
            _ = try await original.value
            return try await StoreWriteThreads.shared.run { try hardStop.write(write) }
        }
    }
}
