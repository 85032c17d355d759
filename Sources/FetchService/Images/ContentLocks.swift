// One content's turn: what names a content and whether its original is in the store change together, so a PUT of
// the same bytes never sees a DELETE half done (the id gone, the original not yet) and takes it for a dropped file.
import PipelineCore
import Synchronization

/// Serialises the changes that decide whether a content stays in the store: an id moving to it or away from it,
/// its original installed or removed. Held briefly (index rows and one file), never across function invocations.
public protocol ContentLocks: Sendable {
    /// Runs `body` while no other holder of the same content's lock runs (in this process, and in every process
    /// sharing the store when the implementation is shared). Locks of different contents never wait on each other;
    /// `body` must not take another content's lock.
    func withLock<T: Sendable>(on hash: ContentHash, _ body: () async throws -> T) async throws -> T
}

/// A content lock for one process (SQLite mode: one `serve` per store): waiters queue in arrival order.
public final class LocalContentLocks: ContentLocks {
    /// The held contents, each with its waiters (resumed one at a time, in order).
    private let held = Mutex<[ContentHash: [CheckedContinuation<Void, Never>]]>([:])
    /// The most contents locked at once (`nil`: no bound); a shared implementation bounds its sessions with it.
    private let limit: Int?
    /// Acquisitions waiting only for the bound (their content was free).
    private let overLimit = Mutex<[(ContentHash, CheckedContinuation<Void, Never>)]>([])

    /// - Parameter limit: the most contents locked at once; `nil`: unbounded.
    public init(limit: Int? = nil) {
        self.limit = limit
    }

    public func withLock<T: Sendable>(on hash: ContentHash, _ body: () async throws -> T) async throws -> T {
        await acquire(hash)
        defer { release(hash) }
        return try await body()
    }

    /// How many wait for a content's lock now (tests use it to see a request queued behind another).
    public func waiting(on hash: ContentHash) -> Int {
        let queued = held.withLock { $0[hash]?.count ?? 0 }
        return queued + overLimit.withLock { $0.filter { $0.0 == hash }.count }
    }

    private func acquire(_ hash: ContentHash) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = held.withLock { held -> Bool in
                if held[hash] != nil {
                    held[hash]?.append(continuation)
                    return false
                }
                if let limit, held.count >= limit {
                    overLimit.withLock { $0.append((hash, continuation)) }
                    return false
                }
                held[hash] = []
                return true
            }
            if granted { continuation.resume() }
        }
    }

    private func release(_ hash: ContentHash) {
        let next = held.withLock { held -> CheckedContinuation<Void, Never>? in
            // The content's next waiter takes the lock over; else it is free, and a bounded waiter may start.
            if var waiters = held[hash], !waiters.isEmpty {
                let first = waiters.removeFirst()
                held[hash] = waiters
                return first
            }
            held[hash] = nil
            return overLimit.withLock { overLimit -> CheckedContinuation<Void, Never>? in
                guard let position = overLimit.firstIndex(where: { held[$0.0] == nil }) else { return nil }
                let (waiting, continuation) = overLimit.remove(at: position)
                held[waiting] = []
                return continuation
            }
        }
        next?.resume()
    }
}
