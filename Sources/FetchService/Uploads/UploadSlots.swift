// A cap on uploads received at once: each holds a socket, a temporary file and a hash state.
import Locking

/// Counts the uploads in progress against `limit`.
package final class UploadSlots: Sendable {
    /// The most uploads at once.
    package let limit: Int
    private let inUse = Locked(0)

    init(limit: Int) { self.limit = max(1, limit) }

    /// A slot, or `nil` when all are taken.
    package func take() -> Slot? {
        let taken = inUse.withLock { count -> Bool in
            guard count < limit else { return false }
            count += 1
            return true
        }
        return taken ? Slot(owner: self) : nil
    }

    /// One upload's place; `release()` gives it back.
    package struct Slot: Sendable {
        let owner: UploadSlots
        package func release() { owner.inUse.withLock { $0 -= 1 } }
    }

    /// Uploads in progress (for tests and metrics).
    var count: Int { inUse.withLock { $0 } }
}
