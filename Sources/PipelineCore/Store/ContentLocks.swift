// One content's turn: what names a content and whether its original is in the store change together, so a PUT of
// the same bytes never sees a DELETE half done (the id gone, the original not yet) and takes it for a dropped file,
// and a function never writes the outputs of an original a DELETE has removed (`FunctionContext.writeOutputs(of:)`).
import Synchronization

/// Serialises the changes that decide whether a content stays in the store: an id moving to it or away from it,
/// its original installed or removed, and a function's outputs written beside it. Held briefly (index rows and a file
/// or two), never across function invocations.
public protocol ContentLocks: Sendable {
    /// Runs `body` while no other holder of any of these contents' locks runs (in this process, and in every
    /// process sharing the store when the implementation is shared). A PUT holds the content it names and the one
    /// the id named before, so the old content's removal and the new one's naming are one step. Locks are taken in
    /// the contents' order, all at once: `body` must not take more.
    func withLocks<T: Sendable>(on hashes: [ContentHash], _ body: () async throws -> T) async throws -> T
}

extension ContentLocks {
    /// `withLocks` on one content.
    public func withLock<T: Sendable>(on hash: ContentHash, _ body: () async throws -> T) async throws -> T {
        try await withLocks(on: [hash], body)
    }
}

/// A content lock for one process (SQLite mode: one `serve` per store): waiters queue in arrival order.
public final class LocalContentLocks: ContentLocks {
    /// The held contents, each with its waiters (resumed one at a time, in order).
    private let held = Mutex<[ContentHash: [CheckedContinuation<Void, Never>]]>([:])
    /// Holders' slots (a shared implementation's sessions; unbounded: `Int.max`).
    private let slots: AsyncSlots

    /// - Parameter limit: the most holders at once (each may hold several contents); `nil`: unbounded.
    public init(limit: Int? = nil) {
        slots = AsyncSlots(limit ?? Int.max)
    }

    public func withLocks<T: Sendable>(on hashes: [ContentHash], _ body: () async throws -> T) async throws -> T {
        // A slot first, then the contents in their order: a holder waiting for a content never holds what another
        // holder of that content waits for.
        let ordered = Set(hashes).sorted()
        await slots.acquire()
        defer { slots.release() }
        for hash in ordered { await acquire(hash) }
        defer { for hash in ordered.reversed() { release(hash) } }
        return try await body()
    }

    /// How many wait for a content's lock now (tests use it to see a request queued behind another).
    public func waiting(on hash: ContentHash) -> Int {
        held.withLock { $0[hash]?.count ?? 0 }
    }

    /// How many wait for a holder's slot now.
    public var waitingForSlots: Int { slots.waiting }

    private func acquire(_ hash: ContentHash) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = held.withLock { held -> Bool in
                if held[hash] != nil {
                    held[hash]?.append(continuation)
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
            // The content's next waiter takes the lock over; else it is free.
            guard var waiters = held[hash], !waiters.isEmpty else {
                held[hash] = nil
                return nil
            }
            let first = waiters.removeFirst()
            held[hash] = waiters
            return first
        }
        next?.resume()
    }
}
