// The seam between the ways in that take a dropped file's path (the upload watcher, the fetch function's import)
// and serve's HTTP API, whose ids may name the same bytes: the original is stored in the content's turn and, when
// API ids name it, its hash becomes an id of its own, so deleting those ids leaves the dropped picture.
import Dispatch
import ImageCore
import Locking

/// Stores a dropped or imported picture's original in its content's turn and keeps it apart from the HTTP API's
/// ids. `serve` passes one (`IndexedContentNaming`: the fetch service's index and content locks); `batch`, which
/// has no API ids, passes none.
public protocol DroppedContentNaming: Sendable {
    /// Runs `store` (install the original, journal its `ObjectCreated`) holding the content's lock, so no DELETE of
    /// an id of the same bytes removes the original in between; then, when ids of the HTTP API name the content
    /// and its hash is not one of them, makes the hash an id of its own, named `name`.
    /// - Parameters:
    ///   - hash: the content's hash.
    ///   - format: its format.
    ///   - size: its size in bytes.
    ///   - name: what the picture arrived as (the dropped file's name, the imported URL).
    ///   - store: the work to do in the content's turn, run off the concurrency pool (it writes files).
    /// - Returns: what `store` returned.
    func storing<T: Sendable>(
        _ hash: ContentHash, format: ImageFormat, size: Int, name: String,
        _ store: @escaping @Sendable () throws -> T
    ) async throws -> T
}

extension DroppedContentNaming {
    /// `storing` for a caller on a thread of its own, which waits (the watcher's Dispatch queues; never call it on
    /// the concurrency pool, whose threads the lock's holder may need).
    public func storingAndWaiting<T: Sendable>(
        _ hash: ContentHash, format: ImageFormat, size: Int, name: String,
        _ store: @escaping @Sendable () throws -> T
    ) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let outcome = Locked<Result<T, any Error>?>(nil)
        Task {
            let result: Result<T, any Error>
            do {
                result = .success(try await storing(hash, format: format, size: size, name: name, store))
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        // Set before the signal.
        return try outcome.withLock { $0 }!.get()
    }
}
